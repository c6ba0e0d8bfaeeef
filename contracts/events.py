"""Integration events: the only facts that leave a service (versioned, plain JSON on the wire).

The envelope is the same for every event; ``data`` is checked against the model registered for the
event type, so a consumer can trust its shape.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

from pydantic import BaseModel, ValidationInfo, model_validator

from contracts.keys import Keyring, Signer, canonical

EVENT_ID_NAMESPACE = uuid.UUID("0f6f1c9e-5a55-4b83-9a4a-4f1b7d1b8f10")
_NAMESPACE_BYTES = EVENT_ID_NAMESPACE.bytes


def stable_event_id(aggregate_id: uuid.UUID | str, version: int) -> str:
    """The same stored event always gets the same id, so a republished event is recognisable.

    It is ``str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{aggregate_id}:{version}"))``, spelt out: a rebuild makes one
    per stored event, and the UUID objects in between cost as much as the hash."""
    name = f"{aggregate_id}:{version}".encode()
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).digest()[:16])
    digest[6] = digest[6] & 0x0F | 0x50  # version 5
    digest[8] = digest[8] & 0x3F | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class OrganisationRecordedV1(BaseModel):
    organisation_id: str
    name: str
    abbreviation: str | None = None
    legal_form: str
    kecamatan: str
    kelurahan: str
    # Added later (optional: events published before carry neither): the rest of what a letter prints.
    street: str | None = None
    chair_name: str | None = None


class AccountRegisteredV1(BaseModel):
    account_id: str
    role: str
    organisation_id: str | None = None
    # The link to confirm the address is the registry's to make from this (notifications asks for it).
    confirmation_nonce: str | None = None


class AccountConfirmationV1(BaseModel):
    """A new confirmation link for an account (asked for again, or the address signed up anew)."""

    account_id: str
    confirmation_nonce: str


class AccountSignUpAttemptV1(BaseModel):
    """Someone signed up with the address of a live account: its owner is told."""

    account_id: str


class LetterIssueV1(BaseModel):
    number: str
    register_name: str
    year: int
    sequence: int
    verification_code: str
    issued_on: dt.date
    title: str
    kind: str | None = None  # the workflow's output key: "letter", "receipt" (absent before the kernel)
    template: str | None = None  # the document template that prints it
    # What the document states of the case's form (a report's period, its activities counted); absent
    # before reports, and for a letter whose case has no form.
    facts: dict[str, str | bool | int | float | None] | None = None


class CaseEventV1(BaseModel):
    case_id: str
    reference: str
    service: str
    organisation_id: str
    organisation_name: str
    status: str
    actor_id: str
    actor_role: str
    reason: str | None = None
    note: str | None = None
    letter: LetterIssueV1 | None = None
    # The organisation as it stood when the case was filed: what the letter prints.
    organisation: dict[str, str | None] | None = None
    # Added by the case kernel (absent from events of cases filed before it):
    action: str | None = None  # the workflow action taken
    assignee: dict[str, str] | None = None  # who holds the case now (take / assign)
    clock: str | None = None  # "running" | "paused" | "stopped" when the step moved the SLA clock
    subject: str | None = None  # what the case is one of, e.g. the report period "2026-S1"


class ReportReminderV1(BaseModel):
    """A periodic obligation (a half-yearly report) is due soon, or overdue: recorded once per offset."""

    obligation_id: str
    organisation_id: str
    organisation_name: str
    workflow: str  # e.g. "report"
    period: str  # e.g. "2026-S1"
    period_label: str
    due_on: dt.date
    offset_days: int  # negative: before the due date; positive: after it
    missed_in_a_row: int = 0  # periods missed up to and including this one (after the due date only)


class ComplianceChangedV1(BaseModel):
    """An organisation's reporting status moved (registry): up_to_date, late or inactive."""

    organisation_id: str
    status: str
    missed_periods: list[str]


CASE_EVENT_TYPES = (
    "case.submitted.v1",
    "case.revision_requested.v1",
    "case.resubmitted.v1",
    "case.forwarded.v1",
    "case.approved.v1",
    "case.rejected.v1",
    # the case kernel's steps
    "case.assigned.v1",
    "case.field_visit_recorded.v1",
    "case.held.v1",
    "case.released.v1",
    "case.drafted.v1",
    "case.draft_updated.v1",
    "case.accepted.v1",
    "case.overdue.v1",  # the service-level limit passed (announced once per case)
)

