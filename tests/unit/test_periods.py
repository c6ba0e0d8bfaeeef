"""Periods of a periodic obligation: keys, dates, due dates and which periods touch a stretch of dates."""

from __future__ import annotations

import datetime as dt

import pytest

from contracts.workflow import Deadline, Period, PeriodDue
from infra.catalogue import load_catalogue
from services.submissions.periods import periods_between, sendable_from

D = dt.date


@pytest.fixture(scope="module")
def half_years() -> Deadline:
    workflow = load_catalogue().workflow("report")
    assert workflow is not None and workflow.deadline is not None
    return workflow.deadline


QUARTERS = Deadline(
    periods=[
        Period(key=f"Q{n}", label=f"Triwulan {n}", months=(3 * n - 2, 3 * n), due_month=(3 * n) % 12 + 1,
               due_day=15, due_next_year=n == 4)
        for n in (1, 2, 3, 4)
    ]
)  # fmt: skip


def keys(periods: list[PeriodDue]) -> list[str]:
    return [period.key for period in periods]


def test_a_key_names_a_period_with_its_dates_and_due_date(half_years: Deadline) -> None:
    first, second = half_years.period("2026-S1"), half_years.period("2026-S2")
    assert (first.label, first.starts_on, first.ends_on, first.due_on) == (
        "Semester I (Januari–Juni) 2026",
        D(2026, 1, 1),
        D(2026, 6, 30),
        D(2026, 7, 31),
    )
    assert (second.starts_on, second.ends_on, second.due_on) == (D(2026, 7, 1), D(2026, 12, 31), D(2027, 1, 31))
    assert half_years.period("2027-S1").index == second.index + 1  # consecutive across the year end


@pytest.mark.parametrize("key", ["2026-S3", "2026S1", "26-S1", "2026-", "S1-2026", "2026-s1", ""])
def test_a_key_of_no_configured_period_is_refused(half_years: Deadline, key: str) -> None:
    with pytest.raises(ValueError, match="is not a period"):
        half_years.period(key)


def test_the_periods_touching_a_stretch_of_dates_oldest_first(half_years: Deadline) -> None:
    found = periods_between(half_years, D(2026, 5, 10), D(2027, 2, 1))
    assert keys(found) == ["2026-S1", "2026-S2", "2027-S1"]
    assert [period.due_on for period in found] == [D(2026, 7, 31), D(2027, 1, 31), D(2027, 7, 31)]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2026, 6, 30), D(2026, 7, 1), ["2026-S1", "2026-S2"]),  # a period's last and the next one's first day
        (D(2026, 7, 1), D(2026, 7, 1), ["2026-S2"]),
        (D(2026, 12, 31), D(2027, 1, 1), ["2026-S2", "2027-S1"]),
        (D(2024, 1, 1), D(2025, 12, 31), ["2024-S1", "2024-S2", "2025-S1", "2025-S2"]),
        (D(2026, 8, 1), D(2026, 7, 31), []),  # an empty stretch
    ],
)
def test_boundaries_count_a_period_with_one_day_in_the_stretch(
    half_years: Deadline, start: dt.date, end: dt.date, expected: list[str]
) -> None:
    assert keys(periods_between(half_years, start, end)) == expected


def test_any_calendar_of_periods_works_quarters_included() -> None:
    found = periods_between(QUARTERS, D(2026, 11, 20), D(2027, 4, 1))
    assert keys(found) == ["2026-Q4", "2027-Q1", "2027-Q2"]
    assert [period.due_on for period in found] == [D(2027, 1, 15), D(2027, 4, 15), D(2027, 7, 15)]
    assert [period.ends_on for period in found] == [D(2026, 12, 31), D(2027, 3, 31), D(2027, 6, 30)]


def test_a_report_is_sent_from_the_first_day_of_its_periods_last_month(half_years: Deadline) -> None:
    assert sendable_from(half_years.period("2026-S1")) == D(2026, 6, 1)
    assert sendable_from(half_years.period("2026-S2")) == D(2026, 12, 1)
    assert sendable_from(QUARTERS.period("2027-Q1")) == D(2027, 3, 1)
