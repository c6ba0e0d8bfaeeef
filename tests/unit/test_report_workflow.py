"""Half-yearly reports on the case kernel (in-memory store): a draft per organisation and period, submitted,
returned or accepted with a numbered receipt; the period is checked against the region's calendar."""

from __future__ import annotations

import datetime as dt

import pytest

from contracts.cases import CaseStatus, ServiceType
from contracts.errors import Conflict, InvalidInput, PermissionDenied
from infra.catalogue import load_catalogue
from services.submissions.application import SubmissionsApplication
from tests.support.factories import attachment, organisation_snapshot
from tests.support.scenario import APPLICANT, VERIFIER

REPORT = {
    "period": "2026-S1",
    "activities": [{"held_on": "2026-03-14", "title": "Kerja bakti lingkungan Klandasan Ilir"}],
    "signed_by_chair": "Budi Santoso",
    "signed_by_secretary": "Siti Sekretaris",
}


@pytest.fixture
def app() -> SubmissionsApplication:
    return SubmissionsApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def draft(app: SubmissionsApplication, **form: object) -> dict:
    return app.submit_case(APPLICANT, organisation_snapshot(), {"service": "report", "form": {**REPORT, **form}})


def test_a_report_opens_as_a_draft_with_its_period_and_no_clock(app: SubmissionsApplication) -> None:
    report = draft(app)
    assert report["status"] == "draft" and report["status_label"] == "Draf"
    assert report["form"]["period"] == "2026-S1" and report["reference"].startswith("LAP-")
    assert report["sla"]["running"] is False and report["sla"]["days_used"] == 0


def test_one_report_per_organisation_and_period(app: SubmissionsApplication) -> None:
    first = draft(app)
    assert draft(app)["id"] == first["id"]  # the same filing again (a retry) names the same case
    with pytest.raises(Conflict) as refused:
        draft(app, no_activity=True, activities=[])
    assert refused.value.field == "form.period" and first["reference"] in refused.value.message
    assert draft(app, period="2025-S2")["id"] != first["id"]


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"period": "2026-Q1"}, "form.period"),
        ({"period": f"{dt.date.today().year + 1}-S1"}, "form.period"),  # not begun yet
        ({"signed_by_chair": "Budi\nSantoso"}, "form.signed_by_chair"),
        ({"activities": [{"held_on": "2026-03-14", "title": ""}]}, "form.activities.0.title"),
    ],
)
def test_a_bad_report_is_refused_naming_the_field(app: SubmissionsApplication, form: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        draft(app, **form)
    assert refused.value.field == field


def test_a_report_needs_its_form_and_an_skm_takes_none(app: SubmissionsApplication) -> None:
    with pytest.raises(InvalidInput) as no_form:
        app.submit_case(APPLICANT, organisation_snapshot(), {"service": "report"})
    assert no_form.value.field == "form"
    with pytest.raises(InvalidInput) as skm_form:
        app.submit_case(
            APPLICANT, organisation_snapshot(), {"service": "skm", "form": REPORT, "attachments": [attachment()]}
        )
    assert skm_form.value.field == "form"
    with pytest.raises(InvalidInput) as no_files:
        app.submit_case(APPLICANT, organisation_snapshot(), {"service": "skm"})
    assert no_files.value.field == "attachments"


def test_draft_submit_return_resubmit_accept_issues_a_numbered_receipt(app: SubmissionsApplication) -> None:
    report = draft(app)
    updated = app.act(
        APPLICANT, report["id"], "update_draft", {"form": {**REPORT, "no_activity": True, "activities": []}}
    )
    assert updated["form"]["no_activity"] is True and updated["status"] == "draft"
    with pytest.raises(Conflict):  # a draft is the organisation's: nothing to accept yet
        app.act(VERIFIER, report["id"], "accept", {})
    with pytest.raises(PermissionDenied):
        app.act(VERIFIER, report["id"], "submit", {})
    submitted = app.act(APPLICANT, report["id"], "submit", {})
    assert submitted["status"] == "submitted" and submitted["sla"]["running"] and submitted["sla"]["sla_days"] == 5
    returned = app.act(VERIFIER, report["id"], "return_for_revision", {"reason": "Tanda tangan sekretaris belum ada"})
    assert returned["status_label"] == "Dikembalikan untuk perbaikan" and not returned["sla"]["running"]
    app.act(APPLICANT, report["id"], "resubmit", {"form": {**REPORT, "signed_by_secretary": "Siti Aminah"}})
    accepted = app.act(VERIFIER, report["id"], "accept", {"note": "Lengkap"})
    receipt = accepted["letter"]
    assert accepted["status"] == "accepted" and receipt["kind"] == "receipt" and receipt["template"] == "receipt"
    assert receipt["number"] == f"TT-LAP/0001/KESBANGPOL/{receipt['year']}"
    assert receipt["title"] == "TANDA TERIMA LAPORAN SEMESTER"
    assert accepted["form"]["signed_by_secretary"] == "Siti Aminah"


def test_the_contract_enums_cover_the_shipped_workflows() -> None:
    catalogue = load_catalogue()
    assert {service.value for service in ServiceType} == set(catalogue.workflows)
    states = {state for workflow in catalogue.workflows.values() for state in workflow.states}
    assert {status.value for status in CaseStatus} == states


def test_an_organisation_sees_which_reports_it_owes(app: SubmissionsApplication) -> None:
    app.fixed_today = dt.date(2027, 2, 5)  # as SATU_TODAY sets it on a test system
    organisation = {**organisation_snapshot(), "recorded_at": "2026-11-28T03:00:00+00:00"}
    due = app.reports_due(APPLICANT, organisation)
    assert [(row["period"], row["due_on"], row["status"], row["overdue"]) for row in due] == [
        ("2026-S2", "2027-01-31", "not_filed", True),  # recorded in 2026-S2: owes it, a few days late
        ("2027-S1", "2027-07-31", "not_filed", False),
    ]
    report = app.submit_case(APPLICANT, organisation, {"service": "report", "form": {**REPORT, "period": "2026-S2"}})
    assert app.reports_due(APPLICANT, organisation)[0]["status"] == "draft"  # a draft is not filed yet
    app.act(APPLICANT, report["id"], "submit", {})
    first = app.reports_due(APPLICANT, organisation)[0]
    assert first["status"] == "submitted" and first["overdue"] is False and first["case_id"] == report["id"]
    with pytest.raises(PermissionDenied):
        app.reports_due(VERIFIER, organisation)
