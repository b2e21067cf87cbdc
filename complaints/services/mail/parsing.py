"""Parsing a raw RFC 822 message into a `ParsedMail`: the MIME walk (alternatives,
forwarded messages, signatures, attachments and their names), decoded headers and text."""

from __future__ import annotations

import logging
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesParser

from django.utils.translation import gettext as _

from complaints.services.mail.decoding import (
    _address,
    _has_surrogates,
    _message_ids,
    _raw_header,
    _unsurrogate,
    decode_bytes,
    decode_header_value,
)
from complaints.services.mail.text import _FORWARD_SUBJECT, html_to_text, trim_quoted

log = logging.getLogger(__package__)  # one logger for inbound mail, as before the split

_MAX_DEPTH = 20  # MIME nesting: deeper is an attack, not mail


@dataclass
class ParsedAttachment:
    name: str
    content: bytes
    content_type: str


@dataclass
class ParsedMail:
    headers: list[tuple[str, str]]
    subject: str = ""
    from_name: str = ""
    from_address: str = ""
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    content_type: str = ""
    text: str = ""  # everything the sender wrote, decoded; HTML made plain text
    attachments: list[ParsedAttachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    def header(self, name: str) -> str:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), "")

    def has_header(self, name: str) -> bool:
        name = name.lower()
        return any(k.lower() == name for k, _v in self.headers)

    @property
    def is_forward(self) -> bool:
        return bool(_FORWARD_SUBJECT.match(self.subject))

    @property
    def reply_text(self) -> str:
        """The text without quoted history (a forward keeps everything: it is the point)."""
        return self.text if self.is_forward else trim_quoted(self.text)


_SIGNATURES = {
    "application/pgp-signature",
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
}


def _part_filename(part: Message) -> str:
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except Exception:  # noqa: BLE001 - a broken parameter: fall back to the raw header below
        name = ""
    if isinstance(name, tuple):  # RFC 2231 from get_param
        name = decode_bytes(name[2].encode("latin-1", "replace"), name[0])
    name = str(name or "")
    if not name or "\ufffd" in name or _has_surrogates(name):
        # Raw 8-bit (GBK…) names, undeclared: read them from the raw header ourselves.
        for key, value in part.raw_items():
            if key.lower() in ("content-disposition", "content-type"):
                m = re.search(r"\b(?:file)?name\s*=\s*\"?([^\";\r\n]+)", _unsurrogate(str(value)))
                if m:
                    name = m.group(1)
                    break
    if "=?" in name:
        name = decode_header_value(name)
    return name.strip()


def _payload(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _html_charset(data: bytes) -> str | None:
    m = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", data[:4096], re.I)
    return m.group(1).decode("ascii") if m else None


class _Walker:
    def __init__(self):
        self.texts: list[str] = []
        self.attachments: list[ParsedAttachment] = []

    def text_of(self, part: Message) -> str:
        data = _payload(part)
        charset = part.get_content_charset()
        if part.get_content_type() == "text/html":
            return html_to_text(decode_bytes(data, charset or _html_charset(data)))
        return decode_bytes(data, charset).replace("\r\n", "\n").strip()

    def walk(self, part: Message, depth: int = 0, *, text: bool = True) -> None:
        if depth > _MAX_DEPTH:
            raise ValueError("MIME structure nested too deeply")
        ctype = part.get_content_type()
        if ctype == "message/rfc822" and part.is_multipart():
            self.forwarded(part.get_payload(0), depth + 1, text=text)
            return
        if part.is_multipart():
            children = [c for c in part.get_payload() if isinstance(c, Message)]
            if ctype == "multipart/alternative":
                chosen = self.choose(children)
                for child in children:
                    self.walk(child, depth + 1, text=text and child is chosen)
            else:
                for child in children:
                    self.walk(child, depth + 1, text=text)
            return
        if ctype in _SIGNATURES:
            return
        name = _part_filename(part)
        inline_text = ctype in ("text/plain", "text/html") or part.get_content_maintype() in (
            "multipart",  # declared multipart without a boundary: all we have is text
        )
        if inline_text and not name and part.get_content_disposition() != "attachment":
            if text:
                body = self.text_of(part)
                if body:
                    self.texts.append(body)
            return
        content = _payload(part)
        if content:
            if not name:
                ext = mimetypes.guess_extension(ctype) or ".bin"
                name = f"attachment-{len(self.attachments) + 1}{ext}"
            self.attachments.append(
                ParsedAttachment(name=name, content=content, content_type=ctype)
            )

    def choose(self, children: list[Message]) -> Message | None:
        """In multipart/alternative: the plain text if it says anything, else the richest."""
        for child in children:
            if child.get_content_type() == "text/plain" and self.text_of(child):
                return child
        for child in reversed(children):
            if child.get_content_type() == "text/html" or child.is_multipart():
                return child
        return children[-1] if children else None

    def forwarded(self, inner: Message, depth: int, *, text: bool) -> None:
        """A mail attached to this one: its text follows, under its own headers."""
        sub = _Walker()
        sub.walk(inner, depth, text=text)
        self.attachments.extend(sub.attachments)
        if text:
            head = [_("---------- Forwarded message ----------")]
            for key in ("From", "Date", "Subject", "To"):
                value = decode_header_value(_raw_header(inner, key))
                if value:
                    head.append(f"{key}: {value}")
            self.texts.append("\n".join(head) + "\n\n" + "\n\n".join(sub.texts))


def _headers_of(msg: Message) -> list[tuple[str, str]]:
    return [(str(k), decode_header_value(v)) for k, v in msg.raw_items()]


def _parse_with(raw: bytes, pol) -> ParsedMail:
    msg = BytesParser(policy=pol).parsebytes(raw)
    headers = _headers_of(msg)
    parsed = ParsedMail(headers=headers)
    parsed.subject = parsed.header("subject")[:500]
    parsed.from_name, parsed.from_address = _address(parsed.header("from"))
    ids = _message_ids(parsed.header("message-id"))
    parsed.message_id = ids[0] if ids else ""
    parsed.in_reply_to = _message_ids(parsed.header("in-reply-to"))
    parsed.references = _message_ids(parsed.header("references"))
    parsed.content_type = msg.get_content_type()
    walker = _Walker()
    walker.walk(msg)
    parsed.text = "\n\n".join(t for t in walker.texts if t.strip()).strip()
    parsed.attachments = walker.attachments
    parsed.defects = [type(d).__name__ for p in msg.walk() for d in getattr(p, "defects", [])]
    return parsed


def parse_message(raw: bytes) -> ParsedMail:
    """Decode a raw RFC 822 message. The modern parser first; on broken MIME that it
    cannot walk, the lenient compat32 parser."""
    try:
        return _parse_with(raw, policy.default)
    except Exception:
        log.info("Modern email parser failed; retrying with compat32", exc_info=True)
        return _parse_with(raw, policy.compat32)
