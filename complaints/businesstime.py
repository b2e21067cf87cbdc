"""Business-time arithmetic: the one module that knows working hours, public
holidays and make-up working days (调休).

Pure functions over a `Calendar` value (no database access): build one with
`Calendar.from_model(business_calendar)` or directly in tests. All datetimes in and
out are timezone-aware. Working periods are read on the calendar's local wall clock
(09:00 is 09:00 local time, summer and winter); durations are real elapsed time
between instants, so a period across a daylight-saving change lasts what really
passes. Results are UTC instants: a time of the calendar's zone in the repeated hour
of a clock change compares unequal to every time of another zone (PEP 495), and
Python ignores `fold` when subtracting two times of one zone; UTC has neither trap.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

# Far enough for any SLA; stops a calendar with no working time from looping forever.
MAX_DAYS = 3 * 366

Period = tuple[time, time]


def _parse_periods(raw) -> tuple[Period, ...]:
    periods = []
    for start, end in raw or []:
        s, e = time.fromisoformat(start), time.fromisoformat(end)
        if e <= s:
            raise ValueError(f"working period {start}–{end} ends before it starts")
        periods.append((s, e))
    periods.sort()
    for (_, end_a), (start_b, _) in pairwise(periods):
        if start_b < end_a:
            raise ValueError("working periods overlap")
    return tuple(periods)


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo
    # weekday (0 = Monday) -> working periods of that weekday
    week: Mapping[int, tuple[Period, ...]]
    holidays: frozenset[date] = frozenset()
    # Weekend days worked to make up for a holiday; they use `makeup_periods`.
    makeup_days: frozenset[date] = frozenset()
    makeup_periods: tuple[Period, ...] = field(default=())

    @classmethod
    def build(
        cls,
        *,
        time_zone: str,
        working_hours: Mapping[str, list],
        holidays=(),
        makeup_days=(),
    ) -> Calendar:
        week = {int(day): _parse_periods(periods) for day, periods in working_hours.items()}
        # A make-up day is worked like a normal weekday (the first one that has hours).
        makeup = next((week[d] for d in sorted(week) if week[d]), ())
        return cls(
            zone=ZoneInfo(time_zone),
            week=week,
            holidays=frozenset(holidays),
            makeup_days=frozenset(makeup_days),
            makeup_periods=makeup,
        )

    @classmethod
    def from_model(cls, calendar) -> Calendar:
        holidays, makeup = [], []
        for day, kind in calendar.days.values_list("date", "kind"):
            (holidays if kind == "holiday" else makeup).append(day)
        return cls.build(
            time_zone=calendar.time_zone,
            working_hours=calendar.working_hours,
            holidays=holidays,
            makeup_days=makeup,
        )

    # --- days ------------------------------------------------------------------------

    def periods_on(self, day: date) -> tuple[Period, ...]:
        if day in self.makeup_days:
            return self.makeup_periods
        if day in self.holidays:
            return ()
        return self.week.get(day.weekday(), ())

    def is_working_day(self, day: date) -> bool:
        return bool(self.periods_on(day))

    def _instant(self, day: date, moment: time) -> datetime:
        """The UTC instant of a wall-clock time on `day` in the calendar's zone.

        An ambiguous time (clocks going back) is its first occurrence. A time that
        does not exist (clocks going forward) is the moment the clocks jump, so
        instants stay in the order of the wall-clock times they come from.
        """
        naive = datetime.combine(day, moment)
        instant = naive.replace(tzinfo=self.zone).astimezone(UTC)
        if instant.astimezone(self.zone).replace(tzinfo=None) == naive:
            return instant
        # In a gap: fold=1 reads the time with the offset after the jump, which lands
        # before the jump; the jump lies between the two readings (transitions are on
        # whole seconds, so a search by seconds finds it exactly).
        lo = naive.replace(tzinfo=self.zone, fold=1).astimezone(UTC)
        hi = instant
        while hi - lo > timedelta(seconds=1):
            mid = lo + timedelta(seconds=(hi - lo) // timedelta(seconds=1) // 2)
            if mid.astimezone(self.zone).replace(tzinfo=None) < naive:
                lo = mid
            else:
                hi = mid
        return hi

    def _intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals as UTC instants from `moment` on, in order; the first one
        is cut to start at `moment`, and one that ends exactly at `moment` is yielded
        as an empty interval (so a moment at the end of a period counts as working
        time: adding nothing to it stays there).

        The arithmetic is on instants, not on wall-clock times: a period that spans a
        daylight-saving change lasts the time that really passes.
        """
        moment = moment.astimezone(UTC)
        day = moment.astimezone(self.zone).date()
        idle_days = 0
        while True:
            periods = self.periods_on(day)
            for start, end in periods:
                a, b = self._instant(day, start), self._instant(day, end)
                if b < moment or b <= a:
                    continue
                yield max(a, moment), b
            # Long durations are fine; only a calendar with no working time at all in
            # MAX_DAYS days in a row is refused.
            idle_days = 0 if periods else idle_days + 1
            if idle_days >= MAX_DAYS:
                raise ValueError("the calendar has no working time in the next three years")
            day += timedelta(days=1)

    # --- arithmetic --------------------------------------------------------------------

    def is_working_time(self, moment: datetime) -> bool:
        """Whether `moment` lies in a working period (its start and end included)."""
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware")
        local = moment.astimezone(self.zone)
        instant = moment.astimezone(UTC)
        return any(
            self._instant(local.date(), a) <= instant <= self._instant(local.date(), b)
            for a, b in self.periods_on(local.date())
        )

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of working time after `start` (in UTC).

        With a zero duration, `start` itself if it is working time (the end of a
        period included), else the start of the next working period.
        """
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        remaining = duration
        for a, b in self._intervals_from(start):
            span = b - a
            if remaining <= span:
                return a + remaining
            remaining -= span
        raise AssertionError("unreachable")  # _intervals_from never ends by itself

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from `start` to `end` (zero when end is not after start)."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        last_day = end.astimezone(self.zone).date()
        day = start.astimezone(self.zone).date()
        # Bounded by the end's date, so no "no working time" limit applies here.
        while day <= last_day:
            for period_start, period_end in self.periods_on(day):
                a = max(self._instant(day, period_start), start)
                b = min(self._instant(day, period_end), end)
                if b > a:
                    total += b - a
            day += timedelta(days=1)
        return total
