"""Downloads: the issued letter of a case and the PDFs attached to it."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from contracts.errors import NotFound
from gateway.auth import CurrentCaller
from gateway.deps import Rpc, Uploads
from gateway.routes import CaseId, FileId

router = APIRouter(prefix="/api/cases/{case_id}", tags=["downloads"])

_PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}, "description": "the PDF"}}


def pdf_headers(filename: str) -> dict[str, str]:
    quoted = quote(filename, safe="")
    if quoted == filename:
        disposition = f'attachment; filename="{filename}"'
    else:  # RFC 6266: non-ASCII or special characters travel percent-encoded
        disposition = f"attachment; filename*=utf-8''{quoted}"
    return {"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"}


@router.get("/letter", response_class=Response, responses=_PDF)
def letter_pdf(case_id: CaseId, caller: CurrentCaller, rpc: Rpc) -> Response:
    """The issued letter (Surat Keterangan) of an approved case, as a PDF download.

    Example: `GET /api/cases/0b9e.../letter` -> `application/pdf`, `Content-Disposition: attachment; ...`
    """
    letter = rpc.vouched("documents").get_letter_pdf(caller, case_id)
    content = base64.b64decode(letter["content_base64"], validate=True)
    return Response(content, media_type="application/pdf", headers=pdf_headers(letter["filename"]))


@router.get("/attachments/{file_id}", response_class=FileResponse, responses=_PDF)
def attachment_pdf(
    case_id: CaseId,
    file_id: FileId,
    caller: CurrentCaller,
    rpc: Rpc,
    store: Uploads,
) -> FileResponse:
    """One PDF attached to the case (whoever may read the case may read its attachments).

    Example: `GET /api/cases/0b9e.../attachments/3f2a...` -> `application/pdf`
    """
    case = rpc.service("submissions").get_case(caller, case_id)  # NotFound / PermissionDenied if not theirs
    # Files replaced by a resubmission stay readable: verifiers compare versions, auditors check history.
    every_file = (case.get("attachments") or []) + (case.get("superseded_attachments") or [])
    listed = next((a for a in every_file if a.get("file_id") == file_id), None)
    stored = store.get(file_id) if listed is not None else None
    if listed is None or stored is None:
        raise NotFound("this case has no such attachment", field="file_id")
    return FileResponse(
        store.pdf_path(stored.file_id), media_type="application/pdf", headers=pdf_headers(listed["filename"])
    )
