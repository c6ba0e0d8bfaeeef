"""The one route for every step of every workflow, and the catalogue that says which steps exist.

Who may take which step, from which state, with what, is decided by the submissions service from the
region's workflow definitions; the gateway only vouches for the uploaded files.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from pydantic import BaseModel, ConfigDict, Field

from contracts.cases import ActionRequest, Assignee, Note, Reason
from contracts.views import CaseView
from contracts.workflow import Workflow
from gateway.attachments import AttachmentRef, attached, resolve
from gateway.auth import CurrentCaller
from gateway.commands import CommandId
from gateway.deps import Rpc, Uploads
from gateway.openapi import refusals
from gateway.routes import CaseId

router = APIRouter(prefix="/api", tags=["case workflow"])

ActionName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="see GET /api/workflows")]


class ActionBody(BaseModel):
    """What a step may carry; the workflow definition says which parts the step needs."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason | None = None
    note: Note = None
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=30)
    form: dict[str, Any] | None = Field(default=None, description="the step's form, e.g. the field visit record")
    assignee: Assignee | None = None


@router.post(
    "/cases/{case_id}/actions/{action}",
    response_model=CaseView,
    responses=refusals(
        forbidden="the caller's role may not take this step",
        conflict="the case's state does not allow this step (or a step must come first)",
    ),
)
def take_action(
    case_id: CaseId,
    action: ActionName,
    caller: CurrentCaller,
    rpc: Rpc,
    store: Uploads,
    command: CommandId,
    payload: Annotated[ActionBody | None, Body()] = None,
) -> dict[str, Any]:
    """Take one step of the case's workflow (GET /api/workflows lists them, with who may take each).

    Examples: `POST /api/cases/0b9e.../actions/request_revision` `{"reason": "Akta notaris tidak terbaca"}`;
    `.../actions/record_field_visit` `{"form": {"visited_on": "2026-11-20", "officers": ["Rina"],
    "findings": "Sekretariat ada", "office_matches_address": true}, "attachments": [{"file_id": "3f2a...",
    "kind": "field_report"}]}`; `.../actions/hold` `{"reason": "Perlu evaluasi tim"}`;
    `.../actions/assign` `{"assignee": {"id": "<staff account id>"}}`; `.../actions/approve` (no body).
    """
    body = payload or ActionBody()
    request = ActionRequest(
        reason=body.reason,
        note=body.note,
        attachments=resolve(body.attachments, store, caller) if body.attachments else [],
        form=body.form,
        assignee=body.assignee,
        command_id=command,
    )
    case = rpc.service("submissions").act(caller, case_id, action, request.model_dump(mode="json"))
    attached(store, caller, request.attachments)
    return case


@router.get("/workflows", response_model=list[Workflow])
def list_workflows(rpc: Rpc) -> list[dict[str, Any]]:
    """Every service of the region: its states and actions with Bahasa Indonesia labels, who may take
    each action and from where, what each needs, and the service level in working days. Public: it is
    the office's service standard.

    Example: `GET /api/workflows` -> `[{"key": "skm", "label": "Surat Keterangan Melapor", "sla_days": 15,
    "states": {"submitted": {"label": "Diajukan", "queue": "verifier", ...}}, "actions": {...}}, ...]`
    """
    return rpc.service("submissions").list_workflows()
