"""Similar resolved complaints (相似案例) for the agent handling a complaint: how the same
problem was solved before, with its resolution, root cause and remedy.

`similar_resolved(complaint=, user=)` returns resolved or closed complaints the user may
see (never the complaint itself, never a merged or rejected one, only ones with a
resolution summary), most similar title and description first, each with its score.

How the text is compared:

- PostgreSQL: pg_trgm's `word_similarity(query, title || ' ' || description)`. The query
  is the complaint's text as words without stop words, Chinese segmented by jieba
  (complaints/textsearch.py), so a word such as 屏幕 finds 屏幕碎裂 inside an
  unsegmented Chinese text. pg_trgm keeps CJK characters only when the database's
  LC_CTYPE classifies them as letters (C.UTF-8 and *.UTF-8 locales do, "C" does not):
  checked once per process; where it does not, Chinese text takes the SQLite path.
- SQLite (and the case above): the cosine of CJK unigram/bigram and English word
  counts, stop words dropped (services.duplicates.similarity, the measure duplicate
  detection uses, so "similar" means one thing in the product).

Bounded work on any data size: only the newest SUBJECT_CANDIDATES settled complaints
about the same category or product and the newest RECENT_CANDIDATES overall are
scored: one query on PostgreSQL, two on SQLite. (A search of every resolved complaint
by trigrams was measured and left out: with a GiST index the nearest-neighbour search
degrades on long descriptions, and a GIN `<%` filter rechecks every row sharing the
query's trigrams, so neither is bounded.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import F, FloatField, Func, Q, QuerySet, TextField, Value
from django.db.models.functions import Concat, Substr

from complaints import selectors, textsearch
from complaints.models import Complaint
from complaints.services import duplicates
from complaints.workflow import ComplaintStatus

# Statuses a complaint has when its resolution is known and kept (merged and rejected
# complaints have none; reopened ones are being handled again).
SETTLED = (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED)
SUBJECT_CANDIDATES = 150
RECENT_CANDIDATES = 150
# How much of the complaint's text is compared (a 10,000-character description adds
# little over its first part and costs in every comparison).
QUERY_CHARS = 1500
QUERY_WORDS = 80
CANDIDATE_CHARS = 1500
# Below these a "similar" complaint is noise. pg_trgm word similarity: paraphrases
# score 0.18–0.35, other problems with the same product about 0.1–0.16, unrelated
# text under 0.12 (English shares trigrams of common words; unrelated Chinese 0).
# Token cosine: paraphrases 0.5–0.9, the same product with another problem ~0.25,
# unrelated 0 (see services.duplicates).
MIN_TRIGRAM_SCORE = 0.12
MIN_TOKEN_SCORE = 0.15

_CJK_STOP = duplicates._CJK_STOP
_LATIN_STOP = duplicates._LATIN_STOP


@dataclass(frozen=True)
class SimilarComplaint:
    """A resolved complaint like the one at hand, and how alike they are (0 to 1)."""

    complaint: Complaint
    score: float


class _WordSimilarity(Func):
    # pg_trgm: how well the query's words are found in a stretch of the document.
    function = "word_similarity"
    output_field = FloatField()


def document() -> Concat:
    """The text compared: title and description. A trigram index must be built on this
    very expression for PostgreSQL to use it (see the module docstring)."""
    return Concat(F("title"), Value(" "), F("description"), output_field=TextField())


def _settled_visible(complaint: Complaint, user: Any) -> QuerySet[Complaint]:
    return (
        selectors.complaints_visible_to(user)
        .filter(status__in=SETTLED)
        .exclude(pk=complaint.pk)
        .exclude(resolution_summary="")
    )


def _query_text(complaint: Complaint) -> str:
    return duplicates.complaint_text(complaint)[:QUERY_CHARS]


def trigram_query(text: str) -> str:
    """The words of `text` that say something, once each, space-separated: what
    pg_trgm compares (jieba's words for Chinese, so trigrams are not built across
    word boundaries; stop words and single Latin letters dropped)."""
    seen: dict[str, None] = {}
    for token in textsearch.tokens(text):
        if token in _LATIN_STOP or (len(token) == 1 and (token.isascii() or token in _CJK_STOP)):
            continue
        seen.setdefault(token, None)
        if len(seen) >= QUERY_WORDS:
            break
    return " ".join(seen)


# Per database alias: does pg_trgm see CJK characters there? (Decided by LC_CTYPE,
# which does not change while the process runs.)
_trgm_reads_cjk: dict[str, bool] = {}


def _pg_trgm_reads_cjk(alias: str) -> bool:
    if alias not in _trgm_reads_cjk:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT coalesce(array_length(show_trgm(%s), 1), 0)", ["屏幕"])
            _trgm_reads_cjk[alias] = cursor.fetchone()[0] > 0
    return _trgm_reads_cjk[alias]


def _uses_trigrams(queryset: QuerySet, text: str) -> bool:
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return False
    return not textsearch.has_cjk(text) or _pg_trgm_reads_cjk(queryset.db)


def _candidates(base: QuerySet[Complaint], complaint: Complaint) -> QuerySet[Complaint]:
    """The bounded candidate set: the newest settled complaints about the same category
    or product, and the newest overall (each pool a LIMITed subquery)."""
    newest = ("-received_at", "-pk")
    pools = [base.order_by(*newest).values("pk")[:RECENT_CANDIDATES]]
    subject = Q()
    if complaint.category_id is not None:
        subject |= Q(category_id=complaint.category_id)
    if complaint.product_id is not None:
        subject |= Q(product_id=complaint.product_id)
    if subject:
        pools.append(base.filter(subject).order_by(*newest).values("pk")[:SUBJECT_CANDIDATES])
    if len(pools) > 1 and connections[base.db].features.supports_slicing_ordering_in_compound:
        # PostgreSQL: id IN ((… LIMIT n) UNION ALL (… LIMIT m)) is a hash of a few
        # hundred ids probed through the primary key; "IN (a) OR IN (b)" would scan
        # the whole table. (SQLite allows no LIMIT inside a UNION; its planner turns
        # the OR of rowid lists into lookups.)
        return base.filter(pk__in=pools[0].union(*pools[1:], all=True))
    condition = Q()
    for pool in pools:
        condition |= Q(pk__in=pool)
    return base.filter(condition)


def _by_trigrams(
    base: QuerySet[Complaint], complaint: Complaint, query: str, limit: int
) -> list[SimilarComplaint]:
    rows = (
        _candidates(base, complaint)
        .annotate(similarity=_WordSimilarity(Value(query), document()))
        .filter(similarity__gte=MIN_TRIGRAM_SCORE)
        .order_by("-similarity", "-received_at", "-pk")[:limit]
    )
    return [SimilarComplaint(row, round(row.similarity, 3)) for row in rows]


def _by_tokens(
    base: QuerySet[Complaint], complaint: Complaint, text: str, limit: int
) -> list[SimilarComplaint]:
    mine = duplicates.tokens(text)
    if not mine:
        return []
    heads = _candidates(base, complaint).annotate(head=Substr(document(), 1, CANDIDATE_CHARS))
    scored = []
    for pk, head in heads.values_list("pk", "head"):
        score = duplicates.similarity(mine, duplicates.tokens(head))
        if score >= MIN_TOKEN_SCORE:
            scored.append((score, pk))
    # Most similar first; among equals the newer complaint (larger pk).
    scored.sort(reverse=True)
    top = scored[:limit]
    rows = Complaint.objects.in_bulk([pk for _score, pk in top])
    return [SimilarComplaint(rows[pk], round(score, 3)) for score, pk in top if pk in rows]


def similar_resolved(*, complaint: Complaint, user: Any, limit: int = 5) -> list[SimilarComplaint]:
    """Resolved or closed complaints `user` may see that read like `complaint`, most
    similar first (at most `limit`), with their resolution, root cause and remedy."""
    base = _settled_visible(complaint, user)
    text = _query_text(complaint)
    if limit <= 0 or not text.strip():
        return []
    if _uses_trigrams(base, text):
        query = trigram_query(text)
        return _by_trigrams(base, complaint, query, limit) if query else []
    return _by_tokens(base, complaint, text, limit)
