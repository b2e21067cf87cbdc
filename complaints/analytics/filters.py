"""What a dashboard shows: a period and optional dimensions, and whose complaints."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints import roles
from complaints.filters import _descendant_ids
from complaints.models import Category, Channel, Complaint, Product, Team
from complaints.selectors import complaints_visible_to

PERIODS = (
    ("today", _("Today")),
    ("7d", _("Last 7 days")),
    ("30d", _("Last 30 days")),
    ("quarter", _("This quarter")),
    ("custom", _("Custom")),
)
DEFAULT_PERIOD = "30d"
# A custom period longer than this is refused: day-by-day charts stay readable.
MAX_DAYS = 366


@dataclass(frozen=True)
class DashboardFilter:
    """A period of whole local days, `start` to `end` inclusive, and dimensions."""

    start: date
    end: date
    period: str = DEFAULT_PERIOD
    team: Team | None = None
    category: Category | None = None
    product: Product | None = None
    channel: str = ""

    @classmethod
    def for_period(cls, period: str, *, today: date | None = None, **dims: Any):
        today = today or timezone.localdate()
        if period == "today":
            start = today
        elif period == "7d":
            start = today - timedelta(days=6)
        elif period == "quarter":
            start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        else:
            period, start = "30d", today - timedelta(days=29)
        return cls(start=start, end=today, period=period, **dims)

    @property
    def since(self) -> datetime:
        """The period's first instant (local midnight)."""
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def until(self) -> datetime:
        """The instant after the period (local midnight after `end`)."""
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def within(self, field: str) -> Q:
        """`field` falls in the period."""
        return Q(**{f"{field}__gte": self.since, f"{field}__lt": self.until})

    def dimensions(self, prefix: str = "") -> Q:
        """The team/category/product/channel conditions on a complaint (reached from
        another model through `prefix`, e.g. "complaint__")."""
        q = Q()
        if self.team is not None:
            q &= Q(**{f"{prefix}team_id": self.team.pk})
        if self.category is not None:
            q &= Q(**{f"{prefix}category_id__in": _descendant_ids(self.category)})
        if self.product is not None:
            q &= Q(**{f"{prefix}product_id": self.product.pk})
        if self.channel:
            q &= Q(**{f"{prefix}channel": self.channel})
        return q

    def query_params(self) -> dict[str, str]:
        """The dimensions as the staff queues' filter parameters."""
        params = {}
        if self.team is not None:
            params["team"] = str(self.team.pk)
        if self.category is not None:
            params["category"] = str(self.category.pk)
        if self.product is not None:
            params["product"] = str(self.product.pk)
        if self.channel:
            params["channel"] = self.channel
        return params

    def with_dates(self, start: date, end: date) -> DashboardFilter:
        return replace(self, start=start, end=end, period="custom")


def sees_everything(user: Any) -> bool:
    """Supervisors and admins see every complaint's figures; others their own."""
    return roles.is_supervisor(user)


def scope(user: Any) -> QuerySet[Complaint]:
    """The complaints a user's figures count: all the visible ones for supervisors and
    admins; for everyone else the complaints assigned to them (their own figures)."""
    qs = complaints_visible_to(user)
    if sees_everything(user):
        return qs
    return qs.filter(assignee_id=getattr(user, "pk", None))


class DashboardFilterForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False)
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.filter(is_active=True),
        required=False,
        empty_label=_("Any team"),
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        # Labels are full paths ("Quality / Kettle"): the parents come with the row.
        queryset=Category.objects.filter(is_active=True).select_related("parent__parent"),
        required=False,
        empty_label=_("Any category"),
    )
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.filter(is_active=True),
        required=False,
        empty_label=_("Any product"),
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("Any channel")), *Channel.choices], required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", f"{css} form-select-sm form-control-sm")

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if start is None or end is None:
                raise forms.ValidationError(_("A custom period needs a start and an end date."))
            if end < start:
                raise forms.ValidationError(_("The period ends before it starts."))
            if (end - start).days >= MAX_DAYS:
                raise forms.ValidationError(
                    _("A period spans at most %(days)d days.") % {"days": MAX_DAYS}
                )
        return data

    def to_filter(self) -> DashboardFilter:
        """The filter of a valid form (the default period for an invalid one)."""
        data = self.cleaned_data if self.is_valid() else {}
        dims = {
            "team": data.get("team"),
            "category": data.get("category"),
            "product": data.get("product"),
            "channel": data.get("channel") or "",
        }
        if data.get("period") == "custom":
            return DashboardFilter(start=data["start"], end=data["end"], period="custom", **dims)
        return DashboardFilter.for_period(data.get("period") or DEFAULT_PERIOD, **dims)
