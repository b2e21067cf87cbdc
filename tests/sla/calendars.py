"""Calendars shared by the business-time tests (pure values, no database)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from complaints.businesstime import Calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = [["09:00", "12:00"], ["13:00", "18:00"]]  # 8 hours with a lunch break
WEEKDAYS = {str(day): OFFICE for day in range(5)}

# China 2026, written out by hand from the State Council's notice (the loader's own
# test checks the `holidays` library gives the same): National Day 10-01..10-07 with
# the make-up working days Sunday 09-20 and Saturday 10-10; the other holidays too.
CN_2026_HOLIDAYS = [
    date(2026, 1, 1),
    date(2026, 1, 2),
    *(date(2026, 2, d) for d in (16, 17, 18, 19, 20, 23)),
    date(2026, 4, 6),
    *(date(2026, 5, d) for d in (1, 4, 5)),
    date(2026, 6, 19),
    date(2026, 9, 25),
    *(date(2026, 10, d) for d in (1, 2, 5, 6, 7)),
]
CN_2026_MAKEUP = [
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
]


def china() -> Calendar:
    return Calendar.build(
        time_zone="Asia/Shanghai",
        working_hours=WEEKDAYS,
        holidays=CN_2026_HOLIDAYS,
        makeup_days=CN_2026_MAKEUP,
    )


def berlin() -> Calendar:
    """Weekdays 09:00–17:00, and Sunday nights 01:00–04:00 (across both of 2026's
    clock changes: 03-29 02:00 → 03:00 and 10-25 03:00 → 02:00)."""
    hours = {str(day): [["09:00", "17:00"]] for day in range(5)}
    hours["6"] = [["01:00", "04:00"]]
    return Calendar.build(time_zone="Europe/Berlin", working_hours=hours)


def berlin_gap() -> Calendar:
    """A period that starts inside the spring-forward gap (02:30 does not exist on
    2026-03-29) and one that ends inside it."""
    hours = {
        str(day): [["01:30", "02:15"], ["02:30", "03:15"], ["09:00", "17:00"]] for day in range(7)
    }
    return Calendar.build(time_zone="Europe/Berlin", working_hours=hours)


def at(zone: ZoneInfo, y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=zone)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
