"""What the API answers about cases: typed views (the gateway declares them as response models, so a
client generated from the OpenAPI document knows every field). The submissions service builds them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from contracts.cases import Attachment
from contracts.events import LetterIssueV1


class Holder(BaseModel):
    """Who holds a case: took it from the queue, or was handed it."""

    id: str
    role: str
    name: str | None = None


# A numbered letter or receipt issued by a step of the case: the same shape subscribers receive.
IssuedDocument = LetterIssueV1


class ServiceLevel(BaseModel):
    """The case's clock in working days (the region's public holidays and collective leave excluded)."""

    sla_days: int | None
    running: bool
    days_used: float
    days_left: float | None
    due_at: dt.datetime | None = Field(description="while the clock runs: when the limit is reached")
    overdue: bool
    due_estimated: bool = Field(description="the due moment lies past the last published calendar year")


class ClockChangeView(BaseModel):
    at: dt.datetime
    clock: str = Field(description="running, paused or stopped from this moment")
    by: str | None
    reason: str | None


class CaseView(BaseModel):
    id: str
    reference: str
    service: str = Field(description="the workflow (GET /api/workflows)")
    workflow_version: int
    status: str
    status_label: str
    organisation_id: str
    organisation_name: str
    attachments: list[Attachment]
    superseded_attachments: list[Attachment]
    note: str | None
    form: dict[str, Any] | None
    subject: str | None = Field(description='what the case is the one of, e.g. the report period "2026-S1"')
    last_reason: str | None
    assignee: Holder | None
    letter: IssuedDocument | None
    actions_done: list[str]
    actions_open: list[str] = Field(description="the steps the definition allows from the current state")
    sla: ServiceLevel
    clock_changes: list[ClockChangeView]
    version: int
    created_at: dt.datetime
    modified_at: dt.datetime


class CaseRow(BaseModel):
    """A case in a list or a work queue (the case read model)."""

    case_id: str
    reference: str
    service: str
    organisation_id: str
    organisation_name: str
    status: str
    letter_number: str | None
    submitted_at: dt.datetime
    updated_at: dt.datetime
    version: int
    assignee_id: str | None = None
    assignee_name: str | None = None
    clock: str | None = None
    overdue: bool | None = None


class TimelineStep(BaseModel):
    case_id: str
    version: int
    event_type: str
    status: str
    at: dt.datetime
    actor_role: str
    reason: str | None
    note: str | None


class HistoryRecord(BaseModel):
    """One stored event of a case, as an auditor reads it."""

    version: int
    type: str
    at: dt.datetime
    actor: dict[str, Any] | None
    data: dict[str, Any]


class ReportDue(BaseModel):
    period: str
    label: str
    due_on: dt.date
    case_id: str | None
    status: str
    status_label: str
    overdue: bool


class AccountView(BaseModel):
    id: str
    email: str
    full_name: str
    role: str
    organisation_id: str | None


class SignUpView(BaseModel):
    """The same answer whether or not the address had an account: the news goes to the address."""

    email: str
    status: str = Field(description='"confirmation_sent": follow the link mailed to this address')


class ConfirmationView(BaseModel):
    email: str
    status: str = Field(description='"confirmed": the account may now record its organisation')


class SessionView(BaseModel):
    token: str = Field(description="send as `Authorization: Bearer <token>`")
    account: AccountView


class BoardMemberView(BaseModel):
    position: str
    name: str
    nik: str = Field(description="16 digits for the organisation's owner; masked for everyone else")
    phone: str = Field(description="masked except for the organisation's owner")
    term_start: dt.date
    term_end: dt.date


class AddressView(BaseModel):
    street: str
    kecamatan: str
    kelurahan: str


class OrganisationView(BaseModel):
    id: str
    status: str
    reporting_status: str = Field(description="up_to_date, late or inactive (half-yearly reports)")
    missed_reports: list[str]
    recorded_at: dt.datetime
    owner_id: str
    version: int
    name: str
    abbreviation: str | None
    legal_form: str
    legal_number: str
    founded_on: dt.date
    field_of_activity: str
    address: AddressView
    npwp: str
    phone: str
    email: str
    board: list[BoardMemberView]


class RecordedOrganisation(BaseModel):
    organisation: OrganisationView
    token: str = Field(description="a new token that carries the organisation")


class DirectoryRow(BaseModel):
    """An organisation in the staff directory (no personal data)."""

    organisation_id: str
    name: str | None
    abbreviation: str | None
    legal_form: str | None
    kecamatan: str | None
    kelurahan: str | None
    recorded_at: dt.datetime | None
    reporting_status: str
    missed_periods: list[str]
    version: int


class StoredFileView(BaseModel):
    file_id: str = Field(description="name it in a filing or a step's attachments")
    filename: str
    size: int
    sha256: str


class Verification(BaseModel):
    """What anyone may know of an issued document from its QR code."""

    genuine: bool
    status: str
    number: str
    title: str
    organisation_name: str
    issued_on: dt.date
    issuer: str


class CasePage(BaseModel):
    """One page of cases; pass ``next_cursor`` as ``cursor`` for the next (null: this is the last page)."""

    items: list[CaseRow]
    next_cursor: str | None = Field(description="opaque; continues after this page's last case")


class DirectoryPage(BaseModel):
    """One page of the directory; pass ``next_cursor`` as ``cursor`` for the next (null: the last page)."""

    items: list[DirectoryRow]
    next_cursor: str | None = Field(description="opaque; continues after this page's last organisation")
