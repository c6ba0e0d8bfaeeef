"""An organisation's reporting status in the registry, moved by the reports workflow's events."""

from __future__ import annotations

import pytest

from contracts.identity import Caller, Role
from services.registry.application import RegistryApplication
from services.registry.compliance import INACTIVE, LATE, UP_TO_DATE, longest_run, reporting_status
from services.registry.publishing import to_integration
from tests.support.factories import organisation_payload


@pytest.mark.parametrize(
    ("missed", "status"),
    [([], UP_TO_DATE), ([4052], LATE), ([4050, 4052], LATE), ([4051, 4052], INACTIVE), ([4052, 4053, 4054], INACTIVE)],
)
def test_two_consecutive_missed_periods_make_an_organisation_inactive(missed: list[int], status: str) -> None:
    assert reporting_status(missed, inactive_after=2) == status


def test_runs_count_across_year_ends() -> None:
    assert longest_run([4049, 4050, 4052]) == 2  # 2024-S2, 2025-S1 (consecutive), 2026-S1


@pytest.fixture
def app() -> RegistryApplication:
    return RegistryApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def organisation(app: RegistryApplication) -> str:
    account = app.register_applicant({"email": "s@ormas.or.id", "password": "rahasia-12345", "full_name": "Siti"})
    app.confirm_directly(account["id"])
    return str(
        app.record_organisation(Caller(user_id=account["id"], role=Role.APPLICANT), organisation_payload())["id"]
    )


def status(app: RegistryApplication, organisation_id: str) -> tuple[str, list[str]]:
    view = app.get_organisation(Caller(user_id="staff", role=Role.VERIFIER), organisation_id)
    return view["reporting_status"], view["missed_reports"]


def test_an_organisation_goes_late_then_inactive_and_back_to_active(app: RegistryApplication) -> None:
    organisation_id = organisation(app)
    assert status(app, organisation_id) == (UP_TO_DATE, [])
    assert app.note_report_overdue(organisation_id, "2025-S2")
    assert status(app, organisation_id) == (LATE, ["2025-S2"])
    assert app.note_report_overdue(organisation_id, "2026-S1")
    assert status(app, organisation_id) == (INACTIVE, ["2025-S2", "2026-S1"])
    assert app.note_report_accepted(organisation_id, "2025-S2")
    assert status(app, organisation_id) == (LATE, ["2026-S1"])
    assert app.note_report_accepted(organisation_id, "2026-S1")
    assert status(app, organisation_id) == (UP_TO_DATE, [])


def test_repeated_or_stale_news_changes_nothing(app: RegistryApplication) -> None:
    organisation_id = organisation(app)
    app.note_report_overdue(organisation_id, "2026-S1")
    version = app.get_organisation(Caller(user_id="staff", role=Role.VERIFIER), organisation_id)["version"]
    assert not app.note_report_overdue(organisation_id, "2026-S1")  # delivered twice
    app.note_report_accepted(organisation_id, "2026-S1")
    assert not app.note_report_overdue(organisation_id, "2026-S1")  # overdue news arriving after the acceptance
    assert status(app, organisation_id) == (UP_TO_DATE, [])
    assert app.get_organisation(Caller(user_id="staff", role=Role.VERIFIER), organisation_id)["version"] == version + 1


def test_a_period_of_no_calendar_is_refused(app: RegistryApplication) -> None:
    with pytest.raises(ValueError, match="not a period"):
        app.note_report_overdue(organisation(app), "2026-Q3")


def test_changes_are_published_for_integrators(app: RegistryApplication) -> None:
    organisation_id = organisation(app)
    app.note_report_overdue(organisation_id, "2026-S1")
    notifications = app.recorder.select_notifications(start=1, limit=10)
    published = [e for n in notifications if (e := to_integration(app.mapper.to_domain_event(n))) is not None]
    change = published[-1]
    assert change.event_type == "organisation.compliance_changed.v1"
    assert change.data == {"organisation_id": organisation_id, "status": LATE, "missed_periods": ["2026-S1"]}
