"""The SKM case workflow on the submissions application (in-memory store)."""

from __future__ import annotations

import datetime as dt

import pytest
from eventsourcing.persistence import OperationalError

from contracts.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from contracts.identity import Caller, Role
from services.submissions.application import REGISTER_SNAPSHOT_EVERY, SubmissionsApplication
from services.submissions.domain import LetterRegister
from tests.support.factories import attachment, organisation_snapshot
from tests.support.scenario import forward

APPLICANT = Caller(user_id="u-applicant", role=Role.APPLICANT, organisation_id="org-1")
OTHER_APPLICANT = Caller(user_id="u-other", role=Role.APPLICANT, organisation_id="org-2")
VERIFIER = Caller(user_id="u-verifier", role=Role.VERIFIER)
APPROVER = Caller(user_id="u-approver", role=Role.APPROVER)
AUDITOR = Caller(user_id="u-auditor", role=Role.AUDITOR)


@pytest.fixture
def app() -> SubmissionsApplication:
    return SubmissionsApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def submit(app: SubmissionsApplication) -> dict:
    return app.submit_case(APPLICANT, organisation_snapshot(), {"attachments": [attachment()]})


def test_full_path_with_a_revision_ends_approved_with_a_numbered_letter(app: SubmissionsApplication) -> None:
    case = submit(app)
    assert case["status"] == "submitted" and case["reference"].startswith(f"SKM-{dt.date.today().year}-")
    app.act(VERIFIER, case["id"], "request_revision", {"reason": "Akta notaris tidak terbaca"})
    corrected = attachment("deed")
    app.act(APPLICANT, case["id"], "resubmit", {"attachments": [corrected]})
    forward(app, case["id"], {"note": "Lengkap"})
    approved = app.act(APPROVER, case["id"], "approve", {})
    assert approved["status"] == "approved"
    assert approved["letter"]["number"] == f"SKM/0001/KESBANGPOL/{approved['letter']['year']}"
    assert len(approved["letter"]["verification_code"]) == 32
    assert corrected in approved["attachments"]


def test_register_numbers_are_consecutive_across_cases(app: SubmissionsApplication) -> None:
    numbers = []
    for _ in range(3):
        case = submit(app)
        forward(app, case["id"], {})
        numbers.append(app.act(APPROVER, case["id"], "approve", {})["letter"]["sequence"])
    assert numbers == [1, 2, 3]


