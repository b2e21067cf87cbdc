"""A mail body as the text a person wrote: HTML made readable plain text, and the
quoted history of a reply recognised and cut off."""

from __future__ import annotations

import re
from html.parser import HTMLParser

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
