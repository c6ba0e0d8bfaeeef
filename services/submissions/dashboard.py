"""The managers' dashboard: the counted cases (case_counts.py) put in the words of the region's workflow
definitions, and the submissions service's two entrypoints for it (mixed into SubmissionsService)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from contracts.errors import EXPECTED_ERRORS
from contracts.identity import STAFF_ROLES, Role
from contracts.workflow import Workflow
from infra.broker_outage import rpc
from infra.catalogue import Catalogue
from infra.nameko_support import IdentityTools
from infra.settings import Settings
from infra.timers import timer_every
from services.submissions.application import SubmissionsApplication
from services.submissions.case_counts import CaseCounts, Count, Counted
from services.submissions.dependencies import CaseCountsStore
from services.submissions.readmodels import queue_states

# Figures this much of an interval old are not counted again by another replica's tick.
FRESH_ENOUGH = 0.9


def figures(catalogue: Catalogue, counted: Counted, refresh_seconds: float) -> dict[str, Any]:
    """Per service of the catalogue: its cases by status (every state of its definition, in that order,
    then any other status its cases hold), open, overdue, paused, and waiting in each role's queue."""
    by_service: dict[str, dict[str, Count]] = defaultdict(dict)
    for count in counted.counts:
        by_service[count.service][count.status] = count
    roles = [role for role in Role if queue_states(catalogue, role)]
    return {
        "as_of": counted.as_of.isoformat() if counted.as_of else None,
        "refresh_seconds": refresh_seconds,
        "services": [
            _service(catalogue, workflow, by_service[key], roles) for key, workflow in catalogue.workflows.items()
        ],
    }


def _service(catalogue: Catalogue, workflow: Workflow, counts: dict[str, Count], roles: list[Role]) -> dict[str, Any]:
    statuses = [*workflow.states, *sorted(set(counts) - set(workflow.states))]
    still_open = [count for status, count in counts.items() if not _final(workflow, status)]
    return {
        "service": workflow.key,
        "label": workflow.label,
        "cases": sum(count.cases for count in counts.values()),
        "open": sum(count.cases for count in still_open),
        "overdue": sum(count.overdue for count in still_open),
        "paused": sum(count.paused for count in counts.values()),
        "by_status": [
            {"status": status, "label": _label(workflow, status), "cases": _cases(counts, status)}
            for status in statuses
        ],
        "queues": {role.value: _waiting(catalogue, workflow, counts, role) for role in roles},
    }


def _waiting(catalogue: Catalogue, workflow: Workflow, counts: dict[str, Count], role: Role) -> int:
    """The service's cases in ``role``'s work queue: the same states the queue itself reads (readmodels.py)."""
    return sum(_cases(counts, state) for service, state in queue_states(catalogue, role) if service == workflow.key)


def _cases(counts: dict[str, Count], status: str) -> int:
    count = counts.get(status)
    return count.cases if count else 0


def _final(workflow: Workflow, status: str) -> bool:
    state = workflow.states.get(status)
    return state is not None and state.final


def _label(workflow: Workflow, status: str) -> str:
    """The state's words as the case pages show them (the status itself for one the definition lacks)."""
    state = workflow.states.get(status)
    return state.label if state else status


class DashboardEntrypoints:
    """SubmissionsService's dashboard: the figures for staff, and the timer that counts them again."""

    app: SubmissionsApplication
    identity: IdentityTools
    settings: Settings
    case_counts: CaseCounts = CaseCountsStore()

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def dashboard(self, caller: dict[str, Any]) -> dict[str, Any]:
        """Staff: per service, its cases by status, open, overdue, paused and waiting in each role's queue, as
        counted at ``as_of``. Example: dashboard(caller) -> {"as_of": "2026-11-29T07:00:00+00:00",
        "refresh_seconds": 60.0, "services": [{"service": "skm", "label": "Surat Keterangan Melapor",
        "cases": 12, "open": 9, "overdue": 1, "paused": 2, "by_status": [{"status": "submitted",
        "label": "Diajukan", "cases": 4}, ...], "queues": {"verifier": 5, "approver": 2}}]}"""
        self.identity.verify(caller).require(*STAFF_ROLES)
        return figures(self.app.catalogue, self.case_counts.read(), self.settings.dashboard_refresh_seconds)

    @timer_every("dashboard_refresh_seconds")
    def refresh_dashboard(self) -> None:
        """Every replica's timer ticks; one that finds the figures counted most of an interval ago or less, or
        being counted, gives way (case_counts.py)."""
        self.case_counts.refresh(younger_than=FRESH_ENOUGH * self.settings.dashboard_refresh_seconds)
