"""`manage.py mail_fetch`: fetch the complaints mailbox once (IMAP) and process the mail.

Settings MAIL_IMAP_HOST, MAIL_IMAP_PORT, MAIL_IMAP_USER, MAIL_IMAP_PASSWORD,
MAIL_IMAP_SECURITY (ssl, starttls, none), MAIL_IMAP_FOLDER and MAIL_IMAP_TIMEOUT;
options override them. Exits non-zero with a readable message when the server
cannot be reached or refuses the login. (The same work runs periodically as the
Celery task complaints.tasks_mail.mail_fetch_task.)
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from complaints.services.mailfetch import (
    SECURITY_CHOICES,
    MailFetchError,
    imap_settings,
    mail_fetch,
)


class Command(BaseCommand):
    help = "Fetch new mail from the complaints mailbox once (IMAP) and process it."

    def add_arguments(self, parser):
        parser.add_argument("--host", help="IMAP server (default: MAIL_IMAP_HOST)")
        parser.add_argument("--port", type=int, help="port (default: MAIL_IMAP_PORT, or 993/143)")
        parser.add_argument("--user", help="login (default: MAIL_IMAP_USER)")
        parser.add_argument(
            "--password",
            help="password (default: MAIL_IMAP_PASSWORD; prefer the setting: "
            "a command line is visible to other users of the machine)",
        )
        parser.add_argument(
            "--security", choices=SECURITY_CHOICES, help="default: MAIL_IMAP_SECURITY"
        )
        parser.add_argument("--folder", help="default: MAIL_IMAP_FOLDER or INBOX")
        parser.add_argument("--limit", type=int, default=100, help="at most this many messages")
        parser.add_argument("--timeout", type=int, help="seconds (default: MAIL_IMAP_TIMEOUT)")

    def handle(self, *args, **options):
        config = imap_settings()
        for name in ("host", "port", "user", "password", "security", "folder", "timeout"):
            if options.get(name) is not None:
                config[name] = options[name]
        if not config["host"]:
            raise CommandError("No IMAP server: set MAIL_IMAP_HOST or pass --host.")
        if options["limit"] < 1:
            raise CommandError("--limit must be at least 1.")
        try:
            summary = mail_fetch(limit=options["limit"], **config)
        except MailFetchError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"mail_fetch: {summary}")
        for error in summary.errors:
            self.stderr.write(f"mail_fetch: {error}")