REMINDER_EVENT_TYPES = ("report.reminder_due.v1", "report.overdue.v1")

DATA_MODELS: dict[str, type[BaseModel]] = {
    "organisation.recorded.v1": OrganisationRecordedV1,
    "organisation.compliance_changed.v1": ComplianceChangedV1,
    **{event_type: ReportReminderV1 for event_type in REMINDER_EVENT_TYPES},
    "account.registered.v1": AccountRegisteredV1,
    "account.confirmation_requested.v1": AccountConfirmationV1,
    "account.sign_up_attempted.v1": AccountSignUpAttemptV1,
    **{event_type: CaseEventV1 for event_type in CASE_EVENT_TYPES},
}


_REPLAYED = {"replayed": True}  # the validation context of ``IntegrationEvent.replayed``


class IntegrationEvent(BaseModel):
    event_id: str
    event_type: str
    source: str
    aggregate_id: str
    aggregate_version: int
    occurred_at: dt.datetime
    data: dict[str, object]
    # Where the event lies in its source's log (the relay's notification id): a read model rebuilt up to a
    # position skips a delivery at or below it without a row per event (infra/readmodel.py ``claim``). None on
    # an event published before relays set it.
    position: int | None = None
    # Ed25519 by the relay of the source's store (holder ``relay-<source>``): anyone able to publish on the
    # broker, a consumer included, could otherwise forge a fact (an approval, and so a "genuine" letter).
    # ``signature`` covers the envelope without the position, as every release has signed it, so that a consumer
    # of a release from before positions (still running while a deployment replaces the parts) takes the event
    # as genuine; ``position_signature`` covers it with the position, and a consumer that reads the position
    # checks that one (else a forged position could make it skip an event, or apply one again).
    signature: str | None = None
    position_signature: str | None = None

    @model_validator(mode="after")
    def _data_matches_type(self, info: ValidationInfo) -> IntegrationEvent:
        model = DATA_MODELS.get(self.event_type)
        if model is None:
            raise ValueError(f"unknown event type {self.event_type!r}")
        if info.context is not _REPLAYED:
            self.data = model.model_validate(self.data).model_dump(mode="json")
        return self

    @classmethod
    def replayed(cls, **fields: Any) -> IntegrationEvent:
        """An event a rebuild maps again from its own store: ``data`` is taken as the mapping made it, neither
        checked against its type's model nor turned into JSON here (the relay checked this very mapping when it
        published the event, and ``case()`` checks the data as a projection reads it). Never for an event that
        came over the broker."""
        return cls.model_validate(fields, context=_REPLAYED)

    def case(self) -> CaseEventV1:
        return CaseEventV1.model_validate(self.data)

    @property
    def signer(self) -> str:
        """The only holder whose signature makes this event authentic: the relay of its store."""
        return f"relay-{self.source}"

    def at(self, position: int) -> IntegrationEvent:
        """This event as published from ``position`` of its log (before it is signed: the position is signed too)."""
        return self.model_copy(update={"position": position})

    def _message(self, with_position: bool) -> bytes:
        unsigned = (
            {"signature", "position_signature"} if with_position else {"signature", "position_signature", "position"}
        )
        return canonical(self.model_dump(mode="json", exclude=unsigned))

    def signed(self, signer: Signer) -> IntegrationEvent:
        if signer.holder != self.signer:
            raise ValueError(f"{signer.holder} may not sign {self.source} events (only {self.signer})")
        positioned = None if self.position is None else signer.sign(self._message(with_position=True))
        return self.model_copy(
            update={"signature": signer.sign(self._message(with_position=False)), "position_signature": positioned}
        )

    def is_authentic(self, keyring: Keyring) -> bool:
        """Signed by its store's relay: with its position when it has one (one signature checked either way)."""
        if self.position is None:
            signature, message = self.signature, self._message(with_position=False)
        else:
            signature, message = self.position_signature, self._message(with_position=True)
        return signature is not None and keyring.is_signed_by(self.signer, signature, message)
