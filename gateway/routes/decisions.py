"""Steps of the case workflow: revision, resubmission, forwarding, approval, rejection.

Who may take which step, and when, is decided by the submissions service.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel

from contracts.cases import Noted, Reasoned, Resubmission
from contracts.views import CaseView
from gateway.attachments import ResubmissionRequest, attached, resolve
from gateway.auth import CurrentCaller
from gateway.commands import CommandId
from gateway.deps import Rpc, Uploads
from gateway.openapi import refusals
from gateway.routes import CaseId

router = APIRouter(
    prefix="/api/cases/{case_id}",
    tags=["case workflow"],
    responses=refusals(
        forbidden="the caller's role may not take this step",
        conflict="the case's state does not allow this step",
    ),
)

OptionalNote = Annotated[Noted | None, Body()]


def with_command(payload: BaseModel, command: str) -> dict[str, Any]:
    return {**payload.model_dump(mode="json"), "command_id": command}


@router.post("/revision-requests", response_model=CaseView)
def request_revision(
    case_id: CaseId, payload: Reasoned, caller: CurrentCaller, rpc: Rpc, command: CommandId
) -> dict[str, Any]:
    """Verifier sends the file back to the applicant for correction.

    Example: `{"reason": "Akta notaris tidak terbaca, mohon unggah ulang"}`
    """
    return rpc.service("submissions").request_revision(caller, case_id, with_command(payload, command))


@router.post("/resubmissions", response_model=CaseView)
def resubmit(
    case_id: CaseId,
    payload: ResubmissionRequest,
    caller: CurrentCaller,
    rpc: Rpc,
    store: Uploads,
    command: CommandId,
) -> dict[str, Any]:
    """Applicant sends corrected files (uploaded before with POST /api/files).

    Example: `{"attachments": [{"file_id": "3f2a...", "kind": "deed"}], "note": "Akta sudah diperbaiki"}`
    """
    resubmission = Resubmission(attachments=resolve(payload.attachments, store, caller), note=payload.note)
    case = rpc.service("submissions").resubmit(caller, case_id, with_command(resubmission, command))
    attached(store, caller, resubmission.attachments)
    return case


@router.post("/forward", response_model=CaseView)
def forward(
    case_id: CaseId, caller: CurrentCaller, rpc: Rpc, command: CommandId, payload: OptionalNote = None
) -> dict[str, Any]:
    """Verifier passes a complete file on to the approver. The body is optional.

    Example: `{"note": "Berkas lengkap"}`
    """
    return rpc.service("submissions").forward(caller, case_id, with_command(payload or Noted(), command))


@router.post("/approval", response_model=CaseView)
def approve(
    case_id: CaseId, caller: CurrentCaller, rpc: Rpc, command: CommandId, payload: OptionalNote = None
) -> dict[str, Any]:
    """Approver approves the case; the letter is then issued. The body is optional.

    Example: `{"note": "Disetujui"}`
    """
    return rpc.service("submissions").approve(caller, case_id, with_command(payload or Noted(), command))


@router.post("/rejection", response_model=CaseView)
def reject(case_id: CaseId, payload: Reasoned, caller: CurrentCaller, rpc: Rpc, command: CommandId) -> dict[str, Any]:
    """Approver rejects the case, saying why.

    Example: `{"reason": "Alamat sekretariat tidak sesuai dengan domisili"}`
    """
    return rpc.service("submissions").reject(caller, case_id, with_command(payload, command))
