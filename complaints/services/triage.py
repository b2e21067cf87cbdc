"""Keyword triage (分类分级): keyword rules propose a category, a product, an urgency,
an impact and flags; the urgency × impact grid gives the priority; routing gives
the team. The proposal is recorded with the words that fired, applied by the
system when it is complete, and compared with what the agent finally chose.

How rules combine (every active rule that matches contributes):
- a rule matches when each of its lines (concepts) has at least one of its
  synonyms ("|") in the text (textsearch: Chinese as substrings, English as whole
  words, "*" for a word prefix); a one-line rule is a plain list of synonyms;
- category and product: the first matching rule (by order) that sets one wins;
- urgency and impact: the highest wins (critical > high > normal > low;
  safety > public > group > individual);
- flags: the union, in rule order.

Priority: PriorityMatrix[urgency or "normal"][impact or "individual"]. When that
cell is missing: P1 if the urgency is critical or the impact is safety (a safety
issue is never left at a lower grade because a cell was forgotten), else P3 (the
ordinary grade); a missing grade gives no priority.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext as _

from complaints import config_cache, roles, textsearch
from complaints.config_choices import cached_rows, category_paths
from complaints.errors import ServiceError
from complaints.models import (
    Category,
    Complaint,
    Impact,
    KeywordRule,
    Priority,
    PriorityMatrix,
    Product,
    Team,
    TriageProposal,
    Urgency,
)
from complaints.services import routing
from complaints.workflow import ComplaintStatus

URGENCY_RANK = {Urgency.LOW: 0, Urgency.NORMAL: 1, Urgency.HIGH: 2, Urgency.CRITICAL: 3}
IMPACT_RANK = {Impact.INDIVIDUAL: 0, Impact.GROUP: 1, Impact.PUBLIC: 2, Impact.SAFETY: 3}


# --- Compiled rules, cached per process -----------------------------------------------------


@dataclass(frozen=True)
class CompiledRule:
    pk: int
    name: str
    concepts: tuple[tuple[str, ...], ...]  # lines; each a tuple of synonyms
    category_id: int | None
    product_id: int | None
    urgency: str
    impact: str
    flags: tuple[str, ...]


def parse_terms(terms: str) -> tuple[tuple[str, ...], ...]:
    """ "起火|fire\\n厨房|kitchen" → (("起火", "fire"), ("厨房", "kitchen")); blanks dropped."""
    concepts = []
    for line in (terms or "").splitlines():
        synonyms = tuple(dict.fromkeys(s.strip() for s in line.split("|") if s.strip()))
        if synonyms:
            concepts.append(synonyms)
    return tuple(concepts)


def parse_flags(flags: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f.strip() for f in (flags or "").split(",") if f.strip()))


def _compile_rules() -> tuple[CompiledRule, ...]:
    rules = tuple(
        CompiledRule(
            pk=r.pk,
            name=r.name,
            concepts=parse_terms(r.terms),
            category_id=r.category_id,
            product_id=r.product_id,
            urgency=r.urgency,
            impact=r.impact,
            flags=parse_flags(r.flags),
        )
        for r in KeywordRule.objects.filter(is_active=True).order_by("order", "pk")
    )
    textsearch.add_words(term for rule in rules for line in rule.concepts for term in line)
    return rules


def compiled_rules() -> tuple[CompiledRule, ...]:
    """The active rules in order, compiled once per process and again after any rule
    changed (config_cache listens to KeywordRule)."""
    return config_cache.lookup("keyword-rules", _compile_rules)


def clear_cache() -> None:
    config_cache.invalidate()


# --- Proposing ------------------------------------------------------------------------------


@dataclass
class Proposal:
    category: Category | None = None
    product: Product | None = None
    urgency: str = ""  # the highest that fired, "" if none did
    impact: str = ""
    priority: Priority | None = None
    priority_from_grid: bool = True  # False: the grid had no cell, the fallback chose
    team: Team | None = None
    route: routing.Route | None = None
    flags: list[str] = field(default_factory=list)
    # [{"rule": id, "name", "words": [...], "category", "urgency", "impact", "flags"}]
    matches: list[dict[str, Any]] = field(default_factory=list)
    rule_ids: list[int] = field(default_factory=list)
    document: textsearch.Document | None = None

    @property
    def words(self) -> list[str]:
        return list(dict.fromkeys(w for m in self.matches for w in m["words"]))

    @property
    def tokens(self) -> list[str]:
        """jieba's segmentation of the text (loads the dictionary on first use)."""
        return self.document.tokens if self.document is not None else []


