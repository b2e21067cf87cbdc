"""Which team's queue a complaint goes to (分派).

Routing rules are read in their order; the first active rule whose set conditions
all match picks the team. A rule's category condition also matches the category's
sub-categories. When no rule matches: the category's default team, walking up the
tree to the nearest ancestor that has one; then settings.COMPLAINT_DEFAULT_TEAM (a
team code); then None (the complaint waits for a person to choose). Inactive teams
are skipped at every step.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from complaints import config_cache
from complaints.config_choices import category_chain
from complaints.models import Category, Product, RoutingRule, Team


def ancestor_ids(category: Category | None) -> list[int]:
    """The category's id and its ancestors' ids, nearest first (from config_cache)."""
    if category is None or category.pk is None:
        return []
    return category_chain(category.pk)


def _rule_matches(
    rule: RoutingRule,
    *,
    category_ids: list[int],
    product: Product | None,
    channel: str,
    customer_tier: str,
) -> bool:
    if rule.category_id is not None and rule.category_id not in category_ids:
        return False
    if rule.product_id is not None and (product is None or rule.product_id != product.pk):
        return False
    if rule.channel and rule.channel != (channel or ""):
        return False
    return not (rule.customer_tier and rule.customer_tier != (customer_tier or ""))


def routing_rule_for(
    *,
    category: Category | None,
    product: Product | None = None,
    channel: str = "",
    customer_tier: str = "",
) -> RoutingRule | None:
    """The first active routing rule (by order) whose conditions all match."""
    category_ids = ancestor_ids(category)
    rules = config_cache.lookup(
        "routing-rules",
        lambda: list(
            RoutingRule.objects.filter(is_active=True, team__is_active=True)
            .select_related("team")
            .order_by("order", "pk")
        ),
    )
    for rule in rules:
        if _rule_matches(
            rule,
            category_ids=category_ids,
            product=product,
            channel=channel,
            customer_tier=customer_tier,
        ):
            return rule
    return None


def category_default_team(category: Category | None) -> Team | None:
    """The default team of the category or of its nearest ancestor that has one."""
    ids = ancestor_ids(category)
    if not ids:
        return None
    teams = config_cache.lookup(
        "category-default-teams",
        lambda: {
            c.pk: c.default_team
            for c in Category.objects.filter(
                default_team__isnull=False, default_team__is_active=True
            ).select_related("default_team")
        },
    )
    return next((teams[pk] for pk in ids if pk in teams), None)


def default_team() -> Team | None:
    code = getattr(settings, "COMPLAINT_DEFAULT_TEAM", "") or ""
    if not code:
        return None
    return config_cache.lookup(
        f"default-team:{code}", lambda: Team.objects.filter(code=code, is_active=True).first()
    )


@dataclass(frozen=True)
class Route:
    """A routing decision and why: "rule" (a routing rule), "category" (a category's
    default team), "default" (COMPLAINT_DEFAULT_TEAM) or "none"."""

    team: Team | None
    source: str
    rule: RoutingRule | None = None


def route_explained(
    *,
    category: Category | None,
    product: Product | None = None,
    channel: str = "",
    customer_tier: str = "",
) -> Route:
    rule = routing_rule_for(
        category=category, product=product, channel=channel, customer_tier=customer_tier
    )
    if rule is not None:
        return Route(rule.team, "rule", rule)
    team = category_default_team(category)
    if team is not None:
        return Route(team, "category")
    team = default_team()
    return Route(team, "default") if team is not None else Route(None, "none")


def route(
    *,
    category: Category | None,
    product: Product | None = None,
    channel: str = "",
    customer_tier: str = "",
) -> Team | None:
    """The team for a complaint with these properties (see the module docstring)."""
    return route_explained(
        category=category, product=product, channel=channel, customer_tier=customer_tier
    ).team
