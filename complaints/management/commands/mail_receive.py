"""`manage.py mail_receive`: take one raw RFC 822 message on standard input (as a mail
server's pipe delivers it), store it, then process it.

Exit status, as a mail server reads it (sysexits.h):
- 0: stored (even when its processing ended in review or quarantine: the raw bytes
  are safe and a person can see them);
- 75 (EX_TEMPFAIL): it could not be stored (database down…): the server keeps the
  message and retries later;
- 65 (EX_DATAERR): standard input was empty, or over 50 MB: retrying cannot help
  (the server bounces it, so the sender learns of it).

Postfix example (master.cf): complaints unix - n n - - pipe
  flags=Rq user=complaints argv=/srv/complaints/.venv/bin/python /srv/complaints/manage.py mail_receive
"""

from __future__ import annotations

import logging
import sys

from django.core.management.base import BaseCommand, CommandError

from complaints.models import InboundMessage
from complaints.services import mail

log = logging.getLogger(__name__)

EX_DATAERR = 65
EX_TEMPFAIL = 75
MAX_BYTES = 50 * 1024 * 1024


class Command(BaseCommand):
    help = "Store and process one raw email message read from standard input."
    # call_command("mail_receive", stdin=io.BytesIO(raw)) in tests and scripts.
    stealth_options = ("stdin",)
    # Checks query the database before handle(): an outage there must still end in
    # EX_TEMPFAIL, not a traceback (exit 1, which a mail server treats as a bounce).
    # They run at deploy time anyway; a pipe runs once per message.
    requires_system_checks = []

    def handle(self, *args, **options):
        stream = options.get("stdin") or sys.stdin
        stream = getattr(stream, "buffer", stream)  # bytes, whatever the locale says
        if stream is None:
            raise CommandError("No standard input.", returncode=EX_DATAERR)
        raw = stream.read(MAX_BYTES + 1)
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if not raw or not raw.strip():
            raise CommandError("No message on standard input.", returncode=EX_DATAERR)
        if len(raw) > MAX_BYTES:
            # Refused like a mail server's size limit: the sender is told, nothing is cut.
            raise CommandError(
                f"The message is larger than {MAX_BYTES} bytes.", returncode=EX_DATAERR
            )
        try:
            message, created = mail.inbound_get_or_store(raw=raw, source=InboundMessage.Source.PIPE)
        except Exception as exc:
            log.exception("Could not store an inbound message")
            raise CommandError(
                f"Could not store the message ({exc}); try again later.", returncode=EX_TEMPFAIL
            ) from exc
        message = mail.inbound_process(message=message)
        state = "stored" if created else "already stored"
        self.stdout.write(f"mail_receive: {state} #{message.pk}: {message.status}")
