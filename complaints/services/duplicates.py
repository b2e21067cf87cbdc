"""Possible duplicates and repeat complaints (受理: the same problem is one complaint).

- `duplicates_flag(complaint=)`, called by intake.complaint_create inside its
  transaction, flags the new complaint and each likely twin of the same customer,
  in both directions (a DuplicateFlag row on each side, shown on both pages).
- `repeat_of_for(...)`: the same customer's closed complaint about the same product
  (or category) shortly before: the new one is a repeat, not a duplicate.
- `duplicate_merge(flag=, actor=)` and `duplicate_dismiss(flag=, actor=)` are the
  agent's decision on a flag; `duplicates_open_for(complaint)` lists what is undecided.

Text similarity works on Chinese without a word segmenter: runs of CJK characters
become character unigrams and bigrams (function characters such as 的/了/我 split the
runs), Latin text becomes lower-cased words without stop words; the score is the
cosine of the two token-count vectors.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from complaints import permissions, roles
from complaints.errors import ActionForbidden, InvalidInput, NotFound
from complaints.models import Attachment, Complaint, ComplaintEvent, DuplicateFlag
from complaints.services.base import record_event
from complaints.workflow import OPEN_STATES, TERMINAL_STATES, ComplaintStatus

Kind = ComplaintEvent.Kind
Reason = DuplicateFlag.Reason
Decision = DuplicateFlag.Decision

# Cosine similarity from which two texts count as "the same problem". Measured on
# paraphrases such as 水壶漏水，底座有裂缝 / 我的水壶底座裂开了还漏水 (0.78) or
# "The kettle leaks and the base is cracked" / "My kettle base cracked and it leaks
# water" (0.89) against other problems with the same product, such as 水壶的开关坏了
# (0.24), and unrelated complaints (0).
SIMILARITY_THRESHOLD = 0.5
# Similar text counts within this many days (settings.COMPLAINT_DUPLICATE_DAYS).
DEFAULT_DUPLICATE_DAYS = 14
# A complaint closed at most this long before a new one about the same subject makes
# the new one a repeat (重复投诉). The detail page's "repeat complainer" uses 90 too.
REPEAT_WINDOW = timedelta(days=90)
# A customer with a long history: compare with the newest ones only (bounded work).
MAX_CANDIDATES = 50

# --- Text similarity ------------------------------------------------------------------------

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKENS = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_CJK_RUN = re.compile(rf"^[{_CJK}]+$")
# Function characters that carry no subject: they split CJK runs instead of forming
# bigrams such as 我的 or 了还 that every complaint shares.
_CJK_STOP = frozenset(
    "的了吗呢吧啊呀嘛哦我你他她它们是在和与及就都也还很又再才把被给让着过这那个有"
)
_LATIN_STOP_WORDS = """
    a an the and or but if of to in on at by for with from into about as after before
    than then so not no is are was were be been being am it its this that these those
    my our your their his her i we you he she they me us them do does did have has had
    can could would should will shall may might just very also any all there here what
    when which who how why up out again still"""
_LATIN_STOP = frozenset(_LATIN_STOP_WORDS.split())


def tokens(text: str) -> Counter[str]:
    """Token counts of a text: CJK unigrams and bigrams, lower-cased Latin words."""
    counts: Counter[str] = Counter()
    for chunk in _TOKENS.findall((text or "").lower()):
        if _CJK_RUN.match(chunk):
            for run in re.split("[" + "".join(_CJK_STOP) + "]+", chunk):
                counts.update(run)
                counts.update(run[i : i + 2] for i in range(len(run) - 1))
        elif len(chunk) > 1 and chunk not in _LATIN_STOP:
            counts[chunk] += 1
    return counts


def similarity(a: str | Counter[str], b: str | Counter[str]) -> float:
    """Cosine similarity of two texts (or token counts), 0.0 to 1.0."""
    ta = a if isinstance(a, Counter) else tokens(a)
    tb = b if isinstance(b, Counter) else tokens(b)
    if not ta or not tb:
        return 0.0
    dot = sum(count * tb[token] for token, count in ta.items() if token in tb)
    if not dot:
        return 0.0
    norm = math.sqrt(sum(c * c for c in ta.values())) * math.sqrt(sum(c * c for c in tb.values()))
    return dot / norm


def complaint_text(complaint: Complaint) -> str:
    """What a complaint says: its title (unless derived from the text) and description."""
    title, description = complaint.title or "", complaint.description or ""
    if title.rstrip("…") and title.rstrip("…") in description:
        return description
    return f"{title}\n{description}"


def duplicate_window() -> timedelta:
    return timedelta(days=getattr(settings, "COMPLAINT_DUPLICATE_DAYS", DEFAULT_DUPLICATE_DAYS))


# --- Detection ------------------------------------------------------------------------------


def repeat_of_for(
    *, customer: Any, product: Any, category: Any, received_at: datetime
) -> Complaint | None:
    """The customer's complaint closed within REPEAT_WINDOW before `received_at` about
    the same product (or, when no product is given, the same category)."""
    if customer is None or customer.pk is None or (product is None and category is None):
        return None
    qs = Complaint.objects.filter(
        customer_id=customer.pk,
        status=ComplaintStatus.CLOSED,
        closed_at__gte=received_at - REPEAT_WINDOW,
        closed_at__lte=received_at,
    )
    qs = qs.filter(product=product) if product is not None else qs.filter(category=category)
    return qs.order_by("-closed_at", "-pk").first()


def _same_subject(a: Complaint, b: Complaint) -> bool:
    if a.product_id is not None and a.product_id == b.product_id:
        return True
    return a.category_id is not None and a.category_id == b.category_id


def duplicates_flag(*, complaint: Complaint) -> list[DuplicateFlag]:
    """Flag `complaint` and the same customer's complaints it may duplicate.

    Another open complaint about the same product or category, or any complaint
    received within the duplicate window with similar text (unless the two name
    different products). Merged complaints are
    skipped (their words live on in the complaint they were merged into). Returns the
    flags on `complaint` (the reverse rows are created too).
    """
    window = duplicate_window()
    candidates = (
        Complaint.objects.filter(customer_id=complaint.customer_id)
        .exclude(pk=complaint.pk)
        .exclude(status=ComplaintStatus.MERGED)
        .filter(
            Q(status__in=list(OPEN_STATES))
            | Q(
                received_at__gte=complaint.received_at - window,
                received_at__lte=complaint.received_at + window,
            )
        )
        .only(
            "pk",
            "title",
            "description",
            "status",
            "product_id",
            "category_id",
            "received_at",
            "customer_id",
        )
        .order_by("-received_at", "-pk")[:MAX_CANDIDATES]
    )
    mine = tokens(complaint_text(complaint))
    found: list[tuple[Complaint, str, float]] = []
    for other in candidates:
        score = round(similarity(mine, tokens(complaint_text(other))), 3)
        close_in_time = abs(other.received_at - complaint.received_at) <= window
        # "The casing gives shocks" about two different products is two problems.
        other_product = (
            complaint.product_id is not None
            and other.product_id is not None
            and complaint.product_id != other.product_id
        )
        if close_in_time and score >= SIMILARITY_THRESHOLD and not other_product:
            found.append((other, Reason.SIMILAR_TEXT, score))
        elif other.status in OPEN_STATES and _same_subject(complaint, other):
            found.append((other, Reason.SAME_SUBJECT_OPEN, score))
    if not found:
        return []
    rows = []
    for other, reason, score in found:
        rows.append(DuplicateFlag(complaint=complaint, other=other, reason=reason, score=score))
        rows.append(DuplicateFlag(complaint=other, other=complaint, reason=reason, score=score))
    # A pair is flagged once (unique complaint+other); a re-run adds nothing.
    DuplicateFlag.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        DuplicateFlag.objects.filter(complaint=complaint, other__in=[o for o, _r, _s in found])
    )


def duplicates_open_for(complaint: Complaint, *, user: Any = None) -> QuerySet[DuplicateFlag]:
    """Undecided possible duplicates of `complaint`, most similar first, for its page.

    Flags whose other complaint was merged or rejected since are left out (nothing to
    decide any more); with `user`, only complaints that user may see.
    """
    if complaint.status in TERMINAL_STATES:
        return DuplicateFlag.objects.none()
    qs = (
        DuplicateFlag.objects.filter(complaint=complaint, decision=Decision.OPEN)
        .exclude(other__status__in=list(TERMINAL_STATES))
        .select_related("other", "other__product", "other__category")
        .order_by("-score", "pk")
    )
    if user is not None:
        condition = permissions.visibility_filter(user)
        if condition is not None:
            visible = Complaint.objects.filter(condition).values("pk")
            qs = qs.filter(other__in=visible)
    return qs


# --- Decisions ------------------------------------------------------------------------------


def _check_may_decide(actor: Any, flag: DuplicateFlag) -> None:
    if not permissions.can_view_complaint(actor, flag.complaint):
        raise NotFound()
    if not (roles.is_agent(actor) or roles.is_supervisor(actor)):
        raise ActionForbidden(_("Only agents and supervisors decide on possible duplicates."))


def _lock_pair(flag: DuplicateFlag) -> list[DuplicateFlag]:
    """Both directions of the flag, locked, refused when already decided."""
    pair = list(
        DuplicateFlag.objects.select_for_update()
        .filter(
            Q(complaint_id=flag.complaint_id, other_id=flag.other_id)
            | Q(complaint_id=flag.other_id, other_id=flag.complaint_id)
        )
        .order_by("pk")
    )
    if not pair:
        raise NotFound(_("This possible duplicate no longer exists."))
    decided = [f for f in pair if f.decision != Decision.OPEN]
    if decided:
        raise InvalidInput(
            _("This possible duplicate was already decided: %(decision)s.")
            % {"decision": decided[0].get_decision_display()}
        )
    return pair


def _decide(pair: list[DuplicateFlag], decision: str, actor: Any) -> None:
    for f in pair:
        f.decision = decision
        f.decided_by = None if roles.is_system(actor) else actor
        f.save(update_fields=["decision", "decided_by"])


def duplicate_merge(*, flag: DuplicateFlag, actor: Any, reason: str = "") -> Complaint:
    """Merge the flagged complaint into the other one (the primary) and return the primary.

    The duplicate moves to `merged` through transitions.complaint_merge (status log,
    history, merged events on both). Its customer-visible messages (the received
    text, customer messages) are copied onto the primary's timeline at their original
    time with data {"from": tracking number}; attachments stay on the duplicate and
    their ids are recorded on the primary (on the copied message they came with, the
    rest in one attachment event). Both directions of the flag are marked merged.
    """
    # Imported here: transitions is heavier and must not load with intake's import.
    from complaints.services.transitions import complaint_merge

    _check_may_decide(actor, flag)
    with transaction.atomic():
        pair = _lock_pair(flag)
        # Fresh copies: the decision is about the pair, not about the version of each
        # complaint the caller happened to load.
        duplicate = Complaint.objects.get(pk=flag.complaint_id)
        primary = Complaint.objects.get(pk=flag.other_id)
        complaint_merge(
            complaint=duplicate,
            actor=actor,
            target=primary,
            reason=(reason or "").strip()
            or _("Same problem as %(number)s") % {"number": primary.tracking_number},
        )
        _copy_customer_messages(duplicate, primary, actor)
        _decide(pair, Decision.MERGED, actor)
    primary.refresh_from_db()
    return primary


def _copy_customer_messages(duplicate: Complaint, primary: Complaint, actor: Any) -> None:
    source = {"id": duplicate.pk, "tracking_number": duplicate.tracking_number}
    attachments = list(Attachment.objects.filter(complaint=duplicate).order_by("created_at", "pk"))
    by_event: dict[int, list[int]] = {}
    for a in attachments:
        by_event.setdefault(a.event_id, []).append(a.pk)
    shown: set[int] = set()
    messages = duplicate.events.filter(
        kind__in=[Kind.RECEIVED, Kind.CUSTOMER_MESSAGE], is_internal=False
    ).order_by("created_at", "pk")
    for event in messages:
        ids = by_event.get(event.pk, [])
        shown.update(ids)
        record_event(
            primary,
            kind=Kind.CUSTOMER_MESSAGE,
            # The customer's words: the staff member who typed them in stays the author.
            actor=event.actor,
            body=event.body,
            internal=False,
            data={
                "from": duplicate.tracking_number,
                "from_complaint": source,
                "original_kind": event.kind,
                "original_event": event.pk,
                "attachments": ids,
            },
            at=event.created_at,
        )
    rest = [a for a in attachments if a.pk not in shown]
    if rest:
        record_event(
            primary,
            kind=Kind.ATTACHMENT_ADDED,
            actor=actor,
            body=", ".join(a.original_name for a in rest),
            internal=True,
            data={
                "from": duplicate.tracking_number,
                "from_complaint": source,
                "attachments": [a.pk for a in rest],
            },
        )


def duplicate_dismiss(*, flag: DuplicateFlag, actor: Any) -> None:
    """Not the same problem: both directions of the flag are marked dismissed."""
    _check_may_decide(actor, flag)
    with transaction.atomic():
        _decide(_lock_pair(flag), Decision.DISMISSED, actor)
