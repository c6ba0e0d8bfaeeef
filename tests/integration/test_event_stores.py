"""The event-sourced applications on real storage: SQLite files and PostgreSQL (each test runs on both)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from contracts.identity import Caller, Role
from infra.settings import Settings
from infra.storage import event_store_env
from services.registry.application import RegistryApplication
from services.submissions.application import REGISTER_SNAPSHOT_EVERY, build_application
from services.submissions.domain import LetterRegister
from tests.support.factories import organisation_payload
from tests.support.scenario import APPROVER, approved_case, forward, submit


def test_a_case_survives_reopening_the_store(settings: Settings) -> None:
    app = build_application(event_store_env(settings, "submissions"), settings)
    case = approved_case(app)
    app.close()
    reopened = build_application(event_store_env(settings, "submissions"), settings)
    again = reopened.get_case(APPROVER, case["id"])
    assert again["status"] == "approved" and again["letter"] == case["letter"]
    history = reopened.case_history(APPROVER, case["id"])
    assert [step["data"].get("action") for step in history] == [
        None, "request_revision", "resubmit", "record_field_visit", "forward", "approve",
    ]  # fmt: skip
    reopened.close()


def test_concurrent_approvals_take_gap_free_unique_numbers(settings: Settings) -> None:
    app = build_application(event_store_env(settings, "submissions"), settings)
    cases = [submit(app) for _ in range(12)]
    for case in cases:
        forward(app, case["id"])
    with ThreadPoolExecutor(max_workers=4) as pool:
        approved = list(pool.map(lambda case: app.act(APPROVER, case["id"], "approve", {}), cases))
    sequences = sorted(case["letter"]["sequence"] for case in approved)
    assert sequences == list(range(1, 13))
    assert len({case["letter"]["number"] for case in approved}) == 12
    app.close()


def test_a_register_of_many_letters_numbers_on_gap_free_after_a_restart(settings: Settings) -> None:
    # A year's register is read from its latest snapshot and the events after it: after a restart,
    # twelve approvals at once still take exactly the numbers that follow the last one issued.
    app = build_application(event_store_env(settings, "submissions"), settings)
    register = LetterRegister.open("SKM", app.today().year)
    for index in range(1_000):  # a busy year's letters, recorded in bulk
        register.take_next(f"issued-earlier-{index}")
    app.save(register)
    app.close()

    reopened = build_application(event_store_env(settings, "submissions"), settings)
    assert reopened.snapshots is not None
    latest = next(reopened.snapshots.get(register.id, desc=True, limit=1))
    assert latest.originator_version == 1_000 - 1_000 % REGISTER_SNAPSHOT_EVERY  # register version = numbers + 1
    cases = [submit(reopened) for _ in range(12)]
    for case in cases:
        forward(reopened, case["id"])
    with ThreadPoolExecutor(max_workers=4) as pool:
        approved = list(pool.map(lambda case: reopened.act(APPROVER, case["id"], "approve", {}), cases))
    assert sorted(case["letter"]["sequence"] for case in approved) == list(range(1_001, 1_013))
    year = reopened.today().year
    assert {case["letter"]["number"] for case in approved} == {
        f"SKM/{n:04d}/KESBANGPOL/{year}" for n in range(1_001, 1_013)
    }
    # Every number stays an event of the register, in order: the audit trail is the events, not the snapshots.
    taken = [event.sequence for event in reopened.repository.event_store.get(register.id) if hasattr(event, "sequence")]
    assert taken == list(range(1, 1_013))
    reopened.close()


def test_registry_accounts_and_organisations_persist(settings: Settings) -> None:
    app = RegistryApplication(env=event_store_env(settings, "registry"))
    account = app.register_applicant({"email": "s@ormas.or.id", "password": "rahasia-123456", "full_name": "Siti"})
    app.confirm_directly(account["id"])
    caller = Caller(user_id=account["id"], role=Role.APPLICANT)
    organisation = app.record_organisation(caller, organisation_payload())
    app.close()
    reopened = RegistryApplication(env=event_store_env(settings, "registry"))
    assert (
        reopened.authenticate({"email": "s@ormas.or.id", "password": "rahasia-123456"})["organisation_id"]
        == (organisation["id"])
    )
    reopened.close()
