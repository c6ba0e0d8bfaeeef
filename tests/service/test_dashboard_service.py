"""The managers' dashboard as the submissions service answers it: its figures checked against cases filed
and moved through the real services (filed, sent back, forwarded, approved, past their service level), as
counted by the service's own timer; who may see it."""

from __future__ import annotations

import time
from typing import Any

import pytest

from contracts.dashboard import Dashboard
from contracts.errors import PermissionDenied
from contracts.identity import system_caller
from infra.settings import Settings
from tests.support.in_process import Cluster
from tests.support.office import approve, enrol, file_case, signed
from tests.support.scenario import FIELD_VISIT

# SATU_DASHBOARD_REFRESH_SECONDS here: a tick counts again once the figures are this old. Long enough that a
# second tick "just after" the first is within it on a slow, busy machine (0.2 s was not, under a full run).
INTERVAL = 1.5


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"dashboard_refresh_seconds": INTERVAL})


def _dashboard(cluster: Cluster, account: dict[str, Any]) -> dict[str, Any]:
    answer = cluster["submissions"].dashboard(signed(cluster, account))
    Dashboard.model_validate(answer)  # the shape the gateway declares
    return dict(answer)


def _refresh(cluster: Cluster) -> None:
    """The service's timer's next tick, an interval after the last."""
    time.sleep(INTERVAL)
    _tick(cluster)


def _tick(cluster: Cluster) -> None:
    cluster.worker("submissions").refresh_dashboard()


def _skm(answer: dict[str, Any]) -> dict[str, Any]:
    return next(service for service in answer["services"] if service["service"] == "skm")


def test_the_figures_follow_cases_filed_and_moved_through_the_service(cluster, applicant, verifier) -> None:
    approver = enrol(cluster, "kabid@kesbangpol.go.id", role="approver")
    submissions = cluster["submissions"]
    waiting, sent_back, forwarded, approved = (str(file_case(cluster, applicant)["id"]) for _ in range(4))
    submissions.act(signed(cluster, verifier), sent_back, "request_revision", {"reason": "Akta tidak terbaca"})
    submissions.act(signed(cluster, verifier), forwarded, "record_field_visit", FIELD_VISIT)
    submissions.act(signed(cluster, verifier), forwarded, "forward", {})
    # Long after filing: every case whose clock runs is announced past its 15 working days; the one sent
    # back waits for the applicant (its clock is paused). Then one of the overdue cases is approved.
    cli = cluster.proxy("submissions", holder="cli")
    assert cli.send_due_reminders(system_caller("cli"), "2027-02-01")["overdue_cases"] == 3
    approve(cluster, approved, verifier, approver)

    _refresh(cluster)
    skm = _skm(_dashboard(cluster, verifier))

    assert (skm["label"], skm["cases"], skm["open"]) == ("Surat Keterangan Melapor", 4, 3)
    assert (skm["overdue"], skm["paused"]) == (2, 1)  # the approved one is overdue no more: it is closed
    counted = {row["status"]: (row["label"], row["cases"]) for row in skm["by_status"]}
    assert counted == {
        "submitted": ("Diajukan", 1),
        "revision_requested": ("Perlu perbaikan", 1),
        "resubmitted": ("Diajukan ulang", 0),
        "forwarded": ("Diteruskan ke kepala bidang", 1),
        "on_hold": ("Ditangguhkan untuk evaluasi", 0),
        "approved": ("Disetujui", 1),
        "rejected": ("Ditolak", 0),
    }
    assert skm["queues"] == {"verifier": 1, "approver": 1}
    # The queues hold what the work queues themselves list.
    assert [row["case_id"] for row in submissions.work_queue(signed(cluster, verifier))["items"]] == [waiting]
    assert [row["case_id"] for row in submissions.work_queue(signed(cluster, approver))["items"]] == [forwarded]


def test_the_figures_are_those_of_the_last_count_and_say_when_it_was(cluster, applicant, verifier) -> None:
    before = _dashboard(cluster, verifier)
    assert before["as_of"] is None and _skm(before)["cases"] == 0  # not counted yet
    assert before["refresh_seconds"] == INTERVAL

    _tick(cluster)
    first = _dashboard(cluster, verifier)
    file_case(cluster, applicant)
    still = _dashboard(cluster, verifier)
    _tick(cluster)  # another replica's tick, just after: the figures are fresh enough, it gives way
    fresh = _dashboard(cluster, verifier)
    _refresh(cluster)
    then = _dashboard(cluster, verifier)

    assert first["as_of"] is not None and still == first == fresh  # filed after the count: seen at the next
    assert _skm(then)["cases"] == 1 and then["as_of"] > first["as_of"]
    report = next(service for service in then["services"] if service["service"] == "report")
    assert report["cases"] == 0 and report["label"] and all(row["cases"] == 0 for row in report["by_status"])


@pytest.mark.parametrize("role", ["verifier", "approver", "admin", "auditor"])
def test_every_staff_role_sees_the_dashboard(cluster, role) -> None:
    staff = enrol(cluster, f"{role}@kesbangpol.go.id", role=role)
    assert [service["service"] for service in _dashboard(cluster, staff)["services"]] == ["report", "skm"]


def test_an_applicant_is_refused_the_dashboard(cluster, applicant) -> None:
    with pytest.raises(PermissionDenied, match="may not"):
        cluster["submissions"].dashboard(signed(cluster, applicant))
