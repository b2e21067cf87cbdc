"""Fetching the complaints mailbox over IMAP.

For each message not yet deleted (oldest first, at most `limit`):

1. FETCH (BODY.PEEK[]): reading does not mark it, so a crash leaves it as it was;
2. `inbound_store`: the raw bytes are committed in our database;
3. only then it is marked on the server: UID STORE +FLAGS.SILENT (\\Seen \\Deleted);
   the marked messages are expunged at the end of the run (UID EXPUNGE with UIDPLUS,
   so a message someone else flagged \\Deleted in between is not taken with them);
4. `inbound_process`.

The mailbox is a queue, not an archive: our database keeps the raw bytes of every
message. A crash between 2 and 3 means the next run fetches the message again and
`inbound_store` finds the stored row (same Message-ID or same bytes): nothing is
created twice. A message that cannot be fetched or stored is logged, left on the
server and tried again next run; the others go on. Messages stored but never
processed (a crash between 3 and 4) are processed at the end of every run.

Call it outside a transaction: step 2 must really commit before step 3.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from complaints.models import InboundMessage
from complaints.services import mail

log = logging.getLogger(__name__)

SECURITY_CHOICES = ("ssl", "starttls", "none")
_DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "none": 143}


class MailFetchError(Exception):
    """The mail server cannot be reached, refuses the login or has no such folder."""


@dataclass
class FetchSummary:
    found: int = 0  # messages on the server this run looked at
    stored: int = 0  # newly stored in our database
    duplicates: int = 0  # stored before (a retried run): not stored again
    failed: int = 0  # could not be fetched or stored: left on the server for next run
    removed: int = 0  # marked deleted on the server
    recovered: int = 0  # stored by an earlier run but never processed
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())) or "-"
        return (
            f"found {self.found}, stored {self.stored}, already stored {self.duplicates}, "
            f"failed {self.failed}, removed from server {self.removed}, "
            f"recovered {self.recovered}; outcomes: {outcomes}"
        )


def imap_settings() -> dict[str, Any]:
    """mail_fetch's arguments from the settings (MAIL_IMAP_*)."""
    return {
        "host": getattr(settings, "MAIL_IMAP_HOST", ""),
        "port": int(getattr(settings, "MAIL_IMAP_PORT", 0) or 0) or None,
        "user": getattr(settings, "MAIL_IMAP_USER", ""),
        "password": getattr(settings, "MAIL_IMAP_PASSWORD", ""),
        "security": getattr(settings, "MAIL_IMAP_SECURITY", "ssl") or "ssl",
        "folder": getattr(settings, "MAIL_IMAP_FOLDER", "INBOX") or "INBOX",
        "timeout": int(getattr(settings, "MAIL_IMAP_TIMEOUT", 60) or 60),
    }


def _text(exc: BaseException) -> str:
    """imaplib puts the server's answer in bytes: show it as text."""
    parts = [a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a) for a in exc.args]
    return " ".join(parts) or type(exc).__name__


def _quote(folder: str) -> str:
    if folder.startswith('"') or not any(c in folder for c in ' "\\(){%*'):
        return folder
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _connect(*, host: str, port: int, security: str, timeout: int) -> imaplib.IMAP4:
    try:
        if security == "ssl":
            return imaplib.IMAP4_SSL(
                host, port, ssl_context=ssl.create_default_context(), timeout=timeout
            )
        imap = imaplib.IMAP4(host, port, timeout=timeout)
        if security == "starttls":
            imap.starttls(ssl_context=ssl.create_default_context())
        return imap
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailFetchError(
            _("Cannot reach the mail server %(host)s:%(port)s (%(security)s): %(error)s")
            % {"host": host, "port": port, "security": security, "error": _text(exc)}
        ) from exc


def _fetch(imap: imaplib.IMAP4, uid: bytes) -> bytes:
    typ, data = imap.uid("FETCH", uid, "(BODY.PEEK[])")
    if typ != "OK":
        raise imaplib.IMAP4.error(f"FETCH {uid!r}: {typ} {data!r}")
    for item in data or []:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    raise imaplib.IMAP4.error(f"FETCH {uid!r}: no message in the answer (deleted meanwhile?)")


