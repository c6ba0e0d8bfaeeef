"""RPC payloads of the submissions service."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class ServiceType(StrEnum):
    SKM = "skm"


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
    OTHER = "other"


class Attachment(BaseModel):
    file_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    kind: AttachmentKind
    filename: str = Field(min_length=1, max_length=200)
    size: int = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9_\-]{8,100}$"


class CaseSubmission(BaseModel):
    service: ServiceType = ServiceType.SKM
    attachments: list[Attachment] = Field(min_length=1, max_length=30)
    note: str | None = Field(default=None, max_length=2000)
    # The client's Idempotency-Key: a retried filing returns the case the first attempt created.
    request_key: str | None = Field(default=None, pattern=IDEMPOTENCY_KEY_PATTERN)


class Resubmission(BaseModel):
    attachments: list[Attachment] = Field(min_length=1, max_length=30)
    note: str | None = Field(default=None, max_length=2000)


class Reasoned(BaseModel):
    """A decision that must say why (revision request, rejection)."""

    reason: str = Field(min_length=3, max_length=2000)


class Noted(BaseModel):
    """A decision with an optional note (forward, approve)."""

    note: str | None = Field(default=None, max_length=2000)
