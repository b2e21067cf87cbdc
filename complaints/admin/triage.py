"""Admin for keyword triage and routing: keyword rules (with their accuracy), the
urgency × impact grid, routing rules, the recorded proposals (read only), and a
"Try it" page that shows what triage would propose for a pasted text.

Imported by complaints/admin/__init__.py; the shared admin pieces are in complaints.admin.base.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from complaints.admin.base import HistoryAdmin, ReadOnlyAdminMixin
from complaints.models import (
    Channel,
    Complaint,
    Customer,
    Impact,
    KeywordRule,
    PriorityMatrix,
    RoutingRule,
    TriageProposal,
    Urgency,
)
from complaints.services import sla as sla_services
from complaints.services import triage
from complaints.services.triage import parse_terms

TERMS_HELP = _(
    "One concept per line; synonyms on a line separated by “|”. The rule fires when "
    "every line has at least one of its words in the complaint. Chinese words match "
    "anywhere in the text; English words match whole words, case-insensitively "
    "(“fire” does not match “firewall”); end a word with “*” to match its "
    "beginning (“injur*” matches “injured” and “injury”). "
    "Example: 起火|着火|冒烟|fire|smoke"
)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} %"


# --- Keyword rules --------------------------------------------------------------------------


class KeywordRuleForm(forms.ModelForm):
    class Meta:
        model = KeywordRule
        fields = (
            "name",
            "terms",
            "category",
            "product",
            "urgency",
            "impact",
            "flags",
            "order",
            "is_active",
        )
        widgets = {"terms": forms.Textarea(attrs={"rows": 4, "cols": 80})}
        help_texts = {
            "terms": TERMS_HELP,
            "flags": _("Comma-separated labels shown to the agent, e.g. legal,media."),
            "order": _("Lower first: the first matching rule's category and product win."),
        }

    def clean_terms(self) -> str:
        terms = self.cleaned_data["terms"]
        if not parse_terms(terms):
            raise forms.ValidationError(_("Give at least one word or phrase."))
        return terms.strip()


class TryItForm(forms.Form):
    text = forms.CharField(
        label=_("Complaint text"),
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        max_length=10000,
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", "—"), *Channel.choices], required=False
    )
    customer_tier = forms.ChoiceField(
        label=_("Customer tier"), choices=[("", "—"), *Customer.Tier.choices], required=False
    )


def _sla_policy_name(proposal: triage.Proposal) -> str | None:
    """The SLA policy the proposal would get, or None when the SLA module cannot say.

    complaints.services.sla.policy_for(complaint) is owned by the SLA work and read
    through getattr; an unsaved complaint carries the proposed values. A failure there
    must not break a page for trying keyword rules.
    """
    policy_for = getattr(sla_services, "policy_for", None)
    if policy_for is None:
        return None
    draft = Complaint(category=proposal.category, priority=proposal.priority, team=proposal.team)
    try:
        policy = policy_for(draft)
    except Exception:  # noqa: BLE001 — see the docstring
        return None
    return str(policy) if policy is not None else ""


@admin.register(KeywordRule)
class KeywordRuleAdmin(HistoryAdmin):
    form = KeywordRuleForm
    change_list_template = "admin/complaints/keywordrule/change_list.html"
    # Accuracy first: the list is wide, and it is what tells which rule to fix.
    list_display = (
        "name",
        "proposals_column",
        "category_kept_column",
        "priority_kept_column",
        "order",
        "is_active",
        "category",
        "urgency",
        "impact",
        "terms_preview",
    )
    list_display_links = ("name",)
    list_editable = ("order", "is_active")
    list_filter = ("is_active", "urgency", "impact")
    list_select_related = ("category", "product")
    search_fields = ("name", "terms", "flags")
    category_relation = "category"

    def get_queryset(self, request):
        return triage.keyword_rules_with_accuracy(super().get_queryset(request))

    @admin.display(description=_("words"))
    def terms_preview(self, obj: KeywordRule) -> str:
        text = " / ".join("|".join(line) for line in parse_terms(obj.terms))
        return text if len(text) <= 40 else text[:39] + "…"

    @admin.display(description=_("proposals"), ordering="proposal_count")
    def proposals_column(self, obj: KeywordRule) -> int:
        return obj.proposal_count

    @admin.display(description=_("category kept"))
    def category_kept_column(self, obj: KeywordRule) -> str:
        return _percent(triage.rule_accuracy(obj)["category_kept"])

    @admin.display(description=_("priority kept"))
    def priority_kept_column(self, obj: KeywordRule) -> str:
        return _percent(triage.rule_accuracy(obj)["priority_kept"])

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "try/",
                self.admin_site.admin_view(self.try_view),
                name=f"{opts.app_label}_{opts.model_name}_try",
            ),
            *super().get_urls(),
        ]

    def try_view(self, request):
        """Paste a complaint: see what triage would propose, and why (writes nothing)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = TryItForm(request.POST or None)
        proposal = None
        sla_policy = None
        if request.method == "POST" and form.is_valid():
            proposal = triage.triage_propose(
                text=form.cleaned_data["text"],
                channel=form.cleaned_data["channel"],
                customer_tier=form.cleaned_data["customer_tier"],
            )
            sla_policy = _sla_policy_name(proposal)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Try the keyword rules"),
            "opts": self.model._meta,
            "form": form,
            "proposal": proposal,
            "sla_policy": sla_policy,
            "sla_available": hasattr(sla_services, "policy_for"),
            "urgency_label": _label(Urgency, proposal.urgency) if proposal else None,
            "impact_label": _label(Impact, proposal.impact) if proposal else None,
            "matches": [
                {
                    **match,
                    "urgency": _label(Urgency, match["urgency"]),
                    "impact": _label(Impact, match["impact"]),
                }
                for match in (proposal.matches if proposal else [])
            ],
            "grid": _grid(),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/complaints/keywordrule/try.html", context)


