"""Business-time arithmetic by hand: nights, lunch breaks, weekends, China's National
Day week with its make-up working days, a zone without daylight saving and one with."""

from __future__ import annotations

from datetime import UTC, date, timedelta

import pytest

from complaints.businesstime import Calendar
from tests.sla.calendars import (
    BERLIN,
    SHANGHAI,
    WEEKDAYS,
    at,
    berlin,
    berlin_gap,
    china,
    hours,
)

CN = china()


# --- Nights, lunch, weekends --------------------------------------------------------------


def test_a_complaint_at_night_starts_counting_next_morning():
    # Thursday 22:00 + 1 business hour = Friday 10:00.
    assert CN.add(at(SHANGHAI, 2026, 6, 4, 22), hours(1)) == at(SHANGHAI, 2026, 6, 5, 10)


def test_before_opening_counts_from_opening():
    assert CN.add(at(SHANGHAI, 2026, 6, 4, 7, 30), hours(2)) == at(SHANGHAI, 2026, 6, 4, 11)


def test_the_lunch_break_does_not_count():
    assert CN.add(at(SHANGHAI, 2026, 6, 5, 11, 30), hours(1)) == at(SHANGHAI, 2026, 6, 5, 13, 30)
    assert CN.between(at(SHANGHAI, 2026, 6, 5, 11), at(SHANGHAI, 2026, 6, 5, 14)) == hours(2)


def test_a_deadline_may_fall_at_the_end_of_a_period():
    # Due by noon, not "13:00 after lunch".
    assert CN.add(at(SHANGHAI, 2026, 6, 4, 9), hours(3)) == at(SHANGHAI, 2026, 6, 4, 12)
    assert CN.add(at(SHANGHAI, 2026, 6, 4, 9), hours(8)) == at(SHANGHAI, 2026, 6, 4, 18)


def test_the_weekend_does_not_count():
    # Friday 17:00 + 2h = Monday 10:00.
    assert CN.add(at(SHANGHAI, 2026, 6, 5, 17), hours(2)) == at(SHANGHAI, 2026, 6, 8, 10)
    assert CN.between(at(SHANGHAI, 2026, 6, 5, 17), at(SHANGHAI, 2026, 6, 8, 10)) == hours(2)


def test_a_whole_week_is_forty_hours():
    assert CN.between(at(SHANGHAI, 2026, 6, 1), at(SHANGHAI, 2026, 6, 8)) == hours(40)


def test_zero_duration():
    # In working time (its end included): the moment itself; outside: the next start.
    assert CN.add(at(SHANGHAI, 2026, 6, 4, 10), timedelta(0)) == at(SHANGHAI, 2026, 6, 4, 10)
    assert CN.add(at(SHANGHAI, 2026, 6, 4, 12), timedelta(0)) == at(SHANGHAI, 2026, 6, 4, 12)
    assert CN.add(at(SHANGHAI, 2026, 6, 4, 12, 30), timedelta(0)) == at(SHANGHAI, 2026, 6, 4, 13)
    assert CN.add(at(SHANGHAI, 2026, 6, 6, 10), timedelta(0)) == at(SHANGHAI, 2026, 6, 8, 9)


def test_between_is_zero_backwards_and_outside_working_time():
    assert CN.between(at(SHANGHAI, 2026, 6, 5, 12), at(SHANGHAI, 2026, 6, 5, 10)) == timedelta(0)
    assert CN.between(at(SHANGHAI, 2026, 6, 6, 9), at(SHANGHAI, 2026, 6, 7, 18)) == timedelta(0)


# --- China's National Day week, 2026 --------------------------------------------------------


def test_national_day_week_is_off():
    for day in range(1, 8):
        assert not CN.is_working_day(date(2026, 10, day)), day
    assert CN.is_working_day(date(2026, 10, 8))


def test_make_up_days_are_worked_on_a_weekend():
    assert CN.is_working_day(date(2026, 9, 20))  # Sunday
    assert CN.is_working_day(date(2026, 10, 10))  # Saturday
    assert not CN.is_working_day(date(2026, 10, 11))  # the Sunday after: off
    assert CN.periods_on(date(2026, 10, 10)) == CN.periods_on(date(2026, 10, 9))


def test_the_day_before_national_day_jumps_to_the_eighth():
    # Wednesday 09-30 17:00 + 2h: one hour that day, then nothing until Thursday 10-08.
    assert CN.add(at(SHANGHAI, 2026, 9, 30, 17), hours(2)) == at(SHANGHAI, 2026, 10, 8, 10)


def test_a_saturday_make_up_day_is_worked():
    # Friday 10-09 17:00 + 2h = Saturday 10-10 10:00 (调休上班).
    assert CN.add(at(SHANGHAI, 2026, 10, 9, 17), hours(2)) == at(SHANGHAI, 2026, 10, 10, 10)


def test_a_sunday_make_up_day_is_worked():
    # Saturday 09-19 10:00 + 1h = Sunday 09-20 10:00.
    assert CN.add(at(SHANGHAI, 2026, 9, 19, 10), hours(1)) == at(SHANGHAI, 2026, 9, 20, 10)


def test_business_time_across_the_holiday_week():
    # 09-30, 10-08, 10-09 and the make-up Saturday 10-10: four days of eight hours.
    start, end = at(SHANGHAI, 2026, 9, 30, 9), at(SHANGHAI, 2026, 10, 10, 18)
    assert CN.between(start, end) == hours(32)
    assert CN.add(start, hours(32)) == end


# --- Time zones ------------------------------------------------------------------------------