def _rule_words(rule: CompiledRule, doc: textsearch.Document) -> list[str] | None:
    """The words that fired for `rule`, or None if one of its concepts is absent."""
    words: list[str] = []
    for synonyms in rule.concepts:
        found = [w for w in (doc.find(s) for s in synonyms) if w is not None]
        if not found:
            return None
        words.extend(found)
    return list(dict.fromkeys(words)) if words else None


def priority_for(urgency: str, impact: str) -> tuple[Priority | None, bool]:
    """The grid's priority for urgency × impact (blank = normal / individual), and
    whether it came from the grid (False: the documented fallback)."""
    urgency = urgency or Urgency.NORMAL
    impact = impact or Impact.INDIVIDUAL
    grid = config_cache.lookup(
        "priority-grid",
        lambda: {
            (cell.urgency, cell.impact): cell.priority
            for cell in PriorityMatrix.objects.select_related("priority")
        },
    )
    if (urgency, impact) in grid:
        return grid[(urgency, impact)], True
    code = "P1" if urgency == Urgency.CRITICAL or impact == Impact.SAFETY else "P3"
    by_code = {p.code: p for p in cached_rows(Priority.objects.order_by("pk"), "rows:priorities")}
    return by_code.get(code), False


def _highest(values: list[str], rank: dict) -> str:
    present = [v for v in values if v in rank]
    return max(present, key=lambda v: rank[v]) if present else ""


def triage_propose(
    *,
    text: str,
    channel: str = "",
    customer_tier: str = "",
    product: Product | None = None,
) -> Proposal:
    """What the keyword rules propose for `text` (reads only; see the module docstring).

    `product`: the product the customer named, if any; it beats the rules' guess.
    """
    doc = textsearch.Document(text)
    fired: list[tuple[CompiledRule, list[str]]] = []
    for rule in compiled_rules():
        words = _rule_words(rule, doc)
        if words is not None:
            fired.append((rule, words))

    category_ids = [r.category_id for r, _w in fired if r.category_id]
    categories = {
        c.pk: c
        for c in cached_rows(Category.objects.filter(is_active=True), "rows:active-categories")
    }
    category = next((categories[pk] for pk in category_ids if pk in categories), None)
    if product is None:
        product_ids = [r.product_id for r, _w in fired if r.product_id]
        products = {
            p.pk: p
            for p in cached_rows(Product.objects.filter(is_active=True), "rows:active-products")
        }
        product = next((products[pk] for pk in product_ids if pk in products), None)

    urgency = _highest([r.urgency for r, _w in fired], URGENCY_RANK)
    impact = _highest([r.impact for r, _w in fired], IMPACT_RANK)
    priority, from_grid = priority_for(urgency, impact)
    route = routing.route_explained(
        category=category, product=product, channel=channel, customer_tier=customer_tier
    )
    names = category_paths()
    return Proposal(
        category=category,
        product=product,
        urgency=urgency,
        impact=impact,
        priority=priority,
        priority_from_grid=from_grid,
        team=route.team,
        route=route,
        flags=list(dict.fromkeys(f for r, _w in fired for f in r.flags)),
        matches=[
            {
                "rule": r.pk,
                "name": r.name,
                "words": words,
                "category": names.get(r.category_id),
                "urgency": r.urgency,
                "impact": r.impact,
                "flags": list(r.flags),
            }
            for r, words in fired
        ],
        rule_ids=[r.pk for r, _w in fired],
        document=doc,
    )


def complaint_text(complaint: Complaint) -> str:
    """What the rules read: the title and the description. Not the demand details:
    what the customer asks for (a refund, a repair) says little about the topic, and
    "refund" in every demand would drown the billing rule."""
    return "\n".join(part for part in (complaint.title, complaint.description) if part)


# --- Recording, applying, comparing ----------------------------------------------------------


