"""What a parsed message is: an auto-reply, a bounce or our own mail coming back (a
loop); a reply to a complaint's thread; which tracking numbers it names; and the guesses
a new complaint starts from (demand, language, subject without "Re:")."""

from __future__ import annotations

import re
from email.utils import parseaddr

from django.conf import settings

from complaints.contacts import normalize_email
from complaints.models import Complaint, Demand, MailThread
from complaints.services.mail.parsing import ParsedMail
from complaints.tracking import clean_tracking_number


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
