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
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parseaddr
from html.parser import HTMLParser
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import permissions, roles
from complaints.contacts import normalize_email
from complaints.errors import ActionForbidden, InvalidInput, ServiceError
from complaints.models import (
    Channel,
    Complaint,
    ComplaintEvent,
    Demand,
    InboundMessage,
    MailThread,
)
from complaints.services.attachments import attachment_add
from complaints.services.intake import MAX_DESCRIPTION, complaint_submit
from complaints.services.messages import complaint_record_customer_message
from complaints.tracking import clean_tracking_number

log = logging.getLogger(__name__)

Status = InboundMessage.Status
TERMINAL = frozenset(
    {Status.CREATED, Status.APPENDED, Status.REVIEW, Status.IGNORED, Status.QUARANTINED}
)
OPEN_FOR_REVIEW = frozenset({Status.REVIEW, Status.QUARANTINED})
MAX_MESSAGE = 20000  # complaint_record_customer_message's limit
_MAX_DEPTH = 20  # MIME nesting: deeper is an attack, not mail


# --- Decoding ---------------------------------------------------------------------------------

# Labels that mail clients put on bytes of a larger charset: "gb2312" mail is routinely
# GBK or GB18030, "big5" is CP950, "iso-8859-1"/"us-ascii" is windows-1252 (as the
# WHATWG encoding standard decodes them). Decoding with the superset loses nothing.
_SUPERSETS = {
    label: superset
    for superset, labels in (
        ("gb18030", "gb2312 gb_2312-80 csgb2312 euc-cn x-euc-cn gbk x-gbk cp936 ms936 windows-936"),
        ("cp950", "big5 x-big5 csbig5"),
        ("big5hkscs", "big5-hkscs"),
        ("cp1252", "iso-8859-1 iso8859-1 latin1 latin-1 us-ascii ascii"),
        ("cp949", "ks_c_5601-1987 euc-kr"),
        ("utf-7", "unicode-1-1-utf-7"),
    )
    for label in labels.split()
}
# Without a (usable) label: UTF-8 is strict enough to be a safe first guess; then the
# Chinese superset; windows-1252 decodes almost anything last.
_GUESSES = ("utf-8", "gb18030", "cp1252")