def triage_record_proposal(*, complaint: Complaint, new: bool = False) -> TriageProposal:
    """Create or refresh the complaint's proposal (called at intake, in its transaction).

    `new`: the complaint was created in this transaction, so it has no proposal yet
    (two inserts instead of a look-up, savepoints and a diff of the rules)."""
    proposal = triage_propose(
        text=complaint_text(complaint),
        channel=complaint.channel,
        customer_tier=complaint.customer.tier if complaint.customer_id else "",
        product=complaint.product,
    )
    values = {
        "category": proposal.category,
        "product": proposal.product,
        "priority": proposal.priority,
        "team": proposal.team,
        "urgency": proposal.urgency,
        "impact": proposal.impact,
        "flags": proposal.flags,
        "matches": proposal.matches,
        "category_kept": None,
        "priority_kept": None,
    }
    if new:
        with transaction.atomic(savepoint=False):
            # Setting the complaint also keeps the row on complaint.triage_proposal.
            row = TriageProposal.objects.create(complaint=complaint, **values)
            link = TriageProposal.rules.through
            link.objects.bulk_create(
                [link(triageproposal_id=row.pk, keywordrule_id=pk) for pk in proposal.rule_ids]
            )
        return row
    with transaction.atomic():
        row, _created = TriageProposal.objects.update_or_create(
            complaint=complaint, defaults=values
        )
        row.rules.set(proposal.rule_ids)
        if complaint.status != ComplaintStatus.NEW:
            _compare(row, complaint)
    return row


def triage_proposal_for(complaint: Complaint) -> TriageProposal | None:
    """The complaint's recorded proposal with what the detail page shows (one query)."""
    return (
        TriageProposal.objects.select_related("category", "product", "priority", "team")
        .filter(complaint_id=complaint.pk)
        .first()
    )


def triage_auto_apply(*, complaint: Complaint) -> bool:
    """Triage a new complaint as the system with its proposal, when the proposal has a
    category and a priority; returns whether it did.

    Not applied when a person already chose another category at intake (theirs
    stands), or when the transition is refused (e.g. someone triaged it meanwhile).
    """
    # Imported here: transitions may call triage_mark_kept from this module.
    from complaints.services.transitions import complaint_triage

    if complaint.status != ComplaintStatus.NEW:
        return False
    try:
        # Kept on the complaint when intake recorded it a moment ago (no query then).
        row = complaint.triage_proposal
    except TriageProposal.DoesNotExist:
        row = None
    if row is None:
        row = triage_record_proposal(complaint=complaint)
    if row.category_id is None or row.priority_id is None:
        return False
    if complaint.category_id is not None and complaint.category_id != row.category_id:
        return False
    product = complaint.product or row.product
    team = routing.route(
        category=row.category,
        product=product,
        channel=complaint.channel,
        customer_tier=complaint.customer.tier,
    )
    rules = "; ".join(f"{m['name']} ({', '.join(m['words'])})" for m in row.matches)
    try:
        complaint_triage(
            complaint=complaint,
            actor=roles.SYSTEM,
            category=row.category,
            priority=row.priority,
            product=product if complaint.product_id is None else None,
            team=team,
            reason=_("Triaged by keyword rules: %(rules)s") % {"rules": rules},
        )
    except ServiceError:
        return False
    return True  # the triage transition marked what was kept


def _compare(row: TriageProposal, complaint: Complaint) -> list[str]:
    """Set the kept flags from the complaint's current values; returns changed fields.

    A category is kept when the final one is the proposed one or one of its
    sub-categories (the agent refined it). Nothing proposed, or nothing chosen
    yet: None.
    """
    category_kept = None
    if row.category_id is not None and complaint.category_id is not None:
        category_kept = row.category_id in routing.ancestor_ids(complaint.category)
    priority_kept = None
    if row.priority_id is not None and complaint.priority_id is not None:
        priority_kept = row.priority_id == complaint.priority_id
    changed = []
    if row.category_kept != category_kept:
        row.category_kept = category_kept
        changed.append("category_kept")
    if row.priority_kept != priority_kept:
        row.priority_kept = priority_kept
        changed.append("priority_kept")
    return changed


