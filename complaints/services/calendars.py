"""Business calendars: loading a year's official public holidays and make-up
working days (调休) of a country from the `holidays` library.

An admin loads a year, then adjusts by hand. Loading again is harmless: a day that
is already as the official schedule says is left alone (no history row), one that
differs is brought back to it, and days the schedule does not mention (company
holidays entered by hand) stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import holidays as holidays_lib
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from complaints.errors import InvalidInput
from complaints.models import BusinessCalendar, CalendarDay
from complaints.services.base import actor_user

Kind = CalendarDay.Kind
_NAME_LENGTH = CalendarDay._meta.get_field("name").max_length


@dataclass(frozen=True)
class HolidayLoad:
    holidays: int  # holidays in the official schedule of the year
    workdays: int  # make-up working days in it
    created: int
    updated: int
    unchanged: int


def official_days(*, country: str, year: int, language: str | None = None) -> dict[date, tuple]:
    """{date: (kind, name)} of the country's official schedule for the year."""
    try:
        schedule = holidays_lib.country_holidays(country, years=year, language=language)
    except NotImplementedError:
        raise InvalidInput(
            _("No official holidays are known for the country “%(country)s”.")
            % {"country": country}
        ) from None
    days = {day: (Kind.HOLIDAY, name) for day, name in schedule.items() if day.year == year}
    # Only some countries (China among them) have make-up working days; the set may
    # also hold other years' days.
    workdays = sorted(d for d in getattr(schedule, "weekend_workdays", ()) if d.year == year)
    if workdays:
        used = (language or schedule.default_language or "").lower()
        with translation.override("zh-hans" if used.startswith("zh") else "en"):
            name = _("Make-up working day")
        for day in workdays:
            days[day] = (Kind.WORKDAY, name)
    return days


def calendar_load_holidays(
    *,
    calendar: BusinessCalendar,
    country: str = "CN",
    year: int,
    language: str | None = None,
    actor: Any = None,
) -> HolidayLoad:
    """Add (or bring back to the official schedule) the holidays and make-up working
    days of `country` in `year` to the calendar."""
    if not 1900 <= int(year) <= 2200:
        raise InvalidInput(_("Choose a year between 1900 and 2200."))
    official = official_days(country=country.upper(), year=int(year), language=language)
    created = updated = unchanged = 0
    with transaction.atomic():
        existing = {
            day.date: day
            for day in CalendarDay.objects.select_for_update().filter(
                calendar=calendar, date__in=list(official)
            )
        }
        for day, (kind, name) in sorted(official.items()):
            name = name[:_NAME_LENGTH]
            row = existing.get(day)
            if row is not None and row.kind == kind and row.name == name:
                unchanged += 1
                continue
            if row is None:
                row = CalendarDay(calendar=calendar, date=day)
                created += 1
            else:
                updated += 1
            row.kind, row.name = kind, name
            row._history_user = actor_user(actor)
            row._change_reason = _("Official holidays of %(country)s %(year)s") % {
                "country": country.upper(),
                "year": year,
            }
            row.save()
    return HolidayLoad(
        holidays=sum(1 for kind, _n in official.values() if kind == Kind.HOLIDAY),
        workdays=sum(1 for kind, _n in official.values() if kind == Kind.WORKDAY),
        created=created,
        updated=updated,
        unchanged=unchanged,
    )
