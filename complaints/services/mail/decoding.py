"""Bytes and headers as text: the charsets Chinese (and other) mail really uses,
RFC 2047 encoded words, raw 8-bit headers, Message-ID lists and From addresses."""

from __future__ import annotations

import codecs
import re
from email.header import decode_header
from email.message import Message
from email.utils import parseaddr
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from complaints.contacts import normalize_email

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


def _raw_header(msg: Message, name: str) -> str | None:
    """A header's value as it arrived (8-bit bytes as surrogates), for our own decoding."""
    name = name.lower()
    return next((str(v) for k, v in msg.raw_items() if k.lower() == name), None)
