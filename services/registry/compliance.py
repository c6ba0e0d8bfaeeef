"""An organisation's reporting status, from the report periods it has missed. Pure.

Up to date: nothing missed. Late: a report is overdue. Inactive: ``inactive_after`` consecutive
periods missed (Permendagri 57/2017: an ormas that stops reporting is treated as inactive); it is
active again once the missing reports are accepted and no such run is left.
"""

from __future__ import annotations

from collections.abc import Iterable

UP_TO_DATE, LATE, INACTIVE = "up_to_date", "late", "inactive"
STATUSES = (UP_TO_DATE, LATE, INACTIVE)


def longest_run(indexes: Iterable[int]) -> int:
    """The length of the longest run of consecutive period indexes."""
    longest, run, previous = 0, 0, None
    for index in sorted(set(indexes)):
        run = run + 1 if previous is not None and index == previous + 1 else 1
        longest, previous = max(longest, run), index
    return longest


def reporting_status(missed: Iterable[int], inactive_after: int) -> str:
    indexes = list(missed)
    if not indexes:
        return UP_TO_DATE
    return INACTIVE if longest_run(indexes) >= inactive_after else LATE
