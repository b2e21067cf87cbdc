"""Celery tasks: take ids, load rows, call a service."""

from celery import shared_task


@shared_task
def outbox_deliver(message_id: int) -> bool:
    from complaints.services.outbox import outbox_deliver as deliver

    return deliver(message_id=message_id)


@shared_task
def outbox_deliver_due() -> dict:
    from complaints.services.outbox import outbox_deliver_due as deliver_due

    return deliver_due()
