"""Half-yearly reports on the case kernel (in-memory store): a draft per organisation and period, submitted,
returned or accepted with a numbered receipt; the period is checked against the region's calendar.

The application's today is fixed (as SATU_TODAY fixes it on a test system): 2026-11-28, in 2026-S2."""

from __future__ import annotations

import datetime as dt

import pytest

from contracts.cases import CaseStatus, ServiceType
from contracts.errors import Conflict, InvalidInput, PermissionDenied
from contracts.identity import Caller, Role
from infra.catalogue import load_catalogue
from services.submissions.application import SubmissionsApplication
from tests.support.factories import attachment, organisation_snapshot
from tests.support.scenario import APPLICANT, VERIFIER

TODAY = dt.date(2026, 11, 28)
REPORT = {
    "period": "2026-S1",
    "activities": [{"held_on": "2026-03-14", "title": "Kerja bakti lingkungan Klandasan Ilir"}],
    "signed_by_chair": "Budi Santoso",
    "signed_by_secretary": "Siti Sekretaris",
}
NOTHING_DONE = {"activities": [], "no_activity": True}


@pytest.fixture
def app() -> SubmissionsApplication:
    application = SubmissionsApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    application.fixed_today = TODAY
    return application


def draft(app: SubmissionsApplication, **form: object) -> dict:
    return app.submit_case(APPLICANT, organisation_snapshot(), {"service": "report", "form": {**REPORT, **form}})


def test_a_report_opens_as_a_draft_with_its_period_and_no_clock(app: SubmissionsApplication) -> None:
    report = draft(app)
    assert report["status"] == "draft" and report["status_label"] == "Draf"
    assert report["form"]["period"] == "2026-S1" and report["subject"] == "2026-S1"
    assert report["reference"].startswith("LAP-")
    assert report["sla"]["running"] is False and report["sla"]["days_used"] == 0


def test_one_report_per_organisation_and_period(app: SubmissionsApplication) -> None:
    first = draft(app)
    assert draft(app)["id"] == first["id"]  # the same filing again (a retry) names the same case
    with pytest.raises(Conflict) as refused:
        draft(app, **NOTHING_DONE)
    assert refused.value.field == "form.period" and first["reference"] in refused.value.message
    assert draft(app, period="2025-S2", **NOTHING_DONE)["id"] != first["id"]
    neighbour = Caller(user_id="u-2", role=Role.APPLICANT, organisation_id="org-2")
    theirs = app.submit_case(neighbour, organisation_snapshot("org-2"), {"service": "report", "form": REPORT})
    assert theirs["id"] != first["id"]  # another organisation's report of the same period is its own


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"period": "2026-Q1"}, "form.period"),
        ({"period": "2026-S3"}, "form.period"),
        ({"period": "2027-S1", **NOTHING_DONE}, "form.period"),  # not begun yet
        ({"signed_by_chair": "Budi\nSantoso"}, "form.signed_by_chair"),
        ({"activities": [{"held_on": "2026-03-14", "title": ""}]}, "form.activities.0.title"),
        ({"activities": [{"held_on": "2026-07-01", "title": "Rapat"}]}, "form.activities.0.held_on"),  # S2
        ({"no_activity": True}, "form.no_activity"),  # "no activity", yet one is listed
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
    with pytest.raises(InvalidInput) as wrong_kind:
        draft_with_files = {"service": "report", "form": REPORT, "attachments": [attachment("deed")]}
        app.submit_case(APPLICANT, organisation_snapshot(), draft_with_files)
    assert wrong_kind.value.field == "attachments.0.kind"  # the definition's optional_files only


def test_draft_submit_return_resubmit_accept_issues_a_numbered_receipt(app: SubmissionsApplication) -> None:
    report = draft(app)
    updated = app.act(APPLICANT, report["id"], "update_draft", {"form": {**REPORT, **NOTHING_DONE}})
    assert updated["form"]["no_activity"] is True and updated["status"] == "draft"
    with pytest.raises(Conflict):  # a draft is the organisation's: nothing to accept yet
        app.act(VERIFIER, report["id"], "accept", {})
    with pytest.raises(PermissionDenied):
        app.act(VERIFIER, report["id"], "submit", {})
    submitted = app.act(APPLICANT, report["id"], "submit", {})
    assert submitted["status"] == "submitted" and submitted["sla"]["running"] and submitted["sla"]["sla_days"] == 5
    returned = app.act(VERIFIER, report["id"], "return_for_revision", {"reason": "Tanda tangan sekretaris belum ada"})
    assert returned["status_label"] == "Dikembalikan untuk perbaikan" and not returned["sla"]["running"]
    assert returned["last_reason"] == "Tanda tangan sekretaris belum ada"
    resubmitted = app.act(
        APPLICANT, report["id"], "resubmit", {"form": {**REPORT, "signed_by_secretary": "Siti Aminah"}}
    )
    assert resubmitted["sla"]["running"] and resubmitted["last_reason"] is None
    accepted = app.act(VERIFIER, report["id"], "accept", {"note": "Lengkap"})
    receipt = accepted["letter"]
    assert accepted["status"] == "accepted" and receipt["kind"] == "receipt" and receipt["template"] == "receipt"
    assert receipt["number"] == "TT-LAP/0001/KESBANGPOL/2026" and receipt["issued_on"] == "2026-11-28"
    assert receipt["title"] == "TANDA TERIMA LAPORAN SEMESTER"
    assert accepted["form"]["signed_by_secretary"] == "Siti Aminah"
    # What the receipt states travels with it: the accepted form's short values, its lists counted.
    assert receipt["facts"]["period"] == "2026-S1" and receipt["facts"]["activities"] == 1
    assert receipt["facts"]["signed_by_secretary"] == "Siti Aminah"


