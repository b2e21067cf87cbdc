"""Celery tasks: take ids, load rows, call a service."""

from celery import shared_task

# Celery's autodiscovery imports this module only: the other task modules register here.
from complaints import (  # noqa: F401
    tasks_analytics,
    tasks_escalation,
    tasks_loop,
    tasks_mail,
    tasks_sla,
    tasks_webhooks,
)


@shared_task(name="complaints.tasks.outbox_deliver")
def outbox_deliver(message_id: int) -> bool:
    from complaints.services.outbox import outbox_deliver as deliver

    return deliver(message_id=message_id)


@shared_task(name="complaints.tasks.outbox_deliver_due")
def outbox_deliver_due() -> dict:
    from complaints.services.outbox import outbox_deliver_due as deliver_due

    return deliver_due()


@shared_task(name="complaints.tasks.housekeeping_purge")
def housekeeping_purge() -> dict:
    from complaints.services.housekeeping import housekeeping_purge as purge

    return purge()
