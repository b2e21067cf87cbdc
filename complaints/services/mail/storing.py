"""Keeping the raw bytes first: `inbound_store` / `inbound_get_or_store` write the
message before anything is parsed, idempotent by `dedupe_key` (the Message-ID, or a hash
of the bytes), so a retried fetch or a redelivery stores nothing twice."""

from __future__ import annotations

import hashlib
import logging
from email import policy
from email.parser import BytesHeaderParser

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from complaints.errors import InvalidInput
from complaints.models import InboundMessage
from complaints.services.mail.decoding import (
    _address,
    _message_ids,
    _raw_header,
    decode_header_value,
)

log = logging.getLogger(__package__)  # one logger for inbound mail, as before the split


def _dedupe_key(raw: bytes, message_id: str) -> str:
    if message_id and len(message_id) <= 255:
        return message_id
    if message_id:
        return "mid-sha256:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _summary_headers(raw: bytes) -> tuple[str, str, str]:
    """(Message-ID, From address, Subject) from the header block, never failing."""
    try:
        head = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
        ids = _message_ids(decode_header_value(_raw_header(head, "Message-ID")))
        _name, address = _address(decode_header_value(_raw_header(head, "From")))
        subject = decode_header_value(_raw_header(head, "Subject"))
        return (ids[0] if ids else ""), address, subject
    except Exception:
        log.warning("Could not read the headers of an inbound message", exc_info=True)
        return "", "", ""


def _find(key: str) -> InboundMessage | None:
    return InboundMessage.objects.filter(dedupe_key=key).first()


def inbound_get_or_store(*, raw: bytes, source: str) -> tuple[InboundMessage, bool]:
    """(message, created): the stored message with this dedupe key, or a new one."""
    if not isinstance(raw, bytes | bytearray | memoryview) or not raw:
        raise InvalidInput(_("An inbound message needs its raw bytes."))
    raw = bytes(raw)
    message_id, address, subject = _summary_headers(raw)
    key = _dedupe_key(raw, message_id)
    existing = _find(key)
    if existing is not None:
        return existing, False
    try:
        # A savepoint: a concurrent insert of the same key leaves the caller usable.
        with transaction.atomic():
            message = InboundMessage.objects.create(
                source=source,
                dedupe_key=key,
                raw=raw,
                size=len(raw),
                message_id=message_id[:255],
                from_address=address[:255],
                subject=subject[:500],
            )
    except IntegrityError:
        existing = _find(key)
        if existing is None:
            raise
        return existing, False
    return message, True


def inbound_store(*, raw: bytes, source: str) -> InboundMessage:
    """Store the raw message (before any parsing); the same message twice is stored once."""
    return inbound_get_or_store(raw=raw, source=source)[0]