def test_a_report_stays_about_its_period(app: SubmissionsApplication) -> None:
    report = draft(app)
    with pytest.raises(InvalidInput) as moved:
        app.act(APPLICANT, report["id"], "update_draft", {"form": {**REPORT, "period": "2025-S2", **NOTHING_DONE}})
    assert moved.value.field == "form.period" and "2025-S2" in moved.value.message
    app.act(APPLICANT, report["id"], "submit", {})
    app.act(VERIFIER, report["id"], "return_for_revision", {"reason": "Kegiatan belum lengkap"})
    with pytest.raises(InvalidInput) as moved:
        app.act(APPLICANT, report["id"], "resubmit", {"form": {**REPORT, "period": "2026-S2", **NOTHING_DONE}})
    assert moved.value.field == "form.period"
    with pytest.raises(InvalidInput) as outside:
        late = [{"held_on": "2026-08-17", "title": "Lomba tujuh belasan"}]
        app.act(APPLICANT, report["id"], "resubmit", {"form": {**REPORT, "activities": late}})
    assert outside.value.field == "form.activities.0.held_on"
    assert app.get_case(APPLICANT, report["id"])["form"]["period"] == "2026-S1"


def test_a_draft_may_be_incomplete_but_what_is_sent_says_what_happened(app: SubmissionsApplication) -> None:
    report = draft(app, activities=[])  # neither activities nor "no activity" yet: a draft in progress
    with pytest.raises(InvalidInput) as empty:
        app.act(APPLICANT, report["id"], "submit", {})
    assert empty.value.field == "form.activities"
    app.act(APPLICANT, report["id"], "update_draft", {"form": {**REPORT, **NOTHING_DONE}})
    assert app.act(APPLICANT, report["id"], "submit", {})["status"] == "submitted"
    app.act(VERIFIER, report["id"], "return_for_revision", {"reason": "Mohon dilengkapi"})
    with pytest.raises(InvalidInput) as empty_again:
        app.act(APPLICANT, report["id"], "resubmit", {"form": {**REPORT, "activities": []}})
    assert empty_again.value.field == "form.activities"


def test_a_report_is_drafted_during_its_period_and_sent_from_its_last_month(app: SubmissionsApplication) -> None:
    app.fixed_today = dt.date(2026, 8, 20)
    report = draft(app, period="2026-S2", activities=[{"held_on": "2026-08-17", "title": "Lomba tujuh belasan"}])
    with pytest.raises(Conflict) as early:
        app.act(APPLICANT, report["id"], "submit", {})
    assert early.value.field == "form.period" and "2026-12-01" in early.value.message
    app.fixed_today = dt.date(2026, 12, 1)
    assert app.act(APPLICANT, report["id"], "submit", {})["status"] == "submitted"


def test_the_contract_enums_cover_the_shipped_workflows() -> None:
    catalogue = load_catalogue()
    assert {service.value for service in ServiceType} == set(catalogue.workflows)
    states = {state for workflow in catalogue.workflows.values() for state in workflow.states}
    assert {status.value for status in CaseStatus} == states


def test_an_organisation_sees_which_reports_it_owes(app: SubmissionsApplication) -> None:
    app.fixed_today = dt.date(2027, 2, 5)
    organisation = {**organisation_snapshot(), "recorded_at": "2026-11-28T03:00:00+00:00"}
    due = app.reports_due(APPLICANT, organisation)
    assert [(row["period"], row["due_on"], row["status"], row["overdue"]) for row in due] == [
        ("2026-S2", "2027-01-31", "not_filed", True),  # recorded in 2026-S2: owes it, a few days late
        ("2027-S1", "2027-07-31", "not_filed", False),
    ]
    assert due[0]["label"] == "Semester II (Juli–Desember) 2026" and due[0]["case_id"] is None
    report = app.submit_case(
        APPLICANT, organisation, {"service": "report", "form": {**REPORT, **NOTHING_DONE, "period": "2026-S2"}}
    )
    assert app.reports_due(APPLICANT, organisation)[0]["status"] == "draft"  # a draft is not filed yet
    app.act(APPLICANT, report["id"], "submit", {})
    first = app.reports_due(APPLICANT, organisation)[0]
    assert first["status"] == "submitted" and first["overdue"] is False and first["case_id"] == report["id"]
    with pytest.raises(PermissionDenied):
        app.reports_due(VERIFIER, organisation)


def test_the_reports_due_reach_two_years_back_for_a_long_recorded_organisation(app: SubmissionsApplication) -> None:
    app.fixed_today = dt.date(2027, 2, 5)
    organisation = {**organisation_snapshot(), "recorded_at": "2019-03-01T03:00:00+00:00"}
    due = app.reports_due(APPLICANT, organisation)
    assert [row["period"] for row in due] == ["2025-S1", "2025-S2", "2026-S1", "2026-S2", "2027-S1"]
    assert all(row["overdue"] for row in due[:-1]) and not due[-1]["overdue"]
