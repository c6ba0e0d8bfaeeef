"""The managers' dashboard: what the office has on its desk, per service, counted every minute or so."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from contracts.dashboard import Dashboard
from gateway.auth import CurrentCaller
from gateway.deps import Rpc
from gateway.openapi import refusals

router = APIRouter(prefix="/api", tags=["dashboard"])


@router.get(
    "/dashboard",
    response_model=Dashboard,
    responses=refusals(forbidden="only staff (verifier, approver, admin, auditor) see the dashboard"),
)
def dashboard(caller: CurrentCaller, rpc: Rpc) -> dict[str, Any]:
    """Per service: its cases by status (in the workflow definition's words), how many are open, overdue
    (past the service level) and paused (waiting for the applicant), and how many wait in each staff role's
    work queue. The figures are counted again every SATU_DASHBOARD_REFRESH_SECONDS; `as_of` says when.

    Example: `GET /api/dashboard` -> `{"as_of": "2026-11-29T07:00:00+00:00", "refresh_seconds": 60.0,
    "services": [{"service": "skm", "label": "Surat Keterangan Melapor", "cases": 12, "open": 9,
    "overdue": 1, "paused": 2, "by_status": [{"status": "submitted", "label": "Diajukan", "cases": 4}, ...],
    "queues": {"verifier": 5, "approver": 2}}, ...]}`
    """
    return rpc.service("submissions").dashboard(caller)
