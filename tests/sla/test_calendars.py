"""Loading a year's official holidays and make-up working days into a calendar."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from complaints.businesstime import Calendar
from complaints.errors import InvalidInput
from complaints.models import BusinessCalendar, CalendarDay
from complaints.services.calendars import calendar_load_holidays
from tests.sla.calendars import CN_2026_HOLIDAYS, CN_2026_MAKEUP

pytestmark = pytest.mark.django_db


@pytest.fixture
def calendar():
    return BusinessCalendar.objects.create(name="Shanghai office", time_zone="Asia/Shanghai")


def test_china_2026(calendar):
    load = calendar_load_holidays(calendar=calendar, country="CN", year=2026)
    days = {d.date: d for d in calendar.days.all()}
    national_day = days[date(2026, 10, 1)]
    assert (national_day.kind, national_day.name) == ("holiday", "国庆节")
    assert days[date(2026, 10, 10)].kind == "workday"
    assert days[date(2026, 9, 20)].kind == "workday"
    workdays = sorted(d for d, row in days.items() if row.kind == "workday")
    assert workdays == CN_2026_MAKEUP  # the six verified make-up days, no other year's
    assert load.workdays == 6 and load.created == len(days)
    # Every weekday holiday written out by hand in the business-time tests is there.
    assert set(CN_2026_HOLIDAYS) <= {d for d, row in days.items() if row.kind == "holiday"}
    # The calendar built from the rows works the make-up Saturday, not National Day.
    cal = Calendar.from_model(calendar)
    assert cal.is_working_day(date(2026, 10, 10))
    assert not cal.is_working_day(date(2026, 10, 1))
    assert not cal.is_working_day(date(2026, 10, 7))


def test_loading_again_changes_nothing(calendar):
    first = calendar_load_holidays(calendar=calendar, year=2026)
    history = CalendarDay.history.count()
    again = calendar_load_holidays(calendar=calendar, year=2026)
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)
    assert CalendarDay.history.count() == history


def test_loading_restores_official_days_and_keeps_hand_made_ones(calendar):
    calendar_load_holidays(calendar=calendar, year=2026)
    CalendarDay.objects.filter(calendar=calendar, date=date(2026, 10, 1)).update(name="Oops")
    CalendarDay.objects.create(
        calendar=calendar, date=date(2026, 12, 24), kind="holiday", name="Company day"
    )
    again = calendar_load_holidays(calendar=calendar, year=2026)
    assert again.updated == 1
    assert calendar.days.get(date=date(2026, 10, 1)).name == "国庆节"
    assert calendar.days.filter(date=date(2026, 12, 24)).exists()


def test_names_in_another_language(calendar):
    calendar_load_holidays(calendar=calendar, year=2026, language="en_US")
    assert calendar.days.get(date=date(2026, 10, 1)).name == "National Day"
    assert calendar.days.get(date=date(2026, 10, 10)).name == "Make-up working day"


def test_a_country_without_make_up_days(calendar):
    load = calendar_load_holidays(calendar=calendar, country="DE", year=2026)
    assert load.workdays == 0 and load.holidays > 5
    assert calendar.days.filter(date=date(2026, 10, 3), kind="holiday").exists()


def test_unknown_country_or_year(calendar):
    with pytest.raises(InvalidInput):
        calendar_load_holidays(calendar=calendar, country="XX", year=2026)
    with pytest.raises(InvalidInput):
        calendar_load_holidays(calendar=calendar, year=1066)
    assert not calendar.days.exists()


def test_load_holidays_command(calendar):
    out = StringIO()
    call_command(
        "load_holidays",
        "--calendar",
        "Shanghai office",
        "--country",
        "CN",
        "--year",
        "2026",
        stdout=out,
    )
    assert "6 make-up working days" in out.getvalue()
    assert calendar.days.filter(date=date(2026, 10, 10), kind="workday").exists()


def test_load_holidays_command_errors(calendar):
    with pytest.raises(CommandError, match="No business calendar"):
        call_command("load_holidays", "--calendar", "Nope", "--year", "2026")
    with pytest.raises(CommandError, match="XX"):
        call_command(
            "load_holidays", "--calendar", "Shanghai office", "--country", "XX", "--year", "2026"
        )