def _codec(label: str | None) -> str | None:
    name = (label or "").strip().strip("\"'").lower()
    name = _SUPERSETS.get(name, name)
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Text from bytes in the declared charset, or the first charset that fits."""
    codec = _codec(charset)
    candidates: list[str] = []
    if codec in (None, "cp1252"):
        # "Latin-1" and unlabelled text that is valid UTF-8 is UTF-8 in practice.
        candidates.append("utf-8")
    if codec:
        candidates.append(codec)
    if codec == "cp950":
        candidates.append("big5hkscs")
    candidates.extend(_GUESSES)
    for name in dict.fromkeys(candidates):
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode(codec or "utf-8", errors="replace")


def _has_surrogates(text: str) -> bool:
    # The parser keeps undeclared 8-bit header bytes as lone surrogates.
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _unsurrogate(text: str) -> str:
    if _has_surrogates(text):
        return decode_bytes(text.encode("ascii", "surrogateescape"))
    return text


_WS = re.compile(r"\s+")


def decode_header_value(value: Any) -> str:
    """A header as text: RFC 2047 encoded words in any charset, raw 8-bit bytes guessed."""
    if value is None:
        return ""
    text = re.sub(r"\r?\n(?=[ \t])", "", str(value))  # unfold
    text = _unsurrogate(text)
    non_ascii = not text.isascii()
    try:
        parts = decode_header(text)
    except Exception:  # noqa: BLE001 - a malformed encoded word: show the header as it is
        return _WS.sub(" ", text).strip()
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            out.append(chunk)
        elif charset is None and non_ascii:
            # decode_header escaped the plain non-ASCII text around encoded words.
            out.append(chunk.decode("raw-unicode-escape", errors="replace"))
        else:
            out.append(decode_bytes(chunk, charset))
    return _WS.sub(" ", "".join(out)).strip()


def _message_ids(value: str) -> list[str]:
    ids = re.findall(r"<([^<>\s]+)>", value or "")
    if not ids and "@" in (value or ""):
        ids = [v for v in value.split() if "@" in v]
    return [i for i in ids if len(i) <= 255]


def _address(value: str) -> tuple[str, str]:
    """(display name, lower-case address) of a From header, ('', '') when unusable."""
    name, address = parseaddr(value)
    if not address or "@" not in address:
        match = re.search(r"<\s*([^<>\s]+@[^<>\s]+)\s*>", value) or re.search(
            r"([^\s<>\"',;]+@[^\s<>\"',;]+)", value
        )
        address = match.group(1) if match else ""
    address = normalize_email(address)
    try:
        validate_email(address)
    except ValidationError:
        address = ""
    return name.strip().strip('"').strip(), address


# --- HTML to text -----------------------------------------------------------------------------

_BLOCK = {
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "tr", "blockquote",
    "pre", "hr", "section", "article", "header", "footer", "address", "center", "dl", "dt",
    "dd", "form", "fieldset", "tbody", "thead",
}  # fmt: skip
_HTML_WS = re.compile(r"[ \t\r\n\f]+")
_SKIP = {"script", "style", "title", "xml", "noscript", "template", "svg", "object", "iframe"}


class _HTMLText(HTMLParser):
    """Readable plain text of an HTML mail: no scripts or styles, line breaks kept,
    link text kept (with the address when it says something else)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.pre = 0
        self.links: list[tuple[str, int]] = []

    def _newline(self):
        if self.out and not self.out[-1].endswith("\n"):
            self.out.append("\n")

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self.skip += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self._newline()
            self.out.append("- ")
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.out)))
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt and not self.skip:
                self.out.append(f"[{alt}]")
        elif tag in _BLOCK:
            self._newline()
        if tag == "pre":
            self.pre += 1

    def handle_startendtag(self, tag, attrs):
        if tag not in _SKIP:  # <script/> would otherwise never end
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.out[start:]).strip()
            if href.lower().startswith(("http://", "https://")) and href not in label:
                self.out.append(f" <{href}>")
        elif tag in _BLOCK:
            self._newline()
        if tag == "pre":
            self.pre = max(0, self.pre - 1)

    def handle_data(self, data):
        if self.skip:
            return
        if not self.pre:
            # ASCII whitespace only: &nbsp; is meant (Outlook's empty paragraph is a blank line).
            data = _HTML_WS.sub(" ", data)
            if data == " " and (not self.out or self.out[-1].endswith(("\n", " "))):
                return  # the source's line breaks between tags are not text
        self.out.append(data.replace("\xa0", " "))

    def text(self) -> str:
        # Spaces the markup left at line starts go; a <pre>'s indentation stays.
        lines = [re.sub(r"^ (?=\S)", "", s.rstrip()) for s in "".join(self.out).splitlines()]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    return parser.text()


# --- Quoted history ---------------------------------------------------------------------------

_QUOTE_MARKERS = [
    re.compile(r"^-{2,}\s*(original message|original|原始邮件|原始郵件|原邮件)\s*-{2,}$", re.I),
    re.compile(r"^on\b.{0,300}\bwrote\s*:?$", re.I),
    re.compile(r"^(在|.{0,200}于).{0,200}写道\s*[:：]?$"),
]
_WRAPPED_START = re.compile(r"^(on\b|在)", re.I)
_FROM_LINE = re.compile(r"^\*?(from|发件人|寄件者)\s*\*?\s*[:：]", re.I)
_SENT_LINE = re.compile(r"^\*?(sent|date|发送时间|日期|寄件日期|时间)\s*\*?\s*[:：]", re.I)
_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|fw|转发|轉寄|转寄)\s*[:：]", re.I)


