"""The workbench's forms: recording a complaint, the bulk actions offered on the
queue pages, and saving a queue's filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints import roles, selectors
from complaints.config_choices import CachedModelChoiceField, CategoryChoiceField
from complaints.filters import ComplaintFilter
from complaints.models import Category, Channel, Demand, Product, SavedFilter, User
from complaints.services import bulk
from complaints.workflow import TRANSITIONS

_MIN_PHONE_DIGITS = 6
MAX_SAVED_FILTERS = 50
_FILTER_KEYS = frozenset(ComplaintFilter.base_filters)


def _bootstrap(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.RadioSelect | forms.HiddenInput):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)


class RecordComplaintForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput)
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"),
        choices=[(c.value, c.label) for c in (Channel.PHONE, Channel.IN_STORE)],
        initial=Channel.PHONE,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    customer_name = forms.CharField(
        label=gettext_lazy("Customer name"), max_length=200, required=False
    )
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=32, required=False)
    email = forms.EmailField(label=gettext_lazy("Email"), required=False)
    order_number = forms.CharField(
        label=gettext_lazy("Order number"), max_length=64, required=False
    )
    product = CachedModelChoiceField(
        label=gettext_lazy("Product"),
        required=False,
        queryset=Product.objects.filter(is_active=True),
    )
    category = CategoryChoiceField(
        label=gettext_lazy("Category"),
        required=False,
        queryset=Category.objects.filter(is_active=True),
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("What happened"), widget=forms.Textarea(attrs={"rows": 5})
    )
    demand = forms.ChoiceField(label=gettext_lazy("Customer demand"), choices=Demand.choices)
    demand_detail = forms.CharField(
        label=gettext_lazy("Demand details"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _bootstrap(self)
        # As the agent types, show the customer's other open complaints (htmx).
        lookup = {
            "hx-get": reverse("complaints:staff-record-lookup"),
            "hx-trigger": "input changed delay:500ms, change",
            "hx-target": "#customer-matches",
            "hx-include": "#id_phone, #id_email",
            "autocomplete": "off",
        }
        self.fields["phone"].widget.attrs.update({**lookup, "type": "tel"})
        self.fields["email"].widget.attrs.update(lookup)

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and sum(ch.isdigit() for ch in phone) < _MIN_PHONE_DIGITS:
            raise forms.ValidationError(
                _("Enter the whole phone number (at least %(count)d digits).")
                % {"count": _MIN_PHONE_DIGITS}
            )
        return phone

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "phone" in self.errors or "email" in self.errors:
            return data
        if not data.get("phone") and not data.get("email"):
            raise forms.ValidationError(
                _(
                    "Enter the customer's phone number or email address (at least one): "
                    "we need it to reach the customer and to recognise them next time."
                ),
                code="no_contact",
            )
        return data


@dataclass(frozen=True)
class BulkAction:
    label: Promise
    needs: tuple[str, ...] = ()
    supervisors_only: bool = False


# The keys are the values of the select in _bulk_actions.html.
BULK_ACTIONS: dict[str, BulkAction] = {
    "claim": BulkAction(gettext_lazy("Claim for myself")),
    "assign": BulkAction(gettext_lazy("Assign to…"), ("assignee",), supervisors_only=True),
    "start": BulkAction(TRANSITIONS["start"].label),
    "release": BulkAction(TRANSITIONS["release"].label, ("reason",)),
    "close": BulkAction(TRANSITIONS["close"].label, ("reason",)),
    "reopen": BulkAction(TRANSITIONS["reopen"].label, ("reason",)),
    "reject": BulkAction(TRANSITIONS["reject"].label, ("reason", "recourse"), True),
}


class BulkActionForm(forms.Form):
    action = forms.ChoiceField(label=gettext_lazy("Action"))
    assignee = forms.ModelChoiceField(
        label=gettext_lazy("Assignee"), required=False, queryset=User.objects.filter(is_active=True)
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, max_length=2000)
    recourse = forms.CharField(
        label=gettext_lazy("Recourse offered"), required=False, max_length=2000
    )

    def __init__(self, *args: Any, actor: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        supervisor = roles.is_supervisor(actor)
        self.fields["action"].choices = [
            (key, a.label)
            for key, a in BULK_ACTIONS.items()
            if supervisor or not a.supervisors_only
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        action = BULK_ACTIONS.get(data.get("action") or "")
        for name in action.needs if action else ():
            if not data.get(name) and name not in self.errors:
                self.add_error(name, _("“%(action)s” needs this.") % {"action": action.label})
        return data

    def run(self, *, actor: Any, ids: list[str]) -> list[bulk.BulkResult]:
        data = self.cleaned_data
        name = data["action"]
        if name == "claim":
            return bulk.complaints_bulk_claim(actor=actor, complaint_ids=ids)
        if name == "assign":
            return bulk.complaints_bulk_assign(
                actor=actor, complaint_ids=ids, assignee=data["assignee"]
            )
        inputs = {field: data[field] for field in BULK_ACTIONS[name].needs}
        return bulk.complaints_bulk_transition(actor=actor, complaint_ids=ids, name=name, **inputs)


def _form_errors(form: forms.Form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        text = " ".join(str(e) for e in errors)
        parts.append(
            _("%(field)s: %(errors)s") % {"field": label, "errors": text} if label else text
        )
    return " ".join(parts)


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=80)
    queue = forms.CharField(max_length=30)
    query = forms.CharField(required=False, max_length=8000)

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if SavedFilter.objects.filter(user=self.user, name=name).exists():
            raise forms.ValidationError(
                _("You already have a saved filter called “%(name)s”. Choose another name.")
                % {"name": name}
            )
        return name

    def clean_queue(self) -> str:
        slug = self.cleaned_data["queue"]
        if slug not in {q.slug for q in selectors.queues_for(self.user)}:
            raise forms.ValidationError(_("Unknown queue."))
        return slug

    def clean_query(self) -> str:
        """Only the queue filters' own parameters, without empty ones (no page number)."""
        given = QueryDict(self.cleaned_data["query"].lstrip("?"))
        kept = QueryDict(mutable=True)
        for key in given:
            values = [v for v in given.getlist(key) if v.strip()]
            if key in _FILTER_KEYS and values:
                kept.setlist(key, values)
        query = kept.urlencode()
        if len(query) > SavedFilter._meta.get_field("query").max_length:
            raise forms.ValidationError(_("This filter is too long to save."))
        return query

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if SavedFilter.objects.filter(user=self.user).count() >= MAX_SAVED_FILTERS:
            raise forms.ValidationError(
                _("You have %(count)d saved filters, the most allowed. Delete one first.")
                % {"count": MAX_SAVED_FILTERS}
            )
        return data
