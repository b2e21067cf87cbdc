"""Celery tasks of inbound mail: take ids, load rows, call a service.

mail_fetch_task is the periodic fetch (add it to CELERY_BEAT_SCHEDULE, e.g. every
minute); overlapping runs are harmless: a message two runs both fetch is stored once.
"""

from __future__ import annotations

import logging

from celery import shared_task

from complaints.models import InboundMessage
from complaints.services import mail
from complaints.services.mailfetch import MailFetchError, imap_settings, mail_fetch

log = logging.getLogger(__name__)


@shared_task
def mail_fetch_task(limit: int = 100) -> dict:
    config = imap_settings()
    if not config["host"]:
        return {"skipped": "MAIL_IMAP_HOST is not set"}
    try:
        summary = mail_fetch(limit=limit, **config)
    except MailFetchError as exc:
        # The next scheduled run tries again; nothing was taken from the server.
        log.error("mail fetch failed: %s", exc)
        return {"error": str(exc)}
    return summary.as_dict()


@shared_task
def inbound_process_task(message_id: int) -> str | None:
    message = InboundMessage.objects.only("pk", "status").filter(pk=message_id).first()
    if message is None:
        return None
    return mail.inbound_process(message=message).status