def _marker_at(lines: list[str], i: int) -> int:
    """How many lines the quote header starting at line i spans (0: none)."""
    line = lines[i].strip()
    if not line:
        return 0
    if any(p.match(line) for p in _QUOTE_MARKERS):
        return 1
    if _WRAPPED_START.match(line):  # "On … wrote:" is often wrapped over two or three lines
        for span in (2, 3):
            window = [s.strip() for s in lines[i : i + span]]
            if (
                len(window) == span
                and all(window)
                and any(p.match(" ".join(window)) for p in _QUOTE_MARKERS)
            ):
                return span
    if _FROM_LINE.match(line) and any(_SENT_LINE.match(s.strip()) for s in lines[i + 1 : i + 5]):
        return 1
    return 0


def trim_quoted(text: str) -> str:
    """What the sender wrote this time: the quoted history of a reply cut off where it
    is recognisable, lines starting with ">" dropped. Bottom-posted replies (the
    quote first, then the answer) keep the answer."""
    lines = text.splitlines()
    for i in range(len(lines)):
        span = _marker_at(lines, i)
        if not span:
            continue
        start = i
        if start > 0 and re.fullmatch(r"\s*_{10,}\s*", lines[start - 1]):
            start -= 1  # Outlook on the web draws a line above "From:"
        before = [s for s in lines[:start] if not s.lstrip().startswith(">")]
        if any(s.strip() for s in before):
            lines = lines[:start]
        else:
            lines = lines[:start] + lines[i + span :]
        break
    kept = [s.rstrip() for s in lines if not s.lstrip().startswith(">")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


# --- Parsing ----------------------------------------------------------------------------------


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


def _raw_header(msg: Message, name: str) -> str | None:
    """A header's value as it arrived (8-bit bytes as surrogates), for our own decoding."""
    name = name.lower()
    return next((str(v) for k, v in msg.raw_items() if k.lower() == name), None)


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


# --- Storing ----------------------------------------------------------------------------------


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


# --- Processing -------------------------------------------------------------------------------


def _finish(
    message: InboundMessage, *, status: str, note: str = "", complaint=None, **extra
) -> None:
    """The one place an inbound message's status is written."""
    changes = {
        "status": status,
        "note": note[:5000],
        "complaint": complaint,
        "processed_at": timezone.now(),
        **extra,
    }
    for name, value in changes.items():
        setattr(message, name, value)
    message.save(update_fields=list(changes))


def _our_addresses() -> set[str]:
    found = set()
    for value in (
        getattr(settings, "DEFAULT_FROM_EMAIL", ""),
        getattr(settings, "SERVER_EMAIL", ""),
        getattr(settings, "COMPLAINT_REPLY_TO", ""),
    ):
        address = normalize_email(parseaddr(value or "")[1])
        if address:
            found.add(address)
    return found


_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|autoreply|out of (the )?office|自动回复|自動回覆|"
    r"undeliverable|undelivered mail|delivery status notification|mail delivery failed|"
    r"returned mail|退信|系统退信)\b",
    re.I,
)


def _ignore_reason(parsed: ParsedMail) -> str | None:
    """Why this is an auto-reply, a bounce or our own mail coming back (RFC 3834/3464)."""
    auto = parsed.header("auto-submitted").split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = parsed.header("precedence").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Failed-Recipients"):
        if parsed.has_header(name):
            return f"{name} header"
    if parsed.content_type == "multipart/report":
        return "delivery report (multipart/report)"
    local = parsed.from_address.partition("@")[0]
    if local in ("mailer-daemon", "postmaster"):
        return f"from {parsed.from_address}"
    if parsed.header("return-path").strip() == "<>":
        return "null return path (bounce or auto-reply)"
    if parsed.from_address and parsed.from_address in _our_addresses():
        return "our own address (mail loop)"
    if parsed.message_id and (
        parsed.message_id.endswith("@" + getattr(settings, "COMPLAINT_MAIL_DOMAIN", "-"))
        or MailThread.objects.filter(message_id=parsed.message_id, outgoing=True).exists()
    ):
        return "our own Message-ID (mail loop)"
    return None


_TRACKING_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{1,10}[\s_-]?\d{8}[\s_-]?[A-Za-z0-9]{5})(?![A-Za-z0-9])"
)


