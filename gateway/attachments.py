"""Case attachments as the HTTP client sends them (file id + kind) and as the service needs them.

The client names files it uploaded earlier; the gateway vouches for each one (it exists, this
caller uploaded it) and fills in name, size and checksum from the upload store.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from contracts.cases import Attachment, AttachmentKind, Note, ServiceType
from contracts.errors import InvalidInput
from contracts.identity import Caller
from gateway.uploads import UploadStore


class AttachmentRef(BaseModel):
    file_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="as returned by POST /api/files")
    kind: AttachmentKind


class CaseRequest(BaseModel):
    service: ServiceType = ServiceType.SKM
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=30)
    note: Note = None
    form: dict[str, Any] | None = Field(default=None, description="the service's filing form (GET /api/workflows)")


class ResubmissionRequest(BaseModel):
    attachments: list[AttachmentRef] = Field(min_length=1, max_length=30)
    note: Note = None


def resolve(refs: list[AttachmentRef], store: UploadStore, caller: Caller) -> list[Attachment]:
    attachments = []
    for index, ref in enumerate(refs):
        stored = store.get(ref.file_id)
        if stored is None or stored.uploaded_by != caller.user_id:
            raise InvalidInput(
                "no such file among your uploads; upload it first with POST /api/files",
                field=f"attachments.{index}.file_id",
            )
        attachments.append(
            Attachment(
                file_id=stored.file_id,
                kind=ref.kind,
                filename=stored.filename,
                size=stored.size,
                sha256=stored.sha256,
            )
        )
    # Named by this request: not swept while it runs (released for good once the service accepts it).
    store.pending.hold(caller.user_id, [attachment.file_id for attachment in attachments])
    return attachments


def attached(store: UploadStore, caller: Caller, attachments: list[Attachment]) -> None:
    """The service accepted the request naming these files: they belong to a case now."""
    store.pending.release(caller.user_id, [attachment.file_id for attachment in attachments])
