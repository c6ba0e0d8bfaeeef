"""The case kernel on the submissions application (in-memory store): steps taken by definition, the
field visit, hold and release with the clock, assignment, and cases stored before the kernel."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from contracts.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from services.submissions.application import SubmissionsApplication
from services.submissions.publishing import mapper_for
from tests.support.factories import attachment, organisation_snapshot
from tests.support.scenario import FIELD_VISIT, load_walking_skeleton_events
from tests.unit.test_case_workflow import APPLICANT, APPROVER, AUDITOR, VERIFIER, submit


@pytest.fixture
def app() -> SubmissionsApplication:
    return SubmissionsApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def test_a_case_cannot_be_forwarded_before_the_field_visit(app: SubmissionsApplication) -> None:
    case = submit(app)
    with pytest.raises(Conflict) as refused:
        app.act(VERIFIER, case["id"], "forward", {})
    assert refused.value.field == "action" and "verifikasi lapangan" in refused.value.message
    visited = app.act(VERIFIER, case["id"], "record_field_visit", FIELD_VISIT)
    assert visited["status"] == "submitted" and "record_field_visit" in visited["actions_done"]
    assert visited["attachments"][-1]["kind"] == "field_photo"
    assert app.act(VERIFIER, case["id"], "forward", {})["status"] == "forwarded"
    record = app.case_history(AUDITOR, case["id"])[1]["data"]
    assert record["form"]["officers"] == ["Rina Verifikator", "Joko Staf"] and record["form"]["findings"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"attachments": FIELD_VISIT["attachments"]}, "form"),
        (
            {"form": {**FIELD_VISIT["form"], "visited_on": "2999-01-01"}, "attachments": FIELD_VISIT["attachments"]},
            "form.visited_on",
        ),
        ({"form": {**FIELD_VISIT["form"], "officers": []}, "attachments": FIELD_VISIT["attachments"]}, "form.officers"),
        ({"form": FIELD_VISIT["form"]}, "attachments"),
        ({"form": FIELD_VISIT["form"], "attachments": [attachment("deed")]}, "attachments.0.kind"),
    ],
)
def test_a_field_visit_needs_its_record_and_photos(app: SubmissionsApplication, payload: dict, field: str) -> None:
    case = submit(app)
    with pytest.raises(InvalidInput) as refused:
        app.act(VERIFIER, case["id"], "record_field_visit", payload)
    assert refused.value.field == field
    assert app.get_case(AUDITOR, case["id"])["version"] == 1


def forwarded(app: SubmissionsApplication) -> str:
    case = submit(app)
    app.act(VERIFIER, case["id"], "record_field_visit", FIELD_VISIT)
    app.act(VERIFIER, case["id"], "forward", {})
    return str(case["id"])


def test_hold_pauses_the_clock_with_a_reason_and_release_restarts_it(app: SubmissionsApplication) -> None:
    case_id = forwarded(app)
    with pytest.raises(InvalidInput) as no_reason:
        app.act(APPROVER, case_id, "hold", {})
    assert no_reason.value.field == "reason"
    held = app.act(APPROVER, case_id, "hold", {"reason": "Ormas besar, perlu evaluasi tim"})
    assert held["status"] == "on_hold" and held["status_label"] == "Ditangguhkan untuk evaluasi"
    assert held["sla"]["running"] is False and held["last_reason"] == "Ormas besar, perlu evaluasi tim"
    with pytest.raises(Conflict):
        app.act(APPROVER, case_id, "approve", {})
    released = app.act(APPROVER, case_id, "release", {"note": "Evaluasi selesai"})
    assert released["status"] == "forwarded" and released["sla"]["running"] is True
    assert [change["clock"] for change in released["clock_changes"]] == ["running", "paused", "running"]
    assert released["clock_changes"][1]["by"] == "u-approver"
    assert released["clock_changes"][1]["reason"] == "Ormas besar, perlu evaluasi tim"
    approved = app.act(APPROVER, case_id, "approve", {})
    assert approved["sla"]["running"] is False and approved["clock_changes"][-1]["clock"] == "stopped"


def test_a_revision_request_pauses_the_clock_and_resubmission_resumes_it(app: SubmissionsApplication) -> None:
    case = submit(app)
    assert case["sla"]["sla_days"] == 15 and case["sla"]["running"] and case["sla"]["due_at"]
    paused = app.act(VERIFIER, case["id"], "request_revision", {"reason": "Akta tidak terbaca"})
    assert not paused["sla"]["running"] and paused["sla"]["due_at"] is None
    resumed = app.act(APPLICANT, case["id"], "resubmit", {"attachments": [attachment("deed")]})
    assert resumed["sla"]["running"] and resumed["sla"]["due_at"]


def test_staff_take_a_case_or_hand_it_to_a_colleague(app: SubmissionsApplication) -> None:
    case = submit(app)
    taken = app.act(VERIFIER, case["id"], "take", {})
    assert taken["assignee"] == {"id": "u-verifier", "role": "verifier"} and taken["status"] == "submitted"
    handed = app.act(
        VERIFIER,
        case["id"],
        "assign",
        {"assignee": {"id": "u-rina", "role": "verifier", "name": "Rina"}, "note": "Cuti"},
    )
    assert handed["assignee"] == {"id": "u-rina", "role": "verifier", "name": "Rina"}
    with pytest.raises(InvalidInput) as not_staff:
        app.act(VERIFIER, case["id"], "assign", {"assignee": {"id": "u-siti", "role": "applicant", "name": "Siti"}})
    assert not_staff.value.field == "assignee.role"
    with pytest.raises(PermissionDenied):
        app.act(APPLICANT, case["id"], "take", {})


def test_unknown_actions_and_extra_input_are_refused(app: SubmissionsApplication) -> None:
    case = submit(app)
    with pytest.raises(NotFound) as unknown:
        app.act(VERIFIER, case["id"], "approve_quickly", {})
    assert unknown.value.field == "action"
    with pytest.raises(InvalidInput) as extra:
        app.act(VERIFIER, case["id"], "take", {"reason": "saya ambil"})
    assert extra.value.field == "reason"
    with pytest.raises(InvalidInput) as unknown_key:
        app.act(VERIFIER, case["id"], "take", {"priority": "high"})
    assert unknown_key.value.field == "priority"


def test_the_catalogue_describes_every_workflow_with_bahasa_labels(app: SubmissionsApplication) -> None:
    workflows = {workflow["key"]: workflow for workflow in app.describe_workflows()}
    skm = workflows["skm"]
    assert skm["label"] == "Surat Keterangan Melapor" and skm["sla_days"] == 15
    assert skm["actions"]["hold"]["roles"] == ["approver"] and skm["actions"]["hold"]["needs"] == ["reason"]
    assert skm["actions"]["forward"]["from"] == ["submitted", "resubmitted"]
    assert workflows["report"]["states"]["accepted"]["label"] == "Diterima"


def test_cases_stored_before_the_kernel_replay_with_the_same_state(app: SubmissionsApplication) -> None:
    fixture = load_walking_skeleton_events(app)
    for case_id, before in fixture["views"].items():
        now = app.get_case(AUDITOR, case_id)
        same = (
            "status",
            "reference",
            "service",
            "attachments",
            "superseded_attachments",
            "note",
            "last_reason",
            "letter",
            "version",
        )
        assert {key: now[key] for key in same} == {key: before[key] for key in same}
        assert now["created_at"] == before["created_at"] and now["workflow_version"] == 1
    approved = next(view for view in fixture["views"].values() if view["status"] == "approved")
    clock = [change["clock"] for change in app.get_case(AUDITOR, approved["id"])["clock_changes"]]
    assert clock == ["running", "paused", "running", "stopped"]
    history = app.case_history(AUDITOR, approved["id"])
    assert [step["type"] for step in history] == [
        "Case.Submitted", "Case.RevisionRequested", "Case.Resubmitted", "Case.Forwarded", "Case.Approved",
    ]  # fmt: skip


def test_events_of_old_cases_map_with_their_case_looked_up(app: SubmissionsApplication) -> None:
    """Events stored before each carried its case's facts: a mapper that missed the filing looks it up."""
    fixture = load_walking_skeleton_events(app)
    approved = next(view for view in fixture["views"].values() if view["status"] == "approved")
    notifications = app.recorder.select_notifications(start=1, limit=100)
    approval = next(n for n in notifications if n.originator_id == uuid.UUID(approved["id"]) and "Approved" in n.topic)
    event = mapper_for(app)(app.mapper.to_domain_event(approval))
    assert event is not None and event.event_type == "case.approved.v1"
    assert event.case().reference == approved["reference"] and event.case().letter is not None
    assert event.case().organisation and event.case().organisation["name"] == approved["organisation_name"]