def tracking_numbers_in(text: str) -> list[str]:
    found = (clean_tracking_number(m) for m in _TRACKING_IN_TEXT.findall(text or ""))
    return list(dict.fromkeys(n for n in found if n))


def _thread_complaint(parsed: ParsedMail) -> Complaint | None:
    """The complaint a reply belongs to by its In-Reply-To/References."""
    ids = [*parsed.in_reply_to, *reversed(parsed.references)]
    if not ids:
        return None
    threads = {
        t.message_id: t
        for t in MailThread.objects.filter(message_id__in=ids).select_related("complaint__customer")
    }
    return next((threads[i].complaint for i in ids if i in threads), None)


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_DEMAND_WORDS = [  # simplified and traditional Chinese, English
    (Demand.REFUND, ("退款", "退钱", "退錢", "退货", "退貨", "refund", "money back")),
    (Demand.REPLACEMENT, ("换货", "換貨", "更换", "更換", "换新", "換新", "replace", "exchange")),
    (Demand.REPAIR, ("维修", "維修", "修理", "保修", "repair")),
    (Demand.COMPENSATION, ("赔偿", "賠償", "补偿", "補償", "compensat")),
    (Demand.APOLOGY, ("道歉", "致歉", "apolog")),
    (Demand.EXPLANATION, ("解释", "解釋", "给个说法", "給個說法", "explain")),
]


def guess_demand(text: str) -> str:
    """The remedy the customer names first, or "other" (an agent corrects it)."""
    lowered = (text or "").lower()
    best, best_at = Demand.OTHER, len(lowered) + 1
    for demand, words in _DEMAND_WORDS:
        for word in words:
            at = lowered.find(word)
            if 0 <= at < best_at:
                best, best_at = demand, at
    return str(best)


def guess_language(text: str) -> str:
    return "zh-hans" if _CJK.search(text or "") else "en"


_REPLY_PREFIX = re.compile(r"^\s*(re|fwd?|fw|aw|sv|回复|回覆|答复|转发|轉寄)\s*[:：]\s*", re.I)


def clean_subject(subject: str) -> str:
    previous = None
    while previous != subject:
        previous, subject = subject, _REPLY_PREFIX.sub("", subject)
    return subject.strip()


def _cap(text: str, limit: int) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    return text[: limit - 1] + "…", True


def _no_text_placeholder(parsed: ParsedMail) -> str:
    names = ", ".join(a.name for a in parsed.attachments)
    return _("(Email without text; attachments: %(names)s)") % {"names": names}


def _add_attachments(complaint: Complaint, event, parsed: ParsedMail, actor: Any) -> list[str]:
    """Attach what is allowed; a refused file is noted (the raw message still holds it)."""
    problems = []
    for item in parsed.attachments:
        upload = ContentFile(item.content, name=item.name)
        try:
            with transaction.atomic():
                attachment_add(
                    complaint=complaint, actor=actor, upload=upload, internal=False, event=event
                )
        except ServiceError as exc:
            problems.append(_("Not attached: %(error)s") % {"error": exc})
    return problems


def _remember_thread(parsed: ParsedMail, complaint: Complaint) -> None:
    """Later mail in this thread (answers to this one) lands on the same complaint."""
    if parsed.message_id:
        MailThread.objects.get_or_create(
            message_id=parsed.message_id, defaults={"complaint": complaint, "outgoing": False}
        )


def _append(
    message: InboundMessage, parsed: ParsedMail, complaint: Complaint, actor: Any, body: str
) -> dict:
    if not body and not parsed.attachments:
        return {
            "status": Status.REVIEW,
            "note": _("The reply has nothing but quoted text: nothing new to add."),
        }
    body, truncated = _cap(body or _no_text_placeholder(parsed), MAX_MESSAGE)
    try:
        with transaction.atomic():
            event = complaint_record_customer_message(complaint=complaint, body=body)
    except ServiceError as exc:
        return {
            "status": Status.REVIEW,
            "note": _("Could not add it to %(number)s: %(error)s")
            % {"number": complaint.tracking_number, "error": exc},
        }
    target = event.complaint
    notes = _add_attachments(target, event, parsed, actor)
    if truncated:
        notes.append(_("The text was shortened; the raw message has all of it."))
    _remember_thread(parsed, complaint)
    return {"status": Status.APPENDED, "note": "\n".join(notes), "complaint": target}