def test_an_approval_stands_when_the_registers_snapshot_cannot_be_written(
    app: SubmissionsApplication, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The snapshot is written after the approval's own save: the database going away between the two
    # must not report a recorded approval as failed, nor disturb the numbers after it.
    assert app.snapshots is not None

    def unavailable(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    register = LetterRegister.open("SKM", app.today().year)
    for index in range(REGISTER_SNAPSHOT_EVERY - 2):  # the next approval records a snapshot version
        register.take_next(f"issued-earlier-{index}")
    app.save(register)
    case = submit(app)
    forward(app, case["id"], {})
    monkeypatch.setattr(app.snapshots, "put", unavailable)
    approved = app.act(APPROVER, case["id"], "approve", {})
    assert approved["status"] == "approved" and approved["letter"]["sequence"] == REGISTER_SNAPSHOT_EVERY - 1
    assert "snapshot of register" in caplog.text
    monkeypatch.undo()
    later = submit(app)
    forward(app, later["id"], {})
    assert app.act(APPROVER, later["id"], "approve", {})["letter"]["sequence"] == REGISTER_SNAPSHOT_EVERY


def test_a_rejected_case_takes_no_number(app: SubmissionsApplication) -> None:
    first = submit(app)
    forward(app, first["id"], {})
    rejected = app.act(APPROVER, first["id"], "reject", {"reason": "Domisili tidak sesuai"})
    assert rejected["status"] == "rejected" and rejected["letter"] is None
    second = submit(app)
    forward(app, second["id"], {})
    assert app.act(APPROVER, second["id"], "approve", {})["letter"]["sequence"] == 1


@pytest.mark.parametrize(
    ("action", "caller", "payload"),
    [
        ("approve", APPROVER, {}),  # not yet forwarded
        ("resubmit", APPLICANT, {"attachments": [attachment()]}),  # no revision was requested
        ("reject", APPROVER, {"reason": "tidak lengkap"}),
    ],
)
def test_actions_in_the_wrong_state_are_refused_and_change_nothing(
    app: SubmissionsApplication, action: str, caller: Caller, payload: dict
) -> None:
    case = submit(app)
    with pytest.raises(Conflict) as refused:
        app.act(caller, case["id"], action, payload)
    assert refused.value.field == "status"
    assert app.get_case(AUDITOR, case["id"])["version"] == 1


@pytest.mark.parametrize(
    ("action", "caller"),
    [("forward", APPLICANT), ("approve", VERIFIER), ("request_revision", APPROVER), ("approve", AUDITOR)],
)
def test_roles_are_checked_by_the_application(app: SubmissionsApplication, action: str, caller: Caller) -> None:
    case = submit(app)
    with pytest.raises(PermissionDenied):
        app.act(caller, case["id"], action, {"reason": "alasan"})


def test_an_applicant_cannot_file_for_or_see_another_organisation(app: SubmissionsApplication) -> None:
    with pytest.raises(PermissionDenied):
        app.submit_case(OTHER_APPLICANT, organisation_snapshot("org-1"), {"attachments": [attachment()]})
    case = submit(app)
    with pytest.raises(NotFound):
        app.get_case(OTHER_APPLICANT, case["id"])
    with pytest.raises(NotFound):
        app.case_history(OTHER_APPLICANT, case["id"])


def test_revision_needs_a_reason_and_names_the_field(app: SubmissionsApplication) -> None:
    case = submit(app)
    with pytest.raises(InvalidInput) as refused:
        app.act(VERIFIER, case["id"], "request_revision", {"reason": ""})
    assert refused.value.field == "reason"


def test_the_id_of_something_that_is_not_a_case_is_not_found(app: SubmissionsApplication) -> None:
    case = submit(app)
    forward(app, case["id"], {})
    app.act(APPROVER, case["id"], "approve", {})
    register_id = str(LetterRegister.create_id("SKM", dt.date.today().year))
    with pytest.raises(NotFound):
        app.case_history(AUDITOR, register_id)


def test_unknown_or_malformed_case_ids(app: SubmissionsApplication) -> None:
    with pytest.raises(NotFound):
        app.get_case(AUDITOR, "8f0c2a4e-0000-4000-8000-000000000000")
    with pytest.raises(InvalidInput) as refused:
        app.get_case(AUDITOR, "not-a-uuid")
    assert refused.value.field == "case_id"


def test_history_names_actor_time_and_reason_of_every_step(app: SubmissionsApplication) -> None:
    case = submit(app)
    app.act(VERIFIER, case["id"], "request_revision", {"reason": "NPWP kedaluwarsa"})
    history = app.case_history(AUDITOR, case["id"])
    assert [step["type"] for step in history] == ["Case.Opened", "Case.Moved"]
    assert history[1]["data"]["action"] == "request_revision" and history[1]["data"]["state"] == "revision_requested"
    assert history[1]["actor"] == {"id": "u-verifier", "role": "verifier"}
    assert history[1]["data"]["reason"] == "NPWP kedaluwarsa"
    assert dt.datetime.fromisoformat(history[1]["at"]) >= dt.datetime.fromisoformat(history[0]["at"])


def test_state_at_a_past_version_and_time(app: SubmissionsApplication) -> None:
    case = submit(app)
    app.act(VERIFIER, case["id"], "request_revision", {"reason": "Foto kantor buram"})
    app.act(APPLICANT, case["id"], "resubmit", {"attachments": [attachment()]})
    assert app.case_state(AUDITOR, case["id"], version=2)["status"] == "revision_requested"
    first_at = dt.datetime.fromisoformat(app.case_history(AUDITOR, case["id"])[0]["at"])
    assert app.case_state(AUDITOR, case["id"], at=first_at)["status"] == "submitted"
    with pytest.raises(InvalidInput) as refused:
        app.case_state(AUDITOR, case["id"], version=9)
    assert refused.value.field == "version"
    with pytest.raises(InvalidInput):
        app.case_state(AUDITOR, case["id"], at=first_at - dt.timedelta(days=1))


def test_a_retried_filing_with_the_same_key_returns_the_first_case(app: SubmissionsApplication) -> None:
    payload = {"attachments": [attachment()], "request_key": "retry-key-0001"}
    first = app.submit_case(APPLICANT, organisation_snapshot(), payload)
    again = app.submit_case(APPLICANT, organisation_snapshot(), payload)
    assert again["id"] == first["id"] and again["version"] == 1
    other = app.submit_case(APPLICANT, organisation_snapshot(), {**payload, "request_key": "retry-key-0002"})
    assert other["id"] != first["id"]
    assert submit(app)["id"] != submit(app)["id"]  # without a key every filing is a new case


def test_a_replaced_file_stays_listed_as_superseded(app: SubmissionsApplication) -> None:
    original, corrected = attachment("deed"), attachment("deed")
    case = app.submit_case(APPLICANT, organisation_snapshot(), {"attachments": [attachment(), original]})
    app.act(VERIFIER, case["id"], "request_revision", {"reason": "Akta buram"})
    after = app.act(APPLICANT, case["id"], "resubmit", {"attachments": [corrected]})
    assert corrected in after["attachments"] and original not in after["attachments"]
    assert after["superseded_attachments"] == [original]


@pytest.mark.parametrize("reason", ["", "   ", "\t\n ", " a "])
def test_a_blank_reason_is_no_reason_and_changes_nothing(app: SubmissionsApplication, reason: str) -> None:
    case = submit(app)
    with pytest.raises(InvalidInput) as revision:
        app.act(VERIFIER, case["id"], "request_revision", {"reason": reason})
    forward(app, case["id"], {})
    with pytest.raises(InvalidInput) as rejection:
        app.act(APPROVER, case["id"], "reject", {"reason": reason})
    assert revision.value.field == rejection.value.field == "reason"
    assert app.get_case(AUDITOR, case["id"])["status"] == "forwarded"
    assert app.get_case(AUDITOR, case["id"])["version"] == 3  # filed, field visit, forwarded


def test_a_reason_is_kept_without_surrounding_whitespace(app: SubmissionsApplication) -> None:
    case = submit(app)
    revised = app.act(VERIFIER, case["id"], "request_revision", {"reason": "  Akta tidak terbaca \n"})
    assert revised["last_reason"] == "Akta tidak terbaca"


def test_the_revision_note_is_not_current_once_the_case_moves_on(app: SubmissionsApplication) -> None:
    case = submit(app)
    assert app.act(VERIFIER, case["id"], "request_revision", {"reason": "Akta tidak terbaca"})["last_reason"]
    assert app.act(APPLICANT, case["id"], "resubmit", {"attachments": [attachment("deed")]})["last_reason"] is None
    app.act(VERIFIER, case["id"], "request_revision", {"reason": "NPWP belum ada"})
    app.act(APPLICANT, case["id"], "resubmit", {"attachments": [attachment("npwp")]})
    forward(app, case["id"], {})
    approved = app.act(APPROVER, case["id"], "approve", {})
    assert approved["status"] == "approved" and approved["last_reason"] is None
    # The reasons stay in the audit history.
    reasons = [event["data"].get("reason") for event in app.case_history(AUDITOR, case["id"])]
    assert "Akta tidak terbaca" in reasons and "NPWP belum ada" in reasons


def test_a_rejected_case_shows_the_rejection_reason(app: SubmissionsApplication) -> None:
    case = submit(app)
    app.act(VERIFIER, case["id"], "request_revision", {"reason": "Akta tidak terbaca"})
    app.act(APPLICANT, case["id"], "resubmit", {"attachments": [attachment("deed")]})
    forward(app, case["id"], {})
    assert (
        app.act(APPROVER, case["id"], "reject", {"reason": "Domisili tidak sesuai"})["last_reason"]
        == "Domisili tidak sesuai"
    )


def test_an_idempotency_key_names_one_filing_only(app: SubmissionsApplication) -> None:
    filing = {"attachments": [attachment()], "note": "Mohon diproses", "request_key": "retry-key-0001"}
    first = app.submit_case(APPLICANT, organisation_snapshot(), filing)
    assert app.submit_case(APPLICANT, organisation_snapshot(), dict(filing))["id"] == first["id"]
    with pytest.raises(InvalidInput) as refused:
        app.submit_case(APPLICANT, organisation_snapshot(), {**filing, "attachments": [attachment("deed")]})
    assert refused.value.field == "Idempotency-Key"
    with pytest.raises(InvalidInput):
        app.submit_case(APPLICANT, organisation_snapshot(), {**filing, "note": "Catatan lain"})
    assert app.get_case(AUDITOR, first["id"])["version"] == 1
