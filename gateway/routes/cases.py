"""Cases: filing, lists, work queue, and reading a case (current state, timeline, audit history)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from contracts.cases import CaseStatus, CaseSubmission
from contracts.paging import DEFAULT_PAGE
from contracts.views import CasePage, CaseView, HistoryRecord, ReportDue, TimelineStep
from gateway.attachments import CaseRequest, attached, resolve
from gateway.auth import CurrentCaller
from gateway.commands import CommandId
from gateway.deps import Rpc, Uploads
from gateway.openapi import refusals
from gateway.routes import CaseId, PageCursor, PageLimit

router = APIRouter(prefix="/api", tags=["cases"])


@router.post(
    "/cases",
    response_model=CaseView,
    status_code=201,
    responses=refusals(forbidden="only applicants file cases", conflict="record the organisation before filing"),
)
def submit_case(
    payload: CaseRequest,
    caller: CurrentCaller,
    rpc: Rpc,
    store: Uploads,
    command: CommandId,
) -> dict[str, Any]:
    """File a case for the caller's organisation, with files uploaded before (POST /api/files).

    Example: `{"service": "skm", "attachments": [{"file_id": "3f2a...", "kind": "cover_letter"},
    {"file_id": "9b7c...", "kind": "deed"}], "note": "Mohon diproses"}`; a half-yearly report opens as a
    draft: `{"service": "report", "form": {"period": "2026-S1", "no_activity": true,
    "signed_by_chair": "Budi Santoso", "signed_by_secretary": "Siti Aminah"}}` (one per organisation and
    period: a second is 409, the same filing again returns the first).
    """
    submission = CaseSubmission(
        service=payload.service,
        attachments=resolve(payload.attachments, store, caller),
        note=payload.note,
        form=payload.form,
        request_key=command,
    )
    case = rpc.service("submissions").submit_case(caller, submission.model_dump(mode="json"))
    attached(store, caller, submission.attachments)
    return case


@router.get("/cases", response_model=CasePage)
def list_cases(
    caller: CurrentCaller,
    rpc: Rpc,
    status: Annotated[CaseStatus | None, Query(description="only cases in this status")] = None,
    cursor: PageCursor = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> dict[str, Any]:
    """Cases the caller may see (an applicant: their organisation's), newest first, a page at a time.

    Example: `GET /api/cases?status=submitted&limit=50` -> `{"items": [{"case_id": "...", "reference":
    "SKM-2026-9F3A21C0", ...}], "next_cursor": "WyIyMDI2LTAz..."}`; the next page:
    `GET /api/cases?status=submitted&limit=50&cursor=WyIyMDI2LTAz...`, until `next_cursor` is null.
    """
    return rpc.service("submissions").list_cases(caller, status, cursor, limit)


@router.get(
    "/reports/due",
    response_model=list[ReportDue],
    responses=refusals(forbidden="only an organisation's board has reports", conflict="record the organisation first"),
)
def reports_due(caller: CurrentCaller, rpc: Rpc) -> list[dict[str, Any]]:
    """The caller's organisation's half-yearly reports: every period it owes one for, the due date, and
    the state of its report ("not_filed" when none was started); overdue ones are marked.

    Example: `GET /api/reports/due` -> `[{"period": "2026-S2", "label": "Semester II (Juli–Desember) 2026",
    "due_on": "2027-01-31", "case_id": null, "status": "not_filed", "status_label": "Belum dibuat",
    "overdue": false}]`
    """
    return rpc.service("submissions").reports_due(caller)


@router.get(
    "/queue",
    response_model=CasePage,
    responses=refusals(forbidden="only verifiers and approvers have a work queue"),
)
def work_queue(
    caller: CurrentCaller, rpc: Rpc, cursor: PageCursor = None, limit: PageLimit = DEFAULT_PAGE
) -> dict[str, Any]:
    """Cases waiting for the caller's role (verifier or approver), the longest waiting first, a page at a time.

    Example: `GET /api/queue` -> `{"items": [{"case_id": "...", "status": "submitted", ...}], "next_cursor": null}`
    """
    return rpc.service("submissions").work_queue(caller, cursor, limit)


@router.get("/cases/{case_id}", response_model=CaseView)
def get_case(case_id: CaseId, caller: CurrentCaller, rpc: Rpc) -> dict[str, Any]:
    """The current state of a case.

    Example: `GET /api/cases/0b9e...` -> `{"id": "0b9e...", "status": "submitted", "attachments": [...], ...}`
    """
    return rpc.service("submissions").get_case(caller, case_id)


@router.get("/cases/{case_id}/timeline", response_model=list[TimelineStep])
def case_timeline(case_id: CaseId, caller: CurrentCaller, rpc: Rpc) -> list[dict[str, Any]]:
    """The status changes of a case, oldest first.

    Example: `GET /api/cases/0b9e.../timeline`
    -> `[{"status": "submitted", "at": "2026-03-02T09:15:00+08:00"}, ...]`
    """
    return rpc.service("submissions").case_timeline(caller, case_id)


@router.get("/cases/{case_id}/history", response_model=list[HistoryRecord])
def case_history(case_id: CaseId, caller: CurrentCaller, rpc: Rpc) -> list[dict[str, Any]]:
    """Audit trail: every stored event of the case (version, type, at, actor, data).

    Example: `GET /api/cases/0b9e.../history` -> `[{"version": 1, "type": "Submitted",
    "at": "...", "actor": {"user_id": "...", "role": "applicant"}, "data": {...}}, ...]`
    """
    return rpc.service("submissions").case_history(caller, case_id)


@router.get("/cases/{case_id}/state", response_model=CaseView)
def case_state(
    case_id: CaseId,
    caller: CurrentCaller,
    rpc: Rpc,
    version: Annotated[int | None, Query(ge=1, description="event version to replay up to")] = None,
    at: Annotated[dt.datetime | None, Query(description="ISO 8601 moment to replay up to")] = None,
) -> dict[str, Any]:
    """The case as it was at an earlier version or moment.

    Example: `GET /api/cases/0b9e.../state?version=2` or `?at=2026-03-02T10:00:00+08:00`
    -> `{"id": "0b9e...", "status": "revision_requested", "version": 2, ...}`
    """
    return rpc.service("submissions").case_state(caller, case_id, version, at.isoformat() if at else None)