def _label(choices, value: str) -> str:
    return str(dict(choices.choices).get(value, value)) if value else ""


def _grid() -> dict[str, Any]:
    """The urgency × impact grid as rows for a table (most urgent first)."""
    cells = {
        (c.urgency, c.impact): c.priority for c in PriorityMatrix.objects.select_related("priority")
    }
    impacts = list(Impact.choices)
    return {
        "impacts": [label for _value, label in impacts],
        "rows": [
            {"label": label, "cells": [cells.get((value, i)) for i, _l in impacts]}
            for value, label in reversed(Urgency.choices)
        ],
    }


# --- The grid and routing -------------------------------------------------------------------


@admin.register(PriorityMatrix)
class PriorityMatrixAdmin(HistoryAdmin):
    list_display = ("urgency", "impact", "priority")
    list_editable = ("priority",)
    list_filter = ("urgency", "impact", "priority")
    list_select_related = ("priority",)


class RoutingRuleForm(forms.ModelForm):
    channel = forms.ChoiceField(
        label=_("channel"), choices=[("", _("any")), *Channel.choices], required=False
    )
    customer_tier = forms.ChoiceField(
        label=_("customer tier"), choices=[("", _("any")), *Customer.Tier.choices], required=False
    )

    class Meta:
        model = RoutingRule
        fields = (
            "name",
            "order",
            "category",
            "product",
            "channel",
            "customer_tier",
            "team",
            "is_active",
        )
        help_texts = {
            "order": _(
                "Lower first: the first active rule whose set conditions all match "
                "picks the team. Without a match, the category's default team is used."
            ),
        }


@admin.register(RoutingRule)
class RoutingRuleAdmin(HistoryAdmin):
    form = RoutingRuleForm
    list_display = (
        "name",
        "order",
        "category",
        "product",
        "channel",
        "customer_tier",
        "team",
        "is_active",
    )
    list_editable = ("order", "is_active")
    list_filter = ("is_active", "team", "channel", "customer_tier")
    list_select_related = ("category", "product", "team")
    search_fields = ("name",)
    category_relation = "category"


# --- Recorded proposals: read only ----------------------------------------------------------


@admin.register(TriageProposal)
class TriageProposalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "complaint",
        "category",
        "priority",
        "team",
        "urgency",
        "impact",
        "flags_column",
        "words_column",
        "category_kept",
        "priority_kept",
        "created_at",
    )
    list_filter = ("category_kept", "priority_kept", "urgency", "impact", "rules")
    list_select_related = ("complaint", "category", "priority", "team")
    search_fields = ("complaint__tracking_number",)
    date_hierarchy = "created_at"
    fields = (
        "complaint",
        "category",
        "product",
        "priority",
        "team",
        "urgency",
        "impact",
        "flags",
        "matches",
        "rules",
        "category_kept",
        "priority_kept",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("flags"))
    def flags_column(self, obj: TriageProposal) -> str:
        return ", ".join(obj.flags or [])

    @admin.display(description=_("words"))
    def words_column(self, obj: TriageProposal) -> str:
        words = dict.fromkeys(w for m in obj.matches or [] for w in m.get("words", []))
        return ", ".join(words)