def _mark_done(imap: imaplib.IMAP4, uid: bytes) -> None:
    """Mark a stored message for removal from the server (expunged at the end of the run)."""
    typ, data = imap.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen \Deleted)")
    if typ != "OK":
        raise imaplib.IMAP4.error(f"STORE {uid!r}: {typ} {data!r}")


def _expunge(imap: imaplib.IMAP4, uids: list[bytes]) -> None:
    if not uids:
        return
    _typ, data = imap.capability()
    capabilities = b" ".join(d for d in data if isinstance(d, bytes)).upper().split()
    if b"UIDPLUS" in capabilities:
        imap.uid("EXPUNGE", b",".join(uids).decode("ascii"))
    else:
        imap.expunge()


def mail_fetch(
    *,
    host: str,
    port: int | None = None,
    user: str,
    password: str,
    security: str = "ssl",
    folder: str = "INBOX",
    limit: int = 100,
    timeout: int = 60,
) -> FetchSummary:
    """Fetch, store, mark and process up to `limit` messages. Raises MailFetchError when
    the server cannot be reached or refuses the login; a single bad message does not."""
    if security not in SECURITY_CHOICES:
        raise MailFetchError(
            _("Unknown IMAP security %(value)s (use ssl, starttls or none).") % {"value": security}
        )
    if not host:
        raise MailFetchError(_("No IMAP server is configured (MAIL_IMAP_HOST)."))
    port = port or _DEFAULT_PORTS[security]
    summary = FetchSummary()
    imap = _connect(host=host, port=port, security=security, timeout=timeout)
    try:
        try:
            imap.login(user, password)
        except imaplib.IMAP4.error as exc:
            raise MailFetchError(
                _("The mail server %(host)s refused the login of %(user)s: %(error)s")
                % {"host": host, "user": user, "error": _text(exc)}
            ) from exc
        typ, data = imap.select(_quote(folder))
        if typ != "OK":
            raise MailFetchError(
                _("The mailbox has no folder %(folder)s: %(error)s")
                % {"folder": folder, "error": data[0].decode("utf-8", "replace") if data else typ}
            )
        typ, data = imap.uid("SEARCH", None, "UNDELETED")
        if typ != "OK":
            raise MailFetchError(
                _("The mail server refused the search: %(error)s") % {"error": data}
            )
        uids = (data[0] or b"").split()[: max(0, limit)]
        summary.found = len(uids)
        _fetch_each(imap, uids, summary)
    except (imaplib.IMAP4.abort, OSError) as exc:
        # The connection dropped mid-run: what was stored is safe, the rest waits.
        summary.errors.append(_text(exc))
        log.warning("IMAP connection lost: %s", _text(exc))
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            imap.logout()
    summary.recovered = mail.inbound_process_pending(limit=limit)
    return summary


def _fetch_each(imap: imaplib.IMAP4, uids: list[bytes], summary: FetchSummary) -> None:
    done: list[bytes] = []
    try:
        for uid in uids:
            try:
                raw = _fetch(imap, uid)
            except imaplib.IMAP4.abort:
                raise
            except imaplib.IMAP4.error as exc:
                summary.failed += 1
                summary.errors.append(_text(exc))
                log.warning("Could not fetch message UID %s: %s", uid, _text(exc))
                continue
            try:
                message, created = mail.inbound_get_or_store(
                    raw=raw, source=InboundMessage.Source.IMAP
                )
            except Exception as exc:
                summary.failed += 1
                summary.errors.append(f"UID {uid.decode()}: {exc}")
                log.exception("Could not store message UID %s; it stays on the server", uid)
                continue
            summary.stored += created
            summary.duplicates += not created
            # Committed above: only now may the server forget it.
            try:
                _mark_done(imap, uid)
                done.append(uid)
            except imaplib.IMAP4.abort:
                mail.inbound_process(message=message)
                raise
            except imaplib.IMAP4.error as exc:
                summary.errors.append(_text(exc))
                log.warning("Could not mark UID %s; the next run finds it stored", uid)
            message = mail.inbound_process(message=message)
            summary.outcomes[message.status] = summary.outcomes.get(message.status, 0) + 1
    finally:
        summary.removed = len(done)
        try:
            _expunge(imap, done)
        except (imaplib.IMAP4.error, OSError) as exc:
            summary.errors.append(_text(exc))
            log.warning("Could not expunge: %s", _text(exc))
