"""Reminders of half-yearly reports: which are due on a day, recorded once, announced as events."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest

from infra.catalogue import load_catalogue
from services.submissions.application import SubmissionsApplication
from services.submissions.deadlines import Organisation, due_reminders, periods_in_window
from services.submissions.publishing import mapper_for

DEADLINE = load_catalogue().workflows["report"].deadline
assert DEADLINE is not None
OLD = Organisation("org-old", "Perkumpulan Lama", dt.date(2020, 1, 1))
NEW = Organisation("org-new", "Perkumpulan Baru", dt.date(2026, 7, 15))  # recorded after 2026-S1 ended


def nothing_filed(pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
    return set()


def reminders(today: str, filed=nothing_filed, organisations=(OLD, NEW)) -> list[tuple[str, str, int, int]]:  # type: ignore[no-untyped-def]
    due = due_reminders(DEADLINE, dt.date.fromisoformat(today), organisations, filed)  # type: ignore[arg-type]
    return [(r.organisation.organisation_id, r.period.key, r.offset_days, r.missed_in_a_row) for r in due]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("2026-07-16", []),  # S1 2026 is due 31 July: 14 days before is 17 July
        ("2026-07-17", [("org-old", "2026-S1", -14, 0)]),
        ("2026-07-30", [("org-old", "2026-S1", -3, 0)]),
        ("2026-08-01", [("org-old", "2026-S1", 1, 3)]),  # overdue; 2025-S1 and S2 were missed too
        ("2026-08-20", [("org-old", "2026-S1", 14, 3)]),  # the last one reached stays due (recorded once)
        ("2026-09-13", [("org-old", "2026-S1", 14, 3)]),  # ... for 30 days of grace (the system was down?)
        ("2026-09-14", []),
    ],
)
def test_the_latest_reminder_reached_is_due_until_the_report_is_filed(today: str, expected: list) -> None:
    assert reminders(today) == expected


def test_a_new_organisation_owes_no_report_for_a_time_before_it_was_recorded() -> None:
    assert [r for r in reminders("2027-01-17") if r[0] == "org-new"] == [("org-new", "2026-S2", -14, 0)]
    assert not [r for r in reminders("2026-08-01") if r[0] == "org-new"]


def test_a_filed_report_gets_no_reminder_and_breaks_the_run_of_missed_periods() -> None:
    def filed(pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
        return {pair for pair in pairs if pair in {("org-old", "2026-S1"), ("org-old", "2025-S2")}}

    assert reminders("2026-08-01", filed) == []
    only_s1 = {("org-old", "2026-S1")}
    assert reminders("2027-02-01", lambda pairs: set(pairs) & only_s1, (OLD,)) == [("org-old", "2026-S2", 1, 1)]


def test_the_window_holds_only_periods_with_a_reminder_due() -> None:
    assert [p.key for p in periods_in_window(DEADLINE, dt.date(2026, 7, 20))] == ["2026-S1"]
    assert [p.key for p in periods_in_window(DEADLINE, dt.date(2026, 11, 28))] == []


@pytest.fixture
def app() -> SubmissionsApplication:
    return SubmissionsApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def test_each_reminder_is_recorded_once_even_when_two_timers_fire_together(app: SubmissionsApplication) -> None:
    organisations = [Organisation(f"org-{n}", f"Ormas {n}", dt.date(2020, 1, 1)) for n in range(40)]
    day = dt.date(2026, 7, 17)
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = list(pool.map(lambda _: app.send_due_reminders("report", day, organisations), range(2)))
    assert sum(counts) == 40
    assert app.send_due_reminders("report", day, organisations) == 0  # the timer fires again: nothing new
    assert app.send_due_reminders("report", dt.date(2026, 7, 29), organisations) == 40  # the next offset


def test_reminders_become_versioned_integration_events(app: SubmissionsApplication) -> None:
    app.send_due_reminders("report", dt.date(2026, 7, 17), [OLD])
    app.send_due_reminders("report", dt.date(2026, 8, 1), [OLD])
    mapper = mapper_for(app)
    events = [
        e for n in app.recorder.select_notifications(start=1, limit=10) if (e := mapper(app.mapper.to_domain_event(n)))
    ]
    assert [(e.event_type, e.data["offset_days"]) for e in events] == [
        ("report.reminder_due.v1", -14),
        ("report.overdue.v1", 1),
    ]
    assert events[1].data["period"] == "2026-S1" and events[1].data["due_on"] == "2026-07-31"
    assert events[1].data["missed_in_a_row"] == 3 and events[1].data["organisation_name"] == "Perkumpulan Lama"