def test_an_old_case_waiting_for_revision_goes_on_under_todays_definition(app: SubmissionsApplication) -> None:
    fixture = load_walking_skeleton_events(app)
    waiting = next(view for view in fixture["views"].values() if view["status"] == "revision_requested")
    resumed = app.act(APPLICANT, waiting["id"], "resubmit", {"attachments": [attachment("npwp")]})
    assert resumed["status"] == "resubmitted" and resumed["version"] == waiting["version"] + 1
    with pytest.raises(Conflict):  # today's definition asks for the field visit first
        app.act(VERIFIER, waiting["id"], "forward", {})


def test_the_letter_register_continues_after_old_approvals(app: SubmissionsApplication) -> None:
    fixture = load_walking_skeleton_events(app)
    old = next(view for view in fixture["views"].values() if view["status"] == "approved")["letter"]
    case_id = forwarded(app)
    letter = app.act(APPROVER, case_id, "approve", {})["letter"]
    if letter["year"] == old["year"]:
        assert letter["sequence"] == old["sequence"] + 1


def test_a_second_filing_with_the_same_key_but_other_files_is_refused(app: SubmissionsApplication) -> None:
    filing = {"attachments": [attachment()], "request_key": "kernel-key-0001"}
    app.submit_case(APPLICANT, organisation_snapshot(), filing)
    with pytest.raises(InvalidInput):
        app.submit_case(APPLICANT, organisation_snapshot(), {**filing, "attachments": [attachment()]})


