"""Admin of the SLA clock (imported by complaints/admin/__init__.py): business
calendars with their holidays and make-up working days, SLA policies, and the
crossings the sweep recorded (read only).

"Load official holidays for a year" is an action on the calendar list: choose the
calendars, the country and the year in the action bar, and run it.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from complaints.admin.base import HistoryAdmin, ReadOnlyAdminMixin
from complaints.businesstime import Calendar
from complaints.errors import ServiceError
from complaints.models import BusinessCalendar, CalendarDay, SlaCrossing, SlaPolicy
from complaints.services.calendars import calendar_load_holidays


class BusinessCalendarForm(forms.ModelForm):
    class Meta:
        model = BusinessCalendar
        fields = ("name", "time_zone", "working_hours")
        help_texts = {
            "working_hours": _(
                "Weekday (0 = Monday … 6 = Sunday) → working periods, e.g. "
                '{"0": [["09:00", "12:00"], ["13:00", "18:00"]], …}. A make-up working '
                "day is worked like the first weekday that has hours."
            ),
            "time_zone": _("An IANA time zone, e.g. Asia/Shanghai."),
        }

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"].strip()
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(
                gettext("Unknown time zone: %(zone)s.") % {"zone": value}
            ) from None
        return value

    def clean(self):
        cleaned = super().clean()
        hours, zone = cleaned.get("working_hours"), cleaned.get("time_zone")
        if hours is None or zone is None:
            return cleaned
        if not isinstance(hours, dict):
            self.add_error("working_hours", gettext("Give an object of weekday → periods."))
            return cleaned
        try:
            if any(int(day) not in range(7) for day in hours):
                raise ValueError(gettext("weekdays are 0 (Monday) to 6 (Sunday)"))
            Calendar.build(time_zone=zone, working_hours=hours)
        except (TypeError, ValueError) as exc:
            self.add_error(
                "working_hours",
                gettext("These working hours cannot be read: %(error)s") % {"error": exc},
            )
        return cleaned


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 1
    fields = ("date", "kind", "name")
    ordering = ("date",)


class HolidayActionForm(helpers.ActionForm):
    """The action bar of the calendar list, with what the holiday loader needs."""

    country = forms.CharField(label=_("Country"), initial="CN", max_length=2, required=False)
    year = forms.IntegerField(
        label=_("Year"),
        initial=lambda: timezone.localdate().year,
        min_value=1900,
        max_value=2200,
        required=False,
    )


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(HistoryAdmin):
    form = BusinessCalendarForm
    list_display = ("name", "time_zone", "holiday_count", "workday_count")
    search_fields = ("name",)
    inlines = (CalendarDayInline,)
    action_form = HolidayActionForm
    actions = ("load_official_holidays",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                holidays=Count("days", filter=Q(days__kind=CalendarDay.Kind.HOLIDAY)),
                workdays=Count("days", filter=Q(days__kind=CalendarDay.Kind.WORKDAY)),
            )
        )

    @admin.display(description=_("holidays"), ordering="holidays")
    def holiday_count(self, obj) -> int:
        return obj.holidays

    @admin.display(description=_("make-up working days"), ordering="workdays")
    def workday_count(self, obj) -> int:
        return obj.workdays

    @admin.action(description=_("Load official holidays for a year"), permissions=["change"])
    def load_official_holidays(self, request, queryset):
        form = self.action_form(request.POST)
        form.fields["action"].choices = self.get_action_choices(request)
        if not form.is_valid():
            self.message_user(
                request, gettext("Choose a country and a year (1900–2200)."), messages.ERROR
            )
            return
        country = (form.cleaned_data.get("country") or "CN").upper()
        year = form.cleaned_data.get("year") or timezone.localdate().year
        for calendar in queryset:
            try:
                load = calendar_load_holidays(
                    calendar=calendar, country=country, year=year, actor=request.user
                )
            except ServiceError as err:
                self.message_user(request, f"{calendar}: {err}", messages.ERROR)
                continue
            self.message_user(
                request,
                gettext(
                    "%(calendar)s: %(country)s %(year)s — %(holidays)d holidays and "
                    "%(workdays)d make-up working days (%(created)d added, %(updated)d "
                    "updated, %(unchanged)d unchanged)."
                )
                % {
                    "calendar": calendar,
                    "country": country,
                    "year": year,
                    "holidays": load.holidays,
                    "workdays": load.workdays,
                    "created": load.created,
                    "updated": load.updated,
                    "unchanged": load.unchanged,
                },
                messages.SUCCESS,
            )


@admin.register(SlaPolicy)
class SlaPolicyAdmin(HistoryAdmin):
    list_display = (
        "name",
        "category",
        "priority",
        "calendar",
        "first_response_minutes",
        "resolution_minutes",
        "warning_percent",
        "is_active",
    )
    list_filter = ("is_active", "priority", "calendar")
    list_select_related = ("category", "priority", "calendar")
    search_fields = ("name", "category__name", "category__code")
    category_relation = "category"


@admin.register(SlaCrossing)
class SlaCrossingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "complaint", "kind", "cycle", "due_at")
    list_filter = ("kind", "created_at")
    list_select_related = ("complaint",)
    search_fields = ("complaint__tracking_number",)
    date_hierarchy = "created_at"
    readonly_fields = ("complaint", "kind", "cycle", "due_at", "sweep_id", "created_at")
