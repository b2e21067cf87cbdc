"""Inbound email (受理 by email): keep the raw bytes first, then parse and act.

- `inbound_store` writes the raw message before anything can go wrong with it:
  idempotent by `dedupe_key` (the Message-ID, or a hash of the bytes), so a fetch
  retried after a crash or a mail server's redelivery stores nothing twice.
- `inbound_process` parses it and acts in one transaction: ignore auto-replies,
  bounces and loops; thread replies onto their complaint; create a complaint from
  a new mail; otherwise leave it for a person (status `review`). Any error ends in
  `quarantined` with the error in `note`; the raw bytes stay. It never raises.
- `parse_message` turns the bytes into decoded text (charsets Chinese mail really
  uses, RFC 2047 headers, HTML made plain text, quoted history recognised) and
  attachments.
- `inbound_attach` / `inbound_create_complaint` / `inbound_mark_reviewed`: what a
  staff member does with a message left for review.

Status writes go through `_finish()` (one place, one save).

The modules, in the order a message meets them:

    decoding.py    charsets, RFC 2047 headers, addresses, Message-IDs
    text.py        HTML to plain text, quoted history of a reply
    parsing.py     the MIME walk: ParsedMail, parse_message
    storing.py     inbound_store, inbound_get_or_store (raw bytes first, idempotent)
    rules.py       loops and auto-replies, threading, tracking numbers, guesses
    outcomes.py    statuses, _finish, appending to / creating a complaint
    processing.py  inbound_process, inbound_process_pending (the routing decision)
    review.py      can_review_inbound and the staff actions

This package re-exports the public names, so callers use `mail.inbound_process` and
so on. A test that replaces a function called inside the package patches the module
that defines it (e.g. `mail.processing._act`), not this package.
"""

from complaints.services.mail.decoding import decode_bytes, decode_header_value
from complaints.services.mail.outcomes import MAX_MESSAGE, OPEN_FOR_REVIEW, TERMINAL, Status
from complaints.services.mail.parsing import ParsedAttachment, ParsedMail, parse_message
from complaints.services.mail.processing import inbound_process, inbound_process_pending
from complaints.services.mail.review import (
    can_review_inbound,
    inbound_attach,
    inbound_create_complaint,
    inbound_mark_reviewed,
)
from complaints.services.mail.rules import (
    clean_subject,
    guess_demand,
    guess_language,
    tracking_numbers_in,
)
from complaints.services.mail.storing import inbound_get_or_store, inbound_store
from complaints.services.mail.text import html_to_text, trim_quoted

__all__ = [
    "MAX_MESSAGE",
    "OPEN_FOR_REVIEW",
    "TERMINAL",
    "ParsedAttachment",
    "ParsedMail",
    "Status",
    "can_review_inbound",
    "clean_subject",
    "decode_bytes",
    "decode_header_value",
    "guess_demand",
    "guess_language",
    "html_to_text",
    "inbound_attach",
    "inbound_create_complaint",
    "inbound_get_or_store",
    "inbound_mark_reviewed",
    "inbound_process",
    "inbound_process_pending",
    "inbound_store",
    "parse_message",
    "tracking_numbers_in",
    "trim_quoted",
]