def test_shanghai_has_one_offset_all_year():
    winter = CN.add(at(SHANGHAI, 2026, 1, 5, 17), hours(2))
    summer = CN.add(at(SHANGHAI, 2026, 7, 6, 17), hours(2))
    # 10:00 in Shanghai is 02:00 UTC in winter and in summer.
    assert (winter.hour, summer.hour) == (2, 2)
    assert winter.astimezone(SHANGHAI).utcoffset() == summer.astimezone(SHANGHAI).utcoffset()


def test_the_start_may_be_given_in_any_zone():
    start = at(SHANGHAI, 2026, 6, 4, 22).astimezone(UTC)  # 14:00 UTC
    assert CN.add(start, hours(1)) == at(SHANGHAI, 2026, 6, 5, 10)
    assert CN.add(start, hours(1)).tzinfo == UTC


def test_berlin_working_hours_follow_the_local_clock_across_spring_forward():
    cal = berlin()
    # Friday 03-27 16:00 CET + 2h: one hour Friday, the Sunday night (01:00–04:00 with
    # the clock jumping 02:00 → 03:00: two real hours), so Sunday 01:00 + 1h = 03:00 CEST.
    end = cal.add(at(BERLIN, 2026, 3, 27, 16), hours(2))
    assert end == at(BERLIN, 2026, 3, 29, 3)
    assert end.astimezone(BERLIN).utcoffset() == timedelta(hours=2)
    # The Sunday night lasts two real hours, Monday starts at 09:00 summer time.
    assert cal.between(at(BERLIN, 2026, 3, 29), at(BERLIN, 2026, 3, 29, 5)) == hours(2)
    monday = cal.add(at(BERLIN, 2026, 3, 27, 16), hours(4))
    assert monday == at(BERLIN, 2026, 3, 30, 10)
    assert monday.astimezone(UTC).hour == 8


def test_berlin_fall_back_night_lasts_four_hours():
    cal = berlin()
    assert cal.between(at(BERLIN, 2026, 10, 25), at(BERLIN, 2026, 10, 25, 5)) == hours(4)
    # 01:00 CEST + 2h is the first 02:00 … + 3h is the second 02:00 (CET).
    first = cal.add(at(BERLIN, 2026, 10, 25, 1), hours(1)).astimezone(BERLIN)
    second = cal.add(at(BERLIN, 2026, 10, 25, 1), hours(2)).astimezone(BERLIN)
    assert (first.hour, second.hour) == (2, 2)
    assert (first.utcoffset(), second.utcoffset()) == (hours(2), hours(1))
    # (Python ignores `fold` when subtracting two times of one zone: hence UTC results.)
    assert second.astimezone(UTC) - first.astimezone(UTC) == hours(1)


def test_a_period_in_the_spring_forward_gap_starts_when_the_clock_jumps():
    cal = berlin_gap()
    # 2026-03-29: 01:30–02:15 is 01:30–02:00 (30 real minutes), 02:30–03:15 is
    # 03:00–03:15 CEST (15 minutes).
    night = cal.between(at(BERLIN, 2026, 3, 29), at(BERLIN, 2026, 3, 29, 5))
    assert night == timedelta(minutes=45)
    assert cal.add(at(BERLIN, 2026, 3, 29), timedelta(minutes=40)) == at(BERLIN, 2026, 3, 29, 3, 10)
    # Any other Sunday: 45 + 45 minutes.
    assert cal.between(at(BERLIN, 2026, 3, 22), at(BERLIN, 2026, 3, 22, 5)) == timedelta(minutes=90)


# --- Misuse ------------------------------------------------------------------------------------


def test_naive_datetimes_and_negative_durations_are_refused():
    from datetime import datetime

    with pytest.raises(ValueError, match="timezone-aware"):
        CN.add(datetime(2026, 6, 4, 10), hours(1))
    with pytest.raises(ValueError, match="timezone-aware"):
        CN.between(datetime(2026, 6, 4, 10), at(SHANGHAI, 2026, 6, 4, 11))
    with pytest.raises(ValueError, match="negative"):
        CN.add(at(SHANGHAI, 2026, 6, 4, 10), hours(-1))


def test_a_calendar_without_working_time_says_so():
    idle = Calendar.build(time_zone="Asia/Shanghai", working_hours={})
    with pytest.raises(ValueError, match="no working time"):
        idle.add(at(SHANGHAI, 2026, 6, 4, 10), hours(1))
    assert idle.between(at(SHANGHAI, 2026, 6, 4), at(SHANGHAI, 2027, 6, 4)) == timedelta(0)


def test_long_durations_and_spans_are_fine():
    # Far more than the "no working time" limit of days, but with working days in it.
    start = at(SHANGHAI, 2026, 6, 1, 9)
    end = CN.add(start, hours(8 * 1000))
    assert CN.between(start, end) == hours(8 * 1000)


@pytest.mark.parametrize(
    "hours_spec",
    [{"0": [["12:00", "09:00"]]}, {"0": [["09:00", "12:00"], ["11:00", "13:00"]]}],
)
def test_bad_working_hours_are_refused(hours_spec):
    with pytest.raises(ValueError):
        Calendar.build(time_zone="Asia/Shanghai", working_hours=hours_spec)


def test_working_time_includes_period_ends():
    cal = Calendar.build(time_zone="Asia/Shanghai", working_hours=WEEKDAYS)
    assert cal.is_working_time(at(SHANGHAI, 2026, 6, 4, 9))
    assert cal.is_working_time(at(SHANGHAI, 2026, 6, 4, 12))
    assert not cal.is_working_time(at(SHANGHAI, 2026, 6, 4, 12, 1))
    assert not cal.is_working_time(at(SHANGHAI, 2026, 6, 6, 10))
