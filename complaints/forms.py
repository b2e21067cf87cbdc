"""Input validation only: forms check what was typed and hand the values to a service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from complaints import selectors
from complaints.models import Category, Priority, Product, RootCause, Team, User
from complaints.workflow import TRANSITIONS

# Per transition: (required fields, optional fields) of TransitionActionForm. The
# services stay the authority (conditions, permissions); this only spares the user a
# round trip for an input that is obviously missing.
TRANSITION_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "triage": (("category", "priority"), ("product", "team", "reason")),
    "assign": (("assignee",), ("team", "reason")),
    "start": ((), ()),
    "await_customer": (("reason",), ()),
    "resume": ((), ("reason",)),
    "reassign": (("assignee", "reason"), ()),
    "release": (("reason",), ()),
    "resolve": (("summary", "root_cause", "remedy"), ()),
    "close": (("reason",), ()),
    "reopen": (("reason",), ()),
    "reject": (("reason", "recourse"), ()),
    "merge": (("merge_into",), ("reason",)),
}

# Form field -> keyword of the service, where the two names differ.
_SERVICE_KEYWORDS = {
    ("await_customer", "reason"): "question",
    ("merge", "merge_into"): "target",
}


def category_paths() -> dict[int, str]:
    """Every category's full name ("Parent / Child") from one query.

    Category.full_name walks the parents one query each; lists and choice fields
    label many categories at once, so they use this instead.
    """
    rows = {
        pk: (parent, name)
        for pk, parent, name in Category.objects.values_list("pk", "parent_id", "name")
    }
    paths = {}
    for pk in rows:
        names, node, seen = [], pk, set()
        while node is not None and node not in seen and node in rows:
            seen.add(node)
            node, name = rows[node]
            names.append(name)
        paths[pk] = " / ".join(reversed(names))
    return paths


class CategoryChoiceField(forms.ModelChoiceField):
    """Labels categories with their full names without a query per option."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._paths: dict[int, str] | None = None

    def label_from_instance(self, obj: Category) -> str:
        if self._paths is None:
            self._paths = category_paths()
        return self._paths.get(obj.pk) or obj.name


_INPUT_FIELDS = (
    "reason",
    "recourse",
    "summary",
    "root_cause",
    "remedy",
    "assignee",
    "team",
    "category",
    "priority",
    "product",
    "merge_into",
)


class TransitionActionForm(forms.Form):
    """The intermediate page of the admin's transition actions.

    With `transition` given, the form asks only for that transition's inputs;
    without it, the user picks the transition and fills in what it needs.
    """

    transition = forms.ChoiceField(label=_("Transition"))
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why; for “Ask the customer”, the question put to the customer."),
    )
    recourse = forms.CharField(
        label=_("Recourse offered"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Where the customer may turn if they disagree (e.g. 12315)."),
    )
    summary = forms.CharField(
        label=_("Resolution summary"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    root_cause = forms.ChoiceField(
        label=_("Root cause"), required=False, choices=[("", "---------"), *RootCause.choices]
    )
    remedy = forms.CharField(
        label=_("Remedy decided"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        required=False,
        queryset=User.objects.filter(is_active=True).order_by("username"),
    )
    team = forms.ModelChoiceField(
        label=_("Team"), required=False, queryset=Team.objects.filter(is_active=True)
    )
    category = CategoryChoiceField(
        label=_("Category"), required=False, queryset=Category.objects.filter(is_active=True)
    )
    priority = forms.ModelChoiceField(
        label=_("Priority"), required=False, queryset=Priority.objects.all()
    )
    product = forms.ModelChoiceField(
        label=_("Product"), required=False, queryset=Product.objects.filter(is_active=True)
    )
    merge_into = forms.CharField(
        label=_("Merge into (tracking number)"), required=False, max_length=40
    )

    def __init__(self, *args: Any, actor: Any, transition: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fixed_transition = transition
        self.fields["transition"].choices = [
            (name, rule.label) for name, rule in TRANSITIONS.items()
        ]
        if transition is not None:
            # The action already names the transition: ask only for its inputs.
            del self.fields["transition"]
            required, optional = TRANSITION_FIELDS[transition]
            for name in _INPUT_FIELDS:
                if name not in required and name not in optional:
                    del self.fields[name]
            for name in required:
                self.fields[name].required = True

    def clean_merge_into(self) -> Any:
        number = (self.cleaned_data.get("merge_into") or "").strip()
        if not number:
            return None
        target = selectors.complaints_visible_to(self.actor).filter(tracking_number=number).first()
        if target is None:
            raise forms.ValidationError(_("No complaint with this tracking number."))
        return target

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.fixed_transition is not None:
            data["transition"] = self.fixed_transition
        name = data.get("transition")
        if name:
            required, _optional = TRANSITION_FIELDS[name]
            for field in required:
                if field in self.fields and field not in self.errors and not data.get(field):
                    self.add_error(
                        field,
                        _("“%(action)s” needs this.") % {"action": TRANSITIONS[name].label},
                    )
        return data

    def service_inputs(self) -> dict[str, Any]:
        """The keyword arguments of the chosen transition's service."""
        name = self.cleaned_data["transition"]
        required, optional = TRANSITION_FIELDS[name]
        inputs = {}
        for field in (*required, *optional):
            value = self.cleaned_data.get(field)
            if field in optional and value in (None, ""):
                continue
            inputs[_SERVICE_KEYWORDS.get((name, field), field)] = value
        return inputs
