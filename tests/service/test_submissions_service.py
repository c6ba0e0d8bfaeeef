"""SubmissionsService as nameko runs it: who may act, what the registry vouches for, what the read
models accept, and the deadlines' sweep."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from nameko.exceptions import RpcTimeout

from contracts.errors import InvalidInput, NotAuthenticated, PermissionDenied
from contracts.identity import Caller, Role, sign_call, system_caller
from contracts.keys import Signer
from ops.sources import EventSource
from services.submissions.filing import letter_snapshot
from services.submissions.publishing import mapper_for
from tests.support.in_process import Cluster
from tests.support.office import enrol, file_case, signed


@pytest.fixture
def case_id(cluster: Cluster, applicant: dict[str, Any]) -> str:
    return str(file_case(cluster, applicant)["id"])


def _take_signed_by(verifier: dict[str, Any], signer: Signer, case_id: str, now: float) -> dict[str, object]:
    caller = Caller(user_id=verifier["id"], role=Role.VERIFIER)
    return sign_call(caller, signer, "submissions", "act", [case_id, "take", {}], {}, now=now)


@pytest.mark.parametrize(
    ("forged_key", "signed_ago", "says"),
    [(True, 0, "signature is invalid"), (False, 3600, "expired")],
    ids=["forged", "expired"],
)
def test_act_refuses_a_forged_or_expired_caller_and_records_nothing(
    cluster, verifier, case_id, forged_key, signed_ago, says
) -> None:
    submissions = cluster["submissions"]
    signer = Signer.generate("gateway") if forged_key else cluster.signer("gateway")
    caller = _take_signed_by(verifier, signer, case_id, time.time() - signed_ago)

    with pytest.raises(NotAuthenticated, match=says):
        submissions.act(caller, case_id, "take", {})

    assert submissions.get_case(signed(cluster, verifier), case_id)["version"] == 1
    assert submissions.act(signed(cluster, verifier), case_id, "take", {})["version"] == 2  # a genuine one may


def test_a_captured_call_replayed_or_moved_to_another_step_is_refused(cluster, verifier, case_id) -> None:
    captured = _take_signed_by(verifier, cluster.signer("gateway"), case_id, time.time())
    submissions = cluster["submissions"]
    assert submissions.act(captured, case_id, "take", {})["version"] == 2

    with pytest.raises(NotAuthenticated, match="used before"):
        submissions.act(captured, case_id, "take", {})
    with pytest.raises(NotAuthenticated, match="another call|other arguments"):
        submissions.act(captured, case_id, "forward", {})
    with pytest.raises(NotAuthenticated, match="another call"):
        submissions.get_case(captured, case_id)
    assert submissions.get_case(signed(cluster, verifier), case_id)["version"] == 2


def test_an_assignee_is_who_the_registry_says_not_what_the_request_claims(cluster, verifier, case_id) -> None:
    colleague = enrol(cluster, "joko@kesbangpol.go.id", role="verifier")
    claimed = {"id": colleague["id"], "role": "admin", "name": "Kepala Badan"}

    case = cluster["submissions"].act(signed(cluster, verifier), case_id, "assign", {"assignee": claimed})

    assert case["assignee"] == {"id": colleague["id"], "role": "verifier", "name": "Akun joko"}
    assert ("registry", "get_account") in [(call.service, call.method) for call in cluster.calls]
    row = cluster["submissions"].work_queue(signed(cluster, verifier))["items"][0]
    assert (row["assignee_id"], row["assignee_name"]) == (colleague["id"], "Akun joko")


def test_taking_a_case_names_the_taker_as_the_registry_knows_them(cluster, verifier, case_id) -> None:
    case = cluster["submissions"].act(signed(cluster, verifier), case_id, "take", {})

    assert case["assignee"] == {"id": verifier["id"], "role": "verifier", "name": "Akun rina"}


def test_an_assignee_the_registry_does_not_know_is_422_naming_the_assignee(cluster, verifier, case_id) -> None:
    unknown = {"assignee": {"id": str(uuid.uuid4())}}

    with pytest.raises(InvalidInput) as refused:
        cluster["submissions"].act(signed(cluster, verifier), case_id, "assign", unknown)

    assert (refused.value.status, refused.value.field) == (422, "assignee.id")
    assert refused.value.message_id  # the Bahasa text travelled with it


def test_an_assignee_id_that_is_no_account_id_at_all_is_422_naming_the_assignee(cluster, verifier, case_id) -> None:
    with pytest.raises(InvalidInput) as refused:
        cluster["submissions"].act(signed(cluster, verifier), case_id, "assign", {"assignee": {"id": "nobody"}})

    assert refused.value.field == "assignee.id"


def test_list_cases_refuses_an_unknown_status_and_filters_by_a_known_one(cluster, verifier, case_id) -> None:
    submissions = cluster["submissions"]

    with pytest.raises(InvalidInput) as refused:
        submissions.list_cases(signed(cluster, verifier), "aproved")

    assert (refused.value.status, refused.value.field) == (422, "status")
    assert [row["case_id"] for row in submissions.list_cases(signed(cluster, verifier), "submitted")["items"]] == [
        case_id
    ]
    assert submissions.list_cases(signed(cluster, verifier), "approved")["items"] == []


def test_an_applicant_lists_only_their_organisations_cases(cluster, applicant, case_id) -> None:
    other = enrol(cluster, "ketua@forum.or.id", organisation="Forum Warga Teritip")
    theirs = file_case(cluster, other)["id"]

    assert [row["case_id"] for row in cluster["submissions"].list_cases(signed(cluster, applicant))["items"]] == [
        case_id
    ]
    assert [row["case_id"] for row in cluster["submissions"].list_cases(signed(cluster, other))["items"]] == [theirs]


def test_the_sweep_refuses_an_applicant(cluster, applicant) -> None:
    with pytest.raises(PermissionDenied):
        cluster["submissions"].send_due_reminders(signed(cluster, applicant), "2027-02-01")


def test_the_sweep_run_by_a_system_caller_records_the_overdue_report_and_the_registry_hears_of_it(
    cluster, applicant
) -> None:
    system = system_caller("cli")  # `satu remind`, signed with the operator commands' key
    submissions = cluster.proxy("submissions", holder="cli")
    organisation_id = applicant["organisation_id"]

    before_due = submissions.send_due_reminders(system, "2027-01-17")  # 14 days before 31 January
    after_due = submissions.send_due_reminders(system, "2027-02-01")
    again = submissions.send_due_reminders(system, "2027-02-01")

    assert (before_due, after_due, again) == (
        {"reminders": 1, "overdue_cases": 0},
        {"reminders": 1, "overdue_cases": 0},
        {"reminders": 0, "overdue_cases": 0},  # each reminder is recorded once
    )
    organisation = cluster.proxy("registry", holder="cli").get_organisation(system, organisation_id)
    assert (organisation["reporting_status"], organisation["missed_reports"]) == ("late", ["2026-S2"])


def test_the_case_list_drops_a_forged_or_altered_event_and_applies_the_genuine_one(
    cluster, settings, applicant, verifier
) -> None:
    application = cluster.application("submissions")
    read_model = cluster.worker("submissions")
    with cluster.events_held():
        case_id = file_case(cluster, applicant)["id"]
        [(_position, event)] = EventSource("submissions", application, mapper_for(application)).integration_events()
        genuine = event.signed(cluster.signer("relay-submissions"))
        altered = genuine.model_dump(mode="json")
        altered["data"]["status"] = "approved"

        for payload in (event.signed(Signer.generate("relay-submissions")).model_dump(mode="json"), altered):
            read_model.project_case_event(payload)

        assert cluster["submissions"].list_cases(signed(cluster, verifier))["items"] == []
        read_model.project_case_event(genuine.model_dump(mode="json"))
        assert [row["status"] for row in cluster["submissions"].list_cases(signed(cluster, verifier))["items"]] == [
            "submitted"
        ]
    assert [row["case_id"] for row in cluster["submissions"].list_cases(signed(cluster, verifier))["items"]] == [
        case_id
    ]


def test_the_relay_publishes_each_event_with_its_position_in_the_log(cluster, applicant, verifier) -> None:
    """The position a consumer compares with the one a rebuild applied its log through (infra/readmodel.py)."""
    case_id = file_case(cluster, applicant)["id"]
    cluster["submissions"].act(signed(cluster, verifier), case_id, "take", {})
    application = cluster.application("submissions")
    stored = EventSource("submissions", application, mapper_for(application)).integration_events()
    expected = [(event.event_id, position) for position, event in stored]
    published = [(m["event_id"], m["position"]) for m in cluster.published if m["aggregate_id"] == case_id]
    assert published == expected and len(published) == 2


def test_a_filing_asks_the_registry_nothing_once_the_organisation_is_known_here(cluster, applicant) -> None:
    """Submissions keeps its own copy of what a filing needs (from the registry's recording event): a
    filing goes through while the registry cannot be reached, and its letter part is the registry's."""
    cluster.fail_in_transport("registry", "get_organisation", RpcTimeout())  # the registry restarting
    case = file_case(cluster, applicant)
    assert case["organisation_name"] == "Perkumpulan Pemuda Manggar"
    snapshot = cluster.application("submissions").repository.get(uuid.UUID(case["id"])).organisation
    registry_view = cluster.application("registry").get_organisation(  # type: ignore[attr-defined]
        Caller(user_id="staff", role=Role.VERIFIER), applicant["organisation_id"]
    )
    assert snapshot == letter_snapshot(registry_view)  # the same letter whichever way it was read
    assert not [call for call in cluster.calls if call.method == "get_organisation"]


def test_an_organisation_whose_recording_has_not_arrived_is_asked_of_the_registry(cluster) -> None:
    with cluster.events_held():  # the recording is still on its way to submissions
        applicant = enrol(cluster, "bendahara@ormas.or.id", organisation="Ikatan Nelayan Manggar")
        case = file_case(cluster, applicant)
    assert case["organisation_name"] == "Ikatan Nelayan Manggar"
    assert [call.service for call in cluster.calls if call.method == "get_organisation"] == ["registry"]
