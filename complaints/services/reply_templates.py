"""Reply templates: wording an agent inserts into the reply box, with placeholders.

A placeholder is a name in braces, `{customer_name}`. Rendering replaces exactly the
known names with a regular expression and nothing else: never `str.format`, whose
`{customer_name.__class__}` or `{x[0]}` would reach into Python objects. Unknown
names stay as they are (the agent sees them and fixes the text); a missing value
becomes empty.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _

from complaints.config_choices import cached_rows
from complaints.errors import NotFound
from complaints.models import Complaint, ReplyTemplate
from complaints.public_links import status_url
from complaints.services.guidance import category_chain_ids

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Loose match for the admin's check: anything in braces that looks meant as a name.
_BRACED = re.compile(r"\{([^{}\s]{1,60})\}")


def _name(user: Any) -> str:
    # A reply goes to the customer: the name staff chose to show, else the first name
    # (never the username or a last name, like the public status page).
    if user is None:
        return ""
    return (getattr(user, "display_name", "") or getattr(user, "first_name", "") or "").strip()


def _deadline(complaint: Complaint, language: str) -> str:
    if complaint.resolution_due_at is None:
        return ""
    moment = timezone.localtime(complaint.resolution_due_at, ZoneInfo(settings.TIME_ZONE))
    with translation.override(language):
        return formats.date_format(moment, "DATETIME_FORMAT")


# name -> (what the admin help text says, how the value is found)
PLACEHOLDERS: dict[str, tuple[Any, Callable[[Complaint, Any, str], str]]] = {
    "customer_name": (_("the customer's name"), lambda c, a, lang: c.customer.name),
    "tracking_number": (_("the tracking number"), lambda c, a, lang: c.tracking_number),
    "title": (_("the complaint's title"), lambda c, a, lang: c.title),
    "deadline": (
        _("the resolution deadline, in the customer's language"),
        lambda c, a, lang: _deadline(c, lang),
    ),
    "agent_name": (_("your name"), lambda c, a, lang: _name(a)),
    "category": (
        _("the category"),
        lambda c, a, lang: c.category.name if c.category_id else "",
    ),
    "product": (_("the product"), lambda c, a, lang: c.product.name if c.product_id else ""),
    "order_number": (_("the order number"), lambda c, a, lang: c.order_number),
    "status_link": (
        _("the link to the customer's status page"),
        lambda c, a, lang: status_url(c),
    ),
}


def placeholder_help() -> list[tuple[str, Any]]:
    """[("{customer_name}", "the customer's name"), …] for help texts."""
    return [(f"{{{name}}}", label) for name, (label, _get) in PLACEHOLDERS.items()]


def unknown_placeholders(body: str) -> list[str]:
    """The braced names in `body` that rendering will not replace, each once, in order
    ("{customer}", "{customer_name.__class__}"). The admin refuses such a template."""
    found: list[str] = []
    for match in _BRACED.finditer(body or ""):
        if match.group(1) not in PLACEHOLDERS and match.group(0) not in found:
            found.append(match.group(0))
    return found


def _supported(code: str) -> str | None:
    """`code` as written in settings.LANGUAGES ("zh-Hans" -> "zh-hans", "en-US" -> "en")."""
    known = {c.lower(): c for c, _name in settings.LANGUAGES}
    code = (code or "").strip().replace("_", "-").lower()
    while code:
        if code in known:
            return known[code]
        code = code.rpartition("-")[0]
    return None


def reply_language(complaint: Complaint) -> str:
    """The language to write to the customer in: the complaint's, the customer's, else
    the site default (a code of settings.LANGUAGES)."""
    for code in (complaint.language, complaint.customer.language):
        supported = _supported(code)
        if supported:
            return supported
    return settings.LANGUAGE_CODE


def _offered(complaint: Complaint) -> QuerySet[ReplyTemplate]:
    chain = category_chain_ids(complaint)
    return ReplyTemplate.objects.filter(is_active=True).filter(
        Q(category__isnull=True) | Q(category_id__in=chain),
        Q(language="") | Q(language=reply_language(complaint)),
    )


def reply_templates_for(*, complaint: Complaint) -> list[ReplyTemplate]:
    """The active templates for the complaint's category (or an ancestor's, or every
    category's) in the customer's language (or any language), most specific first:
    the nearest category, then templates written in that language, then by name."""
    chain = category_chain_ids(complaint)
    depth = {pk: i for i, pk in enumerate(chain)}

    def rank(template: ReplyTemplate) -> tuple:
        return (
            depth.get(template.category_id, len(chain)),
            template.language == "",
            template.name.casefold(),
            template.pk,
        )

    # Every active template is configuration kept by config_cache; the choice is made
    # here with the same conditions as _offered (which the use of one re-checks).
    language = reply_language(complaint)
    active = cached_rows(
        ReplyTemplate.objects.filter(is_active=True).order_by("pk"), "rows:active-reply-templates"
    )
    offered = [
        t
        for t in active
        if (t.category_id is None or t.category_id in depth) and t.language in ("", language)
    ]
    return sorted(offered, key=rank)


def reply_template_get_for(*, complaint: Complaint, pk: Any) -> ReplyTemplate:
    """A template offered for this complaint, or NotFound (inactive, other category or
    language, missing alike)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("No such reply template for this complaint.")) from None
    template = _offered(complaint).filter(pk=pk).first()
    if template is None:
        raise NotFound(_("No such reply template for this complaint."))
    return template


def reply_template_render(*, template: ReplyTemplate, complaint: Complaint, actor: Any) -> str:
    """The template's text with the complaint's values in place of its placeholders."""
    language = reply_language(complaint)
    values: dict[str, str] = {}

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            return match.group(0)
        if name not in values:
            value = PLACEHOLDERS[name][1](complaint, actor, language)
            values[name] = "" if value is None else str(value)
        return values[name]

    return PLACEHOLDER.sub(replace, template.body)
