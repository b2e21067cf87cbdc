"""Celery tasks of webhook deliveries: take ids, call the service."""

from celery import shared_task


@shared_task(name="complaints.tasks_webhooks.webhook_deliver")
def webhook_deliver(delivery_id: int) -> bool:
    from complaints.services.webhooks import webhook_deliver as deliver

    return deliver(delivery_id=delivery_id)


@shared_task(name="complaints.tasks_webhooks.webhook_deliver_due")
def webhook_deliver_due() -> dict:
    from complaints.services.webhooks import webhook_deliver_due as deliver_due

    return deliver_due()
