"""RPC payloads of the submissions service."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from contracts.commands import IDEMPOTENCY_KEY_PATTERN


class ServiceType(StrEnum):
    """The services of the shipped workflow catalogue (regions/*/workflows/*.toml); a test keeps them equal."""

    SKM = "skm"
    REPORT = "report"


class CaseStatus(StrEnum):
    """Every state of the shipped workflows; a list filter naming anything else is refused."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    REVISION_REQUESTED = "revision_requested"
    RESUBMITTED = "resubmitted"
    FORWARDED = "forwarded"
    ON_HOLD = "on_hold"
    APPROVED = "approved"
    REJECTED = "rejected"
    ACCEPTED = "accepted"


class AttachmentKind(StrEnum):
    COVER_LETTER = "cover_letter"
    LEGAL_BASIS = "legal_basis"
    DEED = "deed"
    WORK_PROGRAMME = "work_programme"
    BOARD_BIODATA = "board_biodata"
    NPWP = "npwp"
    DOMICILE = "domicile"
    OFFICE_PROOF = "office_proof"
    STATEMENTS = "statements"
    FIELD_PHOTO = "field_photo"
    FIELD_REPORT = "field_report"
    ACTIVITY_REPORT = "activity_report"
    BOARD_DECREE = "board_decree"
    OTHER = "other"


ATTACHMENT_KIND_LABELS = {
    AttachmentKind.COVER_LETTER: "Surat permohonan",
    AttachmentKind.LEGAL_BASIS: "Dasar hukum (SK Kemenkumham / SKT)",
    AttachmentKind.DEED: "Akta notaris dan AD/ART",
    AttachmentKind.WORK_PROGRAMME: "Program kerja",
    AttachmentKind.BOARD_BIODATA: "Biodata pengurus",
    AttachmentKind.NPWP: "NPWP",
    AttachmentKind.DOMICILE: "Surat keterangan domisili",
    AttachmentKind.OFFICE_PROOF: "Bukti kantor sekretariat",
    AttachmentKind.STATEMENTS: "Surat pernyataan",
    AttachmentKind.FIELD_PHOTO: "Foto verifikasi lapangan",
    AttachmentKind.FIELD_REPORT: "Berita acara verifikasi lapangan",
    AttachmentKind.ACTIVITY_REPORT: "Laporan kegiatan",
    AttachmentKind.BOARD_DECREE: "SK kepengurusan",
    AttachmentKind.OTHER: "Dokumen lain",
}


class Attachment(BaseModel):
    file_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    kind: AttachmentKind
    filename: str = Field(min_length=1, max_length=200)
    size: int = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


def _stripped(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _blank_to_none(value: object) -> object:
    return (value.strip() or None) if isinstance(value, str) else value


# Surrounding whitespace is dropped, so "   " is no reason (422) and a blank note is no note.
Reason = Annotated[str, BeforeValidator(_stripped), Field(min_length=3, max_length=2000)]
Note = Annotated[Annotated[str, Field(max_length=2000)] | None, BeforeValidator(_blank_to_none)]


class CaseSubmission(BaseModel):
    service: ServiceType = ServiceType.SKM
    # How many files, and of which kinds, the workflow definition says (the filing's required_files).
    attachments: list[Attachment] = Field(default_factory=list, max_length=30)
    note: Note = None
    form: dict[str, Any] | None = Field(default=None, description="the service's filing form, e.g. a report")
    # The client's Idempotency-Key: a retried filing returns the case the first attempt created.
    request_key: str | None = Field(default=None, pattern=IDEMPOTENCY_KEY_PATTERN)


class Resubmission(BaseModel):
    attachments: list[Attachment] = Field(min_length=1, max_length=30)
    note: Note = None


class Reasoned(BaseModel):
    """A decision that must say why (revision request, rejection): blank or whitespace is no reason."""

    reason: Reason


class Noted(BaseModel):
    """A decision with an optional note (forward, approve); a blank note is no note."""

    note: Note = None


class Assignee(BaseModel):
    """A colleague a case is handed to (the service checks the account and fills in role and name)."""

    id: str = Field(min_length=1, max_length=64)
    role: str = Field(default="", max_length=20)
    name: str = Field(default="", max_length=120)


class ActionRequest(BaseModel):
    """What a person sends with one step of a workflow; the definition says which parts it needs."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason | None = None
    note: Note = None
    attachments: list[Attachment] = Field(default_factory=list, max_length=30)
    form: dict[str, Any] | None = None
    assignee: Assignee | None = None
    # The command's id (the gateway's, per HTTP request, or the client's Idempotency-Key): a step that
    # arrives again with it returns the case as it is and records nothing.
    command_id: str | None = Field(default=None, pattern=IDEMPOTENCY_KEY_PATTERN)


def attachment_label(kind: str) -> str:
    """The Bahasa label of an attachment kind; an unknown kind (from a newer definition) shows as itself."""
    try:
        return ATTACHMENT_KIND_LABELS[AttachmentKind(kind)]
    except ValueError:
        return kind
