"""Properties of business-time arithmetic that must hold for any moment and any
duration, on a Chinese calendar with holidays and make-up days, a daylight-saving
zone, and periods that start or end inside a clock change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.sla.calendars import berlin, berlin_gap, china

CALENDARS = {"china": china(), "berlin": berlin(), "berlin_gap": berlin_gap()}

calendars = st.sampled_from(sorted(CALENDARS)).map(CALENDARS.get)
# Around 2026 (holidays, make-up days, both clock changes), to the second.
moments = st.datetimes(min_value=datetime(2025, 12, 20), max_value=datetime(2027, 1, 10)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC)
)
# Up to three weeks of business time.
durations = st.integers(min_value=0, max_value=21 * 8 * 3600).map(lambda s: timedelta(seconds=s))

props = settings(max_examples=150, deadline=None)


@props
@given(calendars, moments, durations, durations)
def test_adding_in_two_steps_is_adding_the_sum(cal, start, a, b):
    assert cal.add(cal.add(start, a), b) == cal.add(start, a + b)


@props
@given(calendars, moments, durations)
def test_between_undoes_add(cal, start, d):
    # From any start: time before the first working moment does not count.
    assert cal.between(start, cal.add(start, d)) == d


@props
@given(calendars, moments, durations, durations)
def test_add_is_monotonic_in_the_duration(cal, start, a, b):
    lo, hi = sorted((a, b))
    assert cal.add(start, lo) <= cal.add(start, hi)
    if lo < hi:
        assert cal.add(start, lo) < cal.add(start, hi)


@props
@given(calendars, moments, moments, moments)
def test_between_adds_up_over_consecutive_spans(cal, x, y, z):
    a, b, c = sorted((x, y, z))
    assert cal.between(a, b) + cal.between(b, c) == cal.between(a, c)


@props
@given(calendars, moments, durations)
def test_add_lands_in_working_time(cal, start, d):
    end = cal.add(start, d)
    assert cal.is_working_time(end)
    assert end >= start
    # Never faster than the wall clock.
    assert end - start >= d


@props
@given(calendars, moments)
def test_adding_nothing_to_working_time_stays_put(cal, start):
    if cal.is_working_time(start):
        assert cal.add(start, timedelta(0)) == start
    else:
        assert cal.add(start, timedelta(0)) > start


@props
@given(calendars, moments, moments)
def test_between_is_never_more_than_the_wall_clock(cal, x, y):
    a, b = sorted((x, y))
    assert timedelta(0) <= cal.between(a, b) <= b - a
    assert cal.between(b, a) == timedelta(0)
