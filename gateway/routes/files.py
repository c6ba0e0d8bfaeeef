"""Uploads of the PDFs that go with a case."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile

from contracts.identity import Role
from contracts.views import StoredFileView
from gateway.auth import CurrentCaller
from gateway.deps import Limits, SettingsDep, Uploads, client_address
from gateway.openapi import refusals
from gateway.ratelimit import Rule

router = APIRouter(prefix="/api", tags=["files"])


@router.post(
    "/files",
    response_model=StoredFileView,
    status_code=201,
    responses=refusals(
        forbidden="only applicants and verifiers upload",
        too_large="the file, or the account's files not attached to a case, over the limit (named)",
        rate_limited="too many uploads from this account or address (the limit named; Retry-After)",
    ),
)
def upload_file(
    file: Annotated[UploadFile, File(description="a PDF document")],
    caller: CurrentCaller,
    store: Uploads,
    limits: Limits,
    settings: SettingsDep,
    request: Request,
) -> dict[str, Any]:
    """Upload one PDF (multipart form field `file`); use the returned `file_id` in a case.

    Example: `curl -F file=@akta.pdf -H "Authorization: Bearer <token>" /api/files`
    -> `{"file_id": "3f2a...32 hex", "filename": "akta.pdf", "size": 48211, "sha256": "9c1e..."}`
    """
    # Applicants attach files to their own cases; a verifier attaches the field visit's record and
    # photos. Approvers, admins and auditors upload nothing.
    caller.require(Role.APPLICANT, Role.VERIFIER)
    window = settings.upload_window_seconds
    limits.check(Rule("uploads per account", settings.upload_hits_per_account, window), caller.user_id, "file")
    limits.check(Rule("uploads per address", settings.upload_hits_per_address, window), client_address(request), "file")
    stored = store.save(file.file, file.filename, caller)
    return {
        "file_id": stored.file_id,
        "filename": stored.filename,
        "size": stored.size,
        "sha256": stored.sha256,
    }
