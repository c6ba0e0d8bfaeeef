"""The service-level clock: working time between instants, in a region's time zone. Pure.

A working day is a weekday that is neither an Indonesian public holiday (the ``holidays`` package)
nor one of the region's extra days off (cuti bersama, from configuration). The clock counts working
time only while it runs: a case's clock is replayed from the moments it started, paused, resumed
and stopped, which are events in the case's own history, so it cannot be edited after the fact.
One "day used" is 24 hours of running working time: a case filed on Monday at 10:00 has used one
day on Tuesday at 10:00, and one still on Monday of the next week if it was paused all week.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Calendar:
    timezone: str
    extra_days_off: frozenset[dt.date] = frozenset()
    published_until: int | None = None  # the last year whose days off are known

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _public_holidays(self) -> holidays.HolidayBase:
        return holidays.country_holidays("ID")  # fills in years lazily as they are asked for

    @cached_property
    def _verdicts(self) -> dict[dt.date, bool]:
        return {}  # every case view walks the days up to its due date: a holiday look-up each, once per day

    def is_working_day(self, day: dt.date) -> bool:
        verdict = self._verdicts.get(day)
        if verdict is None:
            verdict = day.weekday() < 5 and day not in self._public_holidays and day not in self.extra_days_off
            self._verdicts[day] = verdict
        return verdict

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.zone)

    def working_time(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Time between two instants that falls on working days (local midnight to midnight)."""
        total = dt.timedelta()
        for day_start, day_end in self._days(start, end):
            if self.is_working_day(day_start.date()):
                total += min(end, day_end) - max(start, day_start)
        return total

    def add_working_time(self, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        """The instant at which ``amount`` of working time has passed since ``start``."""
        remaining = amount
        day_start = self.local(start).replace(hour=0, minute=0, second=0, microsecond=0)
        moment = self.local(start)
        for _ in range(3660):  # ten years of days: far beyond any deadline, and never an endless loop
            day_end = self._next_midnight(day_start)
            if self.is_working_day(day_start.date()):
                available = day_end - moment
                if remaining <= available:
                    return moment + remaining
                remaining -= available
            day_start = day_end
            moment = day_end
        raise ValueError("deadline more than ten years away")

    def is_estimated(self, day: dt.date) -> bool:
        """Whether ``day`` lies past the last year whose days off are published (a warning for deadlines)."""
        return self.published_until is not None and day.year > self.published_until

    def _days(self, start: dt.datetime, end: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        day_start = self.local(start).replace(hour=0, minute=0, second=0, microsecond=0)
        while day_start < end:
            day_end = self._next_midnight(day_start)
            yield day_start, day_end
            day_start = day_end

    def _next_midnight(self, day_start: dt.datetime) -> dt.datetime:
        # Through the date, not "+ 24 h": correct even in a zone with daylight saving time.
        following = day_start.date() + DAY
        return dt.datetime.combine(following, dt.time(), tzinfo=self.zone)


@dataclass(frozen=True)
class ClockChange:
    """The clock after a case event: running, paused or stopped from ``at`` on."""

    at: dt.datetime
    state: str  # "running" | "paused" | "stopped"
    by: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SlaStatus:
    sla_days: int | None
    running: bool
    days_used: float
    days_left: float | None
    due_at: dt.datetime | None  # while running: when the limit is reached if nothing pauses it
    overdue: bool
    due_estimated: bool = False  # the due date lies past the last published calendar year

    def as_dict(self) -> dict[str, object]:
        return {
            "sla_days": self.sla_days,
            "running": self.running,
            "days_used": round(self.days_used, 2),
            "days_left": None if self.days_left is None else round(self.days_left, 2),
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "overdue": self.overdue,
            "due_estimated": self.due_estimated,
        }


def sla_status(calendar: Calendar, changes: Iterable[ClockChange], sla_days: int | None, now: dt.datetime) -> SlaStatus:
    """Replay a case's clock changes up to ``now``."""
    used = dt.timedelta()
    running_since: dt.datetime | None = None
    history = sorted(changes, key=lambda change: change.at)
    for change in history:
        if change.at > now:
            break
        if running_since is not None:
            used += calendar.working_time(running_since, change.at)
        running_since = change.at if change.state == "running" else None
    if running_since is not None:
        used += calendar.working_time(running_since, now)
    days_used = used / DAY
    if sla_days is None:
        return SlaStatus(None, running_since is not None, days_used, None, None, False)
    limit = dt.timedelta(days=sla_days)
    due_at = calendar.add_working_time(now, limit - used) if running_since is not None and used < limit else None
    return SlaStatus(
        sla_days=sla_days,
        running=running_since is not None,
        days_used=days_used,
        days_left=sla_days - days_used,
        due_at=due_at,
        overdue=used > limit,
        due_estimated=due_at is not None and calendar.is_estimated(calendar.local(due_at).date()),
    )
