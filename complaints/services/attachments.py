"""Attachments: checked for size, type (by content, not by name) and stored under a
random name; the uploader's file name is kept only for display and download."""

from __future__ import annotations

import hashlib
import os
import unicodedata
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.utils.translation import gettext as _

from complaints import permissions
from complaints.errors import ActionForbidden, InvalidInput, NotFound
from complaints.models import Attachment, Complaint, ComplaintEvent
from complaints.services.base import record_event

# extension -> the content type its bytes must show
ALLOWED = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
}


def max_bytes() -> int:
    return getattr(settings, "ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)


def sniff(head: bytes, extension: str) -> str | None:
    """The content type the first bytes prove, if it is the one the extension claims."""
    expected = ALLOWED.get(extension)
    if expected is None:
        return None
    checks = {
        "image/png": head.startswith(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg": head.startswith(b"\xff\xd8\xff"),
        "image/gif": head[:6] in (b"GIF87a", b"GIF89a"),
        "image/webp": head[:4] == b"RIFF" and head[8:12] == b"WEBP",
        "application/pdf": head.startswith(b"%PDF-"),
        "audio/mpeg": head[:3] == b"ID3" or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
        "audio/wav": head[:4] == b"RIFF" and head[8:12] == b"WAVE",
        "audio/mp4": head[4:8] == b"ftyp",
        "video/mp4": head[4:8] == b"ftyp",
    }
    if expected.startswith("application/vnd.openxmlformats"):
        ok = head.startswith(b"PK\x03\x04")
    elif expected in ("text/plain", "text/csv"):
        ok = _is_text(head)
    else:
        ok = checks.get(expected, False)
    return expected if ok else None


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            # The sample may end inside a multi-byte character: ignore a cut tail.
            head.decode(encoding) if len(head) < 4096 else head[:-4].decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def clean_filename(name: str) -> str:
    """The last path component, without control characters, at most 200 characters."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = base.lstrip(".") or "file"
    stem, ext = os.path.splitext(base)
    return stem[: 200 - len(ext)] + ext.lower()


def attachment_add(
    *, complaint: Complaint, actor: Any, upload: Any, internal: bool = True, event=None
) -> Attachment:
    """Check and store one uploaded file on the complaint's timeline."""
    if not permissions.can_view_complaint(actor, complaint):
        raise NotFound()
    if not permissions.can_edit_complaint(actor, complaint):
        raise ActionForbidden(_("This complaint can no longer be changed."))
    name = clean_filename(getattr(upload, "name", ""))
    extension = os.path.splitext(name)[1]
    size = getattr(upload, "size", None) or 0
    if size <= 0:
        raise InvalidInput(_("The file “%(name)s” is empty.") % {"name": name})
    if size > max_bytes():
        raise InvalidInput(
            _("The file “%(name)s” is too large (at most %(limit)d MB).")
            % {"name": name, "limit": max_bytes() // (1024 * 1024)}
        )
    upload.seek(0)
    head = upload.read(8192)
    content_type = sniff(head, extension)
    if content_type is None:
        raise InvalidInput(
            _(
                "The file “%(name)s” is not an allowed type (%(types)s), or its content does not match its name."
            )
            % {"name": name, "types": ", ".join(sorted(ALLOWED))}
        )
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: upload.read(65536), b""):
        digest.update(chunk)
    upload.seek(0)

    with transaction.atomic():
        if event is None:
            event = record_event(
                complaint,
                kind=ComplaintEvent.Kind.ATTACHMENT_ADDED,
                actor=actor,
                body=name,
                internal=internal,
            )
        attachment = Attachment(
            complaint=complaint,
            event=event,
            original_name=name,
            content_type=content_type,
            size=size,
            sha256=digest.hexdigest(),
            is_internal=internal,
            uploaded_by=actor if getattr(actor, "pk", None) else None,
        )
        attachment.file.save(name, File(upload), save=False)
        try:
            attachment.save()
        except Exception:
            # The row could not be written: do not leave the file behind.
            attachment.file.delete(save=False)
            raise
    return attachment


def attachment_get_for_user(*, user: Any, pk: int) -> Attachment:
    """An attachment the user may download, or NotFound for missing and forbidden alike."""
    attachment = Attachment.objects.select_related("complaint").filter(pk=pk).first()
    if attachment is None or not permissions.can_view_complaint(user, attachment.complaint):
        raise NotFound(_("No such attachment, or you may not see it."))
    return attachment
