"""The periods of a periodic obligation (half-yearly reports) over a stretch of dates. Pure.

A period's dates come from the workflow's ``deadline`` (contracts/workflow.py: ``Deadline.period`` turns
"2026-S1" into a ``PeriodDue``, ``Deadline.at_index`` walks from one period to the next across year ends);
this module answers the questions a caller asks of them: which periods touch these dates, and from when
may a report on a period be sent.
"""

from __future__ import annotations

import datetime as dt

from contracts.workflow import Deadline, PeriodDue

__all__ = ["PeriodDue", "periods_between", "sendable_from"]


def periods_between(deadline: Deadline, start: dt.date, end: dt.date) -> list[PeriodDue]:
    """Every period with at least one day in [start, end], oldest first (none when end < start).

    E.g. half-years between 2026-05-10 and 2027-02-01: 2026-S1, 2026-S2, 2027-S1. An organisation
    recorded on ``start`` owes a report for the period it was recorded in, as the reminders count it.
    """
    if end < start:
        return []
    per_year = len(deadline.periods)
    index = start.year * per_year  # a period lies within one calendar year (``months`` is [first, last])
    found = []
    while (period := deadline.at_index(index)).starts_on <= end:
        if period.ends_on >= start:
            found.append(period)
        index += 1
    return found


def sendable_from(period: PeriodDue) -> dt.date:
    """The first day a report on ``period`` may go to the office: the first day of its last month.

    A report may be drafted from the period's first day (activities are added as they happen), but it
    covers the whole period, so it is sent no earlier than its last month (1 June for January–June).
    """
    return period.ends_on.replace(day=1)
