"""Which reminders of periodic obligations are due on a day. Pure: the application records them.

For every organisation and every period whose reminder window contains ``today``: the latest reminder
offset already reached (e.g. -3 days, or +1 day: overdue), unless the organisation's report for the
period has been submitted, or the organisation was recorded only after the period ended (it owes no
report for a time before it existed here). An overdue reminder says how many periods in a row the
organisation has now missed, so the registry can tell late from inactive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from contracts.workflow import Deadline, PeriodDue

DAY = dt.timedelta(days=1)
# The last reminder is still sent this many days after its day (the system may have been down then).
GRACE_DAYS = 30


@dataclass(frozen=True)
class Organisation:
    organisation_id: str
    name: str
    recorded_on: dt.date


SWEEP_PAGE = 1000  # organisations per page of the registry's directory


def directory_entry(row: dict[str, Any], zone: dt.tzinfo) -> Organisation:
    """An organisation as the sweep needs it; "recorded on" is a date in the region's time zone."""
    recorded_at = dt.datetime.fromisoformat(row["recorded_at"])
    return Organisation(row["organisation_id"], row["name"], recorded_at.astimezone(zone).date())


@dataclass(frozen=True)
class DueReminder:
    organisation: Organisation
    period: PeriodDue
    offset_days: int
    missed_in_a_row: int


Fulfilled = Callable[[list[tuple[str, str]]], set[tuple[str, str]]]  # (organisation, period) pairs -> those filed


def periods_in_window(deadline: Deadline, today: dt.date) -> list[PeriodDue]:
    """Periods with a reminder due by ``today`` whose last reminder is at most GRACE_DAYS past."""
    offsets = deadline.reminder_offsets()
    if not offsets:
        return []
    first, last = offsets[0], offsets[-1] + GRACE_DAYS
    # A period's due date lies at most a year and a half after its end: look far enough back.
    candidates = deadline.periods_ending_between(
        today - dt.timedelta(days=last + 550), today + dt.timedelta(days=-first)
    )
    return [period for period in candidates if period.due_on + first * DAY <= today <= period.due_on + last * DAY]


def latest_offset(deadline: Deadline, period: PeriodDue, today: dt.date) -> int | None:
    reached = [offset for offset in deadline.reminder_offsets() if period.due_on + offset * DAY <= today]
    return reached[-1] if reached else None


def due_reminders(
    deadline: Deadline, today: dt.date, organisations: Iterable[Organisation], fulfilled: Fulfilled
) -> Iterator[DueReminder]:
    window = periods_in_window(deadline, today)
    if not window:
        return
    organisations = list(organisations)
    # Earlier periods too, to count a run of missed ones (inactive after N in a row).
    history = [deadline.at_index(window[0].index - back) for back in range(deadline.inactive_after_missed, 0, -1)]
    owed = [
        (organisation, period)
        for organisation in organisations
        for period in history + window
        if organisation.recorded_on <= period.ends_on
    ]
    filed = fulfilled([(organisation.organisation_id, period.key) for organisation, period in owed])
    missed = {
        (o.organisation_id, p.index) for o, p in owed if (o.organisation_id, p.key) not in filed and p.due_on < today
    }
    for organisation, period in owed:
        if period not in window or (organisation.organisation_id, period.key) in filed:
            continue
        offset = latest_offset(deadline, period, today)
        if offset is None:
            continue
        run = 0
        if offset > 0:
            while (organisation.organisation_id, period.index - run) in missed:
                run += 1
        yield DueReminder(organisation, period, offset, run)
