"""RegistryService as nameko runs it: the staff directory, and the reporting status moved by the
submissions service's events (a message that can never succeed is dropped, not requeued forever)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import pytest

from contracts.errors import InvalidInput, NotAuthenticated, PermissionDenied
from contracts.events import IntegrationEvent
from contracts.identity import Caller, Role, system_caller
from contracts.keys import Signer
from tests.support.in_process import Cluster
from tests.support.office import enrol, signed


@pytest.fixture
def auditor(cluster: Cluster) -> dict[str, Any]:
    return enrol(cluster, "auditor@inspektorat.go.id", role="auditor")


def _message(cluster: Cluster, event_type: str, data: dict[str, Any], signer: Signer | None = None) -> dict[str, Any]:
    """A submissions event as the broker delivers it, signed as the relay signs it."""
    event = IntegrationEvent(
        event_id=str(uuid.uuid4()),
        event_type=event_type,
        source="submissions",
        aggregate_id=str(data.get("case_id") or data.get("obligation_id")),
        aggregate_version=1,
        occurred_at=dt.datetime.now(dt.UTC),
        data=data,
    )
    return event.signed(signer or cluster.signer("relay-submissions")).model_dump(mode="json")


def _overdue(cluster: Cluster, organisation_id: str, period: str, signer: Signer | None = None) -> dict[str, Any]:
    data = {
        "obligation_id": str(uuid.uuid4()), "organisation_id": organisation_id, "organisation_name": "Ormas",
        "workflow": "report", "period": period, "period_label": period, "due_on": "2027-01-31", "offset_days": 1,
    }  # fmt: skip
    return _message(cluster, "report.overdue.v1", data, signer)


def _accepted(cluster: Cluster, organisation_id: str, period: str) -> dict[str, Any]:
    data = {
        "case_id": str(uuid.uuid4()), "reference": "LAP-2027-0001", "service": "report",
        "organisation_id": organisation_id, "organisation_name": "Ormas", "status": "accepted",
        "actor_id": "u-verifier", "actor_role": "verifier", "subject": period,
    }  # fmt: skip
    return _message(cluster, "case.accepted.v1", data)


def _status(cluster: Cluster, organisation_id: str) -> tuple[str, list[str]]:
    organisation = cluster.proxy("registry", holder="cli").get_organisation(system_caller("cli"), organisation_id)
    return organisation["reporting_status"], organisation["missed_reports"]


def _directory_page(
    cluster: Cluster, staff: dict[str, Any], status: str | None = None, cursor: str | None = None, limit=100
) -> dict[str, Any]:
    return cluster["registry"].list_organisations(signed(cluster, staff), status, cursor, limit)


def _directory(cluster: Cluster, staff: dict[str, Any], status: str | None = None) -> list[dict[str, Any]]:
    return _directory_page(cluster, staff, status)["items"]


def test_only_staff_list_organisations(cluster, applicant, auditor) -> None:
    with pytest.raises(PermissionDenied):
        _directory(cluster, applicant)

    assert [row["organisation_id"] for row in _directory(cluster, auditor)] == [applicant["organisation_id"]]


def test_the_directory_is_keyset_paged_by_id(cluster, auditor) -> None:
    recorded = sorted(
        enrol(cluster, f"sekretaris{n}@ormas.or.id", organisation=f"Ormas Nomor {n}")["organisation_id"]
        for n in range(5)
    )

    first = _directory_page(cluster, auditor, limit=2)
    second = _directory_page(cluster, auditor, cursor=first["next_cursor"], limit=2)
    last = _directory_page(cluster, auditor, cursor=second["next_cursor"], limit=2)

    pages = [[row["organisation_id"] for row in page["items"]] for page in (first, second, last)]
    assert pages == [recorded[:2], recorded[2:4], recorded[4:]]
    assert last["next_cursor"] is None


def test_a_directory_cursor_that_was_not_made_by_the_registry_is_422_naming_it(cluster, auditor) -> None:
    with pytest.raises(InvalidInput) as refused:
        _directory_page(cluster, auditor, cursor="bm90LWEtY3Vyc29y")

    assert (refused.value.status, refused.value.field) == (422, "cursor")


def test_an_unknown_reporting_status_is_422_naming_it(cluster, auditor) -> None:
    with pytest.raises(InvalidInput) as refused:
        _directory(cluster, auditor, "inaktif")

    assert (refused.value.status, refused.value.field) == (422, "reporting_status")


def test_overdue_reports_make_an_organisation_late_then_inactive_and_accepted_ones_bring_it_back(
    cluster, applicant, auditor
) -> None:
    registry = cluster.worker("registry")
    organisation_id = applicant["organisation_id"]

    registry.on_report_overdue(_overdue(cluster, organisation_id, "2026-S1"))
    assert _status(cluster, organisation_id) == ("late", ["2026-S1"])
    registry.on_report_overdue(_overdue(cluster, organisation_id, "2026-S2"))
    assert _status(cluster, organisation_id) == ("inactive", ["2026-S1", "2026-S2"])
    cluster.relay()  # the directory follows the registry's own events
    assert [row["organisation_id"] for row in _directory(cluster, auditor, "inactive")] == [organisation_id]

    registry.on_report_accepted(_accepted(cluster, organisation_id, "2026-S2"))
    assert _status(cluster, organisation_id) == ("late", ["2026-S1"])
    registry.on_report_accepted(_accepted(cluster, organisation_id, "2026-S1"))
    assert _status(cluster, organisation_id) == ("up_to_date", [])


def test_a_forged_overdue_event_changes_nothing(cluster, applicant) -> None:
    cluster.worker("registry").on_report_overdue(
        _overdue(cluster, applicant["organisation_id"], "2026-S1", Signer.generate("relay-submissions"))
    )

    assert _status(cluster, applicant["organisation_id"]) == ("up_to_date", [])


@pytest.mark.parametrize(
    ("organisation_id", "period"),
    [(str(uuid.uuid4()), "2026-S1"), ("not-an-id", "2026-S1"), (None, "2026-S9")],
    ids=["unknown organisation", "malformed organisation id", "period of no calendar"],
)
def test_an_event_that_can_never_succeed_is_dropped_not_raised(
    cluster, applicant, caplog, organisation_id, period
) -> None:
    organisation_id = organisation_id or applicant["organisation_id"]
    registry = cluster.worker("registry")

    with caplog.at_level(logging.ERROR):
        registry.on_report_overdue(_overdue(cluster, organisation_id, period))  # returns: the message is acked
        registry.on_report_accepted(_accepted(cluster, organisation_id, period))

    assert caplog.text.count("dropped") == 2
    assert _status(cluster, applicant["organisation_id"]) == ("up_to_date", [])


def test_no_service_creates_staff_accounts_in_the_systems_name(cluster) -> None:
    # A service may call the registry as itself, but only a signed-in admin creates staff (the first one
    # comes from the operator's bootstrap path, ops/seed.py); a captured or misused system caller cannot.
    details = {"email": "baru@kesbangpol.go.id", "password": "kata-sandi-panjang", "full_name": "Baru", "role": "admin"}
    with pytest.raises(PermissionDenied, match="allowed: admin"):
        cluster.proxy("registry", holder="submissions").register_staff(system_caller("submissions"), details)
    with pytest.raises(NotAuthenticated, match="may not act as admin"):
        cluster.proxy("registry", holder="submissions").register_staff(Caller(user_id="u", role=Role.ADMIN), details)


def test_a_command_id_not_in_the_idempotency_key_form_is_refused_naming_it(cluster: Cluster) -> None:
    details = {"email": "baru@ormas.or.id", "password": "rahasia-sekali-123", "full_name": "Rina"}
    with pytest.raises(InvalidInput) as refused:
        cluster["registry"].register_applicant(details, command_id="no spaces allowed!")
    assert refused.value.field == "Idempotency-Key"
    with pytest.raises(InvalidInput):  # and nothing was recorded: the same address signs up afresh
        cluster["registry"].register_applicant(details, command_id="x")
    assert cluster["registry"].register_applicant(details, command_id="cmd-first-sign-up")["email"] == details["email"]
