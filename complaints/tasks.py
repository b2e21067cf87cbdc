"""Celery tasks: take ids, load rows, call a service."""

from celery import shared_task

from complaints.models import Complaint, ComplaintEvent, StatusChange
from complaints.services import notifications

# Mail servers fail transiently; retry with backoff rather than lose the message.
_RETRY = {
    "autoretry_for": (OSError,),
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "max_retries": 8,
}


@shared_task(**_RETRY)
def complaint_acknowledge(complaint_id: int) -> bool:
    complaint = Complaint.objects.select_related("customer").filter(pk=complaint_id).first()
    if complaint is None:
        return False
    return notifications.complaint_send_acknowledgment(complaint=complaint)


@shared_task(**_RETRY)
def status_change_notify(status_change_id: int) -> bool:
    change = (
        StatusChange.objects.select_related("complaint__customer", "complaint__merged_into")
        .filter(pk=status_change_id)
        .first()
    )
    if change is None:
        return False
    return notifications.status_change_send(change=change)


@shared_task(**_RETRY)
def reply_deliver(event_id: int) -> bool:
    event = ComplaintEvent.objects.select_related("complaint__customer").filter(pk=event_id).first()
    if event is None:
        return False
    return notifications.reply_send(event=event)


@shared_task
def outbox_deliver(message_id: int) -> bool:
    from complaints.services.outbox import outbox_deliver as deliver

    return deliver(message_id=message_id)


@shared_task
def outbox_deliver_due() -> dict:
    from complaints.services.outbox import outbox_deliver_due as deliver_due

    return deliver_due()
