"""Business-time arithmetic: the one module that knows working hours, public
holidays and make-up working days (调休).

Pure functions over a `Calendar` value (no database access): build one with
`Calendar.from_model(business_calendar)` or directly in tests. All datetimes in and
out are timezone-aware; the arithmetic is done on the calendar's local wall clock.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
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
    for (_, end_a), (start_b, _) in zip(periods, periods[1:], strict=False):
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

    def _intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals (aware, in the calendar zone) from `moment` on, in order;
        the first one is cut to start at `moment`."""
        local = moment.astimezone(self.zone)
        day = local.date()
        for _ in range(MAX_DAYS):
            for start, end in self.periods_on(day):
                a = datetime.combine(day, start, tzinfo=self.zone)
                b = datetime.combine(day, end, tzinfo=self.zone)
                if b <= local:
                    continue
                yield max(a, local), b
            day += timedelta(days=1)
        raise ValueError("the calendar has no working time in the next three years")

    # --- arithmetic --------------------------------------------------------------------

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of working time after `start`.

        With a zero duration, `start` itself if it is working time, else the start of
        the next working period.
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
        raise AssertionError("unreachable")  # _intervals_from raises first

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from `start` to `end` (zero when end is not after start)."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        end_local = end.astimezone(self.zone)
        for a, b in self._intervals_from(start):
            if a >= end_local:
                break
            total += min(b, end_local) - a
        return total