def triage_mark_kept(*, complaint: Complaint) -> TriageProposal | None:
    """After a triage or a reclassification: did the final category and priority keep
    what was proposed? The proposal row keeps what was proposed; the complaint's
    history and timeline keep who chose otherwise and why."""
    try:
        # The row loaded with the complaint or recorded in this request, if any: only
        # the kept flags are written, from the complaint's values, so it serves.
        row = complaint.triage_proposal
    except TriageProposal.DoesNotExist:
        return None
    changed = _compare(row, complaint)
    if changed:
        # An UPDATE that matches no row when the proposal is gone (save() would raise).
        TriageProposal.objects.filter(pk=row.pk).update(**{f: getattr(row, f) for f in changed})
    return row


# --- Accuracy ----------------------------------------------------------------------------------


def keyword_rules_with_accuracy(queryset: QuerySet | None = None) -> QuerySet:
    """Rules annotated with their proposals and how many were kept.

    Per rule, a category counts when the rule's category is the one proposed; a
    priority counts for rules that set an urgency or an impact. Only proposals an
    agent (or the system) has decided on count towards the share.
    """
    queryset = KeywordRule.objects.all() if queryset is None else queryset
    same_category = Q(proposals__category=F("category"))
    return queryset.annotate(
        proposal_count=Count("proposals", distinct=True),
        category_decided=Count(
            "proposals",
            filter=same_category & Q(proposals__category_kept__isnull=False),
            distinct=True,
        ),
        category_kept_count=Count(
            "proposals", filter=same_category & Q(proposals__category_kept=True), distinct=True
        ),
        priority_decided=Count(
            "proposals", filter=Q(proposals__priority_kept__isnull=False), distinct=True
        ),
        priority_kept_count=Count(
            "proposals", filter=Q(proposals__priority_kept=True), distinct=True
        ),
    )


def percent(kept: int, decided: int) -> float | None:
    return round(100.0 * kept / decided, 1) if decided else None


def rule_accuracy(rule: KeywordRule) -> dict[str, Any]:
    """One annotated rule (keyword_rules_with_accuracy) as numbers; None = no data."""
    sets_priority = bool(rule.urgency or rule.impact)
    return {
        "rule": rule,
        "proposals": rule.proposal_count,
        "category_decided": rule.category_decided if rule.category_id else None,
        "category_kept": percent(rule.category_kept_count, rule.category_decided)
        if rule.category_id
        else None,
        "priority_decided": rule.priority_decided if sets_priority else None,
        "priority_kept": percent(rule.priority_kept_count, rule.priority_decided)
        if sets_priority
        else None,
    }


def triage_accuracy() -> list[dict[str, Any]]:
    """Per rule, in order: proposals, decided, and the % of categories and priorities
    kept (None where the rule proposes no such thing or nothing was decided yet)."""
    return [
        rule_accuracy(rule)
        for rule in keyword_rules_with_accuracy().select_related("category").order_by("order", "pk")
    ]


def triage_accuracy_overall() -> dict[str, Any]:
    rows = TriageProposal.objects.aggregate(
        proposals=Count("pk"),
        category_decided=Count("pk", filter=Q(category_kept__isnull=False)),
        category_kept=Count("pk", filter=Q(category_kept=True)),
        priority_decided=Count("pk", filter=Q(priority_kept__isnull=False)),
        priority_kept=Count("pk", filter=Q(priority_kept=True)),
    )
    return {
        "proposals": rows["proposals"],
        "category_decided": rows["category_decided"],
        "category_kept": percent(rows["category_kept"], rows["category_decided"]),
        "priority_decided": rows["priority_decided"],
        "priority_kept": percent(rows["priority_kept"], rows["priority_decided"]),
    }


# The starter set lives beside this module; re-exported for callers of this service.
from complaints.services.triage_defaults import (  # noqa: E402
    DEFAULT_GRID,
    DEFAULT_RULES,
    triage_install_defaults,
)

__all__ = [
    "DEFAULT_GRID",
    "DEFAULT_RULES",
    "compiled_rules",
    "keyword_rules_with_accuracy",
    "priority_for",
    "triage_accuracy",
    "triage_accuracy_overall",
    "triage_auto_apply",
    "triage_install_defaults",
    "triage_mark_kept",
    "triage_proposal_for",
    "triage_propose",
    "triage_record_proposal",
]
