"""FilterSets shared by the staff queues and the API."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from complaints.config_choices import (
    CachedModelChoiceFilter,
    CachedModelMultipleChoiceFilter,
    category_descendants,
)
from complaints.contacts import normalize_email, normalize_phone
from complaints.models import Category, Channel, Complaint, Priority, Product, Team, User
from complaints.tracking import clean_tracking_number
from complaints.widgets import FastSelect
from complaints.workflow import ComplaintStatus


def _descendant_ids(category: Category) -> list[int]:
    """The category and all its descendants (a category filter includes sub-categories)."""
    return category_descendants(category.pk)


# Ids beyond a 64-bit integer cannot exist, and the databases refuse to compare them
# (SQLite: OverflowError): such a value is answered like any unknown choice.
MAX_ID = 2**63 - 1
_ID_FILTERS = (
    django_filters.ModelChoiceFilter,
    django_filters.ModelMultipleChoiceFilter,
    django_filters.NumberFilter,
)


def _out_of_range(value: str) -> bool:
    try:
        return abs(int(value)) > MAX_ID
    except (TypeError, ValueError):
        return False


def _values(data, name: str) -> list:
    if hasattr(data, "getlist"):
        return data.getlist(name)
    value = data.get(name)
    return value if isinstance(value, list | tuple) else [value]


def _without_impossible_ids(data, filters):
    """`data` with every out-of-range id replaced by a non-number (a plain "not a valid
    choice" error, no query)."""
    too_large = [
        name
        for name, flt in filters.items()
        if isinstance(flt, _ID_FILTERS) and any(_out_of_range(v) for v in _values(data, name))
    ]
    if not too_large:
        return data
    data = data.copy()
    for name in too_large:
        if hasattr(data, "setlist"):
            data.setlist(name, ["invalid"])
        else:
            data[name] = "invalid"
    return data


class ComplaintFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_text",
        widget=forms.TextInput(attrs={"placeholder": _("Tracking number, title, phone, email…")}),
    )
    # distinct=False: these filter the complaint's own columns, no join can repeat a row
    # (DISTINCT over every column would sort the whole match before paging).
    status = django_filters.MultipleChoiceFilter(
        label=_("Status"), choices=ComplaintStatus.choices, distinct=False
    )
    priority = CachedModelMultipleChoiceFilter(
        label=_("Priority"), queryset=Priority.objects.all(), distinct=False
    )
    category = CachedModelChoiceFilter(
        label=_("Category"),
        queryset=Category.objects.select_related("parent__parent"),
        method="filter_category",
    )
    product = CachedModelChoiceFilter(label=_("Product"), queryset=Product.objects.all())
    channel = django_filters.MultipleChoiceFilter(
        label=_("Channel"), choices=Channel.choices, distinct=False
    )
    team = CachedModelChoiceFilter(label=_("Team"), queryset=Team.objects.all())
    assignee = CachedModelChoiceFilter(
        label=_("Assignee"), queryset=User.objects.filter(is_active=True).order_by("username")
    )
    received_after = django_filters.DateFilter(
        label=_("Received from"),
        field_name="received_at",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    received_before = django_filters.DateFilter(
        label=_("Received until"),
        field_name="received_at",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    escalation_level = django_filters.NumberFilter(
        label=_("Escalation level at least"), field_name="escalation_level", lookup_expr="gte"
    )
    ordering = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields=(
            ("resolution_due_at", "due"),
            ("received_at", "received"),
            ("priority__level", "priority"),
            ("status", "status"),
            ("tracking_number", "number"),
            ("title", "title"),
            ("assignee__username", "assignee"),
            ("updated_at", "updated"),
        ),
        field_labels={
            "resolution_due_at": _("Due"),
            "received_at": _("Received"),
            "priority__level": _("Priority"),
            "status": _("Status"),
            "tracking_number": _("Tracking number"),
            "title": _("Title"),
            "assignee__username": _("Assignee"),
            "updated_at": _("Last change"),
        },
    )

    class Meta:
        model = Complaint
        fields: list[str] = []

    # Shown in the queue's first row; the others fold under "More filters".
    primary = ("q", "status", "priority", "category")

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        if self.data:
            self.data = _without_impossible_ids(self.data, self.filters)
        for field in self.form.fields.values():
            widget = field.widget
            if isinstance(widget, forms.SelectMultiple):
                field.widget = forms.CheckboxSelectMultiple(choices=widget.choices)
                field.widget.choices = field.choices
            elif isinstance(widget, forms.Select):
                if type(widget) is forms.Select:
                    # Written in Python: the assignee select has one option per agent.
                    # (Not the ordering's CSV widget: it reads its value differently.)
                    field.widget = widget = FastSelect(attrs=widget.attrs)
                    widget.choices = field.choices
                widget.attrs.setdefault("class", "form-select form-select-sm")
            else:
                widget.attrs.setdefault("class", "form-control form-control-sm")

    def filter_category(self, queryset, name, value):
        return (
            queryset.filter(category_id__in=category_descendants(value.pk)) if value else queryset
        )

    def filter_text(self, queryset, name, value):
        text = (value or "").strip()[:200]
        if not text:
            return queryset
        number = clean_tracking_number(text)
        if number:
            return queryset.filter(tracking_number=number)
        condition = (
            Q(tracking_number__icontains=text)
            | Q(title__icontains=text)
            | Q(description__icontains=text)
            | Q(order_number__iexact=text)
            | Q(customer__name__icontains=text)
        )
        if "@" in text:
            condition |= Q(customer__email=normalize_email(text))
        digits = sum(ch.isdigit() for ch in text)
        if digits >= 6:
            phone = normalize_phone(text)
            condition |= Q(customer__phone=phone) | Q(customer__phone__endswith=phone[-8:])
        return queryset.filter(condition)