def _create(
    message: InboundMessage,
    parsed: ParsedMail,
    actor: Any,
    *,
    email: str,
    name: str = "",
    phone: str = "",
    title: str = "",
    description: str = "",
    demand: str = "",
) -> dict:
    description = (
        description or parsed.text or (_no_text_placeholder(parsed) if parsed.attachments else "")
    )
    description, truncated = _cap(description, MAX_DESCRIPTION)
    complaint = complaint_submit(
        channel=Channel.EMAIL,
        email=email,
        phone=phone,
        name=(name or "")[:200],
        title=(title or "")[:200],
        description=description,
        demand=demand or guess_demand(f"{parsed.subject}\n{description}"),
        language=guess_language(f"{parsed.subject}\n{description}"),
        actor=actor,
    )
    event = complaint.events.filter(kind=ComplaintEvent.Kind.RECEIVED).first()
    notes = _add_attachments(complaint, event, parsed, actor)
    if truncated:
        notes.append(_("The text was shortened; the raw message has all of it."))
    _remember_thread(parsed, complaint)
    return {"status": Status.CREATED, "note": "\n".join(notes), "complaint": complaint}


def _review(note: str) -> dict:
    return {"status": Status.REVIEW, "note": note}


def _act(message: InboundMessage) -> dict:
    """Decide what this message is and do it. Returns the fields for _finish()."""
    parsed = parse_message(bytes(message.raw))
    reason = _ignore_reason(parsed)
    if reason:
        return {"status": Status.IGNORED, "note": reason}
    if not parsed.from_address:
        return _review(_("The message has no usable sender address."))
    if not parsed.text and not parsed.attachments:
        return _review(_("The message has no text and no attachments."))

    complaint = _thread_complaint(parsed)
    if complaint is not None:
        return _append(message, parsed, complaint, roles.SYSTEM, parsed.reply_text)

    numbers = tracking_numbers_in(parsed.subject)
    if numbers:
        found = list(
            Complaint.objects.select_related("customer").filter(tracking_number__in=numbers)
        )
        if len(found) != 1:
            return _review(
                _("The subject names %(numbers)s, which matches no single complaint.")
                % {"numbers": ", ".join(numbers)}
            )
        complaint = found[0]
        if normalize_email(complaint.customer.email) != parsed.from_address:
            # Never put a stranger's mail on someone's complaint: a person decides.
            return _review(
                _("The subject names %(number)s, but the sender %(sender)s is not its customer.")
                % {"number": complaint.tracking_number, "sender": parsed.from_address}
            )
        return _append(message, parsed, complaint, roles.SYSTEM, parsed.reply_text)

    if _AUTO_SUBJECT.match(parsed.subject):
        return _review(_("The subject looks like an automatic reply or a bounce."))
    try:
        with transaction.atomic():
            return _create(
                message,
                parsed,
                roles.SYSTEM,
                email=parsed.from_address,
                name=parsed.from_name,
                title=clean_subject(parsed.subject),
            )
    except InvalidInput as exc:
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
        return _review(_("No complaint could be created: %(error)s") % {"error": details or exc})


def inbound_process(*, message: InboundMessage) -> InboundMessage:
    """Parse and act on a stored message, once. Ends in created, appended, review,
    ignored or quarantined; never raises (the raw bytes stay for a person)."""
    try:
        with transaction.atomic():
            row = InboundMessage.objects.select_for_update().filter(pk=message.pk).first()
            # Otherwise processed already (a retried fetch, a second worker): nothing to do.
            if row is not None and row.status == Status.RECEIVED:
                _finish(row, **_act(row))
    except Exception as exc:
        log.exception("Inbound message %s could not be processed", message.pk)
        _quarantine(message.pk, exc)
    try:
        message.refresh_from_db(fields=["status", "note", "complaint", "processed_at"])
    except Exception:
        log.warning("Could not reload inbound message %s", message.pk, exc_info=True)
    return message