def test_a_case_past_its_limit_is_announced_overdue_once(app: SubmissionsApplication) -> None:
    case = submit(app)
    filed_at = dt.datetime.fromisoformat(case["created_at"])
    assert app.announce_overdue([case["id"]], filed_at + dt.timedelta(days=3)) == 0  # well within 15 working days
    later = filed_at + dt.timedelta(days=40)
    assert app.announce_overdue([case["id"], str(uuid.uuid4())], later) == 1  # an unknown id is skipped
    assert app.announce_overdue([case["id"]], later + dt.timedelta(days=1)) == 0  # once only
    mapper = mapper_for(app)
    events = [
        e for n in app.recorder.select_notifications(start=1, limit=10) if (e := mapper(app.mapper.to_domain_event(n)))
    ]
    overdue = events[-1]
    assert overdue.event_type == "case.overdue.v1" and overdue.case().status == "submitted"
    assert overdue.case().action == "sla_overdue" and overdue.case().actor_role == "system"
    history = app.case_history(AUDITOR, case["id"])
    assert history[-1]["type"] == "Case.Overdue" and history[-1]["data"]["days_used"] > 15


def test_a_paused_case_is_not_overdue_while_the_applicant_holds_it(app: SubmissionsApplication) -> None:
    case = submit(app)
    app.act(VERIFIER, case["id"], "request_revision", {"reason": "Akta tidak terbaca"})
    filed_at = dt.datetime.fromisoformat(case["created_at"])
    assert app.announce_overdue([case["id"]], filed_at + dt.timedelta(days=60)) == 0