def _quarantine(pk: int, exc: Exception) -> None:
    try:
        with transaction.atomic():
            row = InboundMessage.objects.select_for_update().filter(pk=pk).first()
            if row is not None and row.status == Status.RECEIVED:
                _finish(
                    row,
                    status=Status.QUARANTINED,
                    note=_("Processing failed: %(error)s")
                    % {"error": f"{type(exc).__name__}: {exc}"},
                )
    except Exception:
        log.exception("Could not quarantine inbound message %s", pk)


def inbound_process_pending(*, limit: int = 100) -> int:
    """Process messages stored but never processed (a crash between the two steps)."""
    pks = list(
        InboundMessage.objects.filter(status=Status.RECEIVED)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in pks:
        inbound_process(message=InboundMessage(pk=pk))
    return len(pks)


# --- What staff do with a message left for review ---------------------------------------------


def can_review_inbound(user: Any) -> bool:
    """Agents and supervisors review the mail that could not be handled automatically."""
    return bool(getattr(user, "is_active", False)) and (
        roles.is_agent(user) or roles.is_supervisor(user)
    )


def _open_for_review(message: InboundMessage, actor: Any) -> InboundMessage:
    if not can_review_inbound(actor):
        raise ActionForbidden()
    row = InboundMessage.objects.select_for_update().filter(pk=message.pk).first()
    if row is None or row.status not in OPEN_FOR_REVIEW:
        raise InvalidInput(_("This message has been handled already."))
    return row


def _parsed_for_staff(row: InboundMessage) -> ParsedMail:
    try:
        return parse_message(bytes(row.raw))
    except Exception as exc:
        log.warning("Inbound message %s cannot be parsed", row.pk, exc_info=True)
        raise InvalidInput(
            _("This message cannot be read; download the raw message instead.")
        ) from exc


@transaction.atomic
def inbound_attach(*, message: InboundMessage, actor: Any, complaint: Complaint) -> InboundMessage:
    """Add the message to a complaint as the customer's message (a person decided)."""
    row = _open_for_review(message, actor)
    if not permissions.can_view_complaint(actor, complaint):
        raise InvalidInput(_("No such complaint, or you may not see it."))
    if not permissions.can_edit_complaint(actor, complaint):
        raise ActionForbidden(_("This complaint can no longer be changed."))
    parsed = _parsed_for_staff(row)
    # A person chose this complaint: if trimming left nothing, the whole text goes.
    outcome = _append(row, parsed, complaint, actor, parsed.reply_text or parsed.text)
    if outcome["status"] != Status.APPENDED:
        raise InvalidInput(outcome["note"])
    _finish(row, reviewed_by=actor, **outcome)
    return row


@transaction.atomic
def inbound_create_complaint(
    *,
    message: InboundMessage,
    actor: Any,
    email: str = "",
    phone: str = "",
    name: str = "",
    title: str = "",
    description: str = "",
    demand: str = "",
) -> Complaint:
    """A new complaint from the message, with what the reviewer confirmed or corrected.
    Raises InvalidInput (with .fields) like complaint_submit."""
    row = _open_for_review(message, actor)
    parsed = _parsed_for_staff(row)
    outcome = _create(
        row,
        parsed,
        actor,
        email=email,
        phone=phone,
        name=name,
        title=title,
        description=description,
        demand=demand,
    )
    _finish(row, reviewed_by=actor, **outcome)
    return outcome["complaint"]


@transaction.atomic
def inbound_mark_reviewed(*, message: InboundMessage, actor: Any, note: str = "") -> InboundMessage:
    """Nothing to do with it (spam, a duplicate, handled by phone…): recorded as reviewed."""
    row = _open_for_review(message, actor)
    note = (note or "").strip()
    if len(note) > 1000:
        raise InvalidInput(_("Please keep the note under 1,000 characters."))
    combined = "\n".join(n for n in (row.note, note) if n)
    _finish(row, status=Status.REVIEWED, note=combined, complaint=row.complaint, reviewed_by=actor)
    return row
