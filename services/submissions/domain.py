"""Cases of the five services and the letter registers. Pure: stdlib and eventsourcing.domain only.

Public methods check the rules, private ``@event`` methods only record (they re-run on replay).
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

REGISTER_NAMESPACE = uuid.UUID("a3f4f1d2-7e0b-4c1e-9d55-3b8e2f6c1a90")
CASE_NAMESPACE = uuid.UUID("4d7c8a21-93b5-4f0e-8c6a-52e1f0b7d3a4")

SUBMITTED = "submitted"
REVISION_REQUESTED = "revision_requested"
RESUBMITTED = "resubmitted"
FORWARDED = "forwarded"
APPROVED = "approved"
REJECTED = "rejected"

IN_VERIFICATION = frozenset({SUBMITTED, RESUBMITTED})


class CaseStateError(Exception):
    """The case is not in a state that allows the action."""


class Case(Aggregate):
    @staticmethod
    def create_id(organisation_id: str, request_key: str | None = None) -> uuid.UUID:
        """A client's retry of the same filing (same idempotency key) names the same case."""
        if request_key:
            return uuid.uuid5(CASE_NAMESPACE, f"{organisation_id}:{request_key}")
        return uuid.uuid4()

    @event("Submitted")
    def __init__(
        self,
        service: str,
        reference: str,
        organisation_id: str,
        organisation: dict[str, Any],
        attachments: list[dict[str, Any]],
        note: str | None,
        actor: dict[str, str],
        request_key: str | None = None,
        request_digest: str | None = None,
    ) -> None:
        self.service = service
        self.reference = reference
        self.organisation_id = organisation_id
        self.organisation = organisation
        self.attachments = attachments
        self.superseded_attachments: list[dict[str, Any]] = []
        self.note = note
        self.submitted_by = actor
        self.status = SUBMITTED
        self.last_reason: str | None = None
        self.letter: dict[str, Any] | None = None
        # What the filing said (cases filed before this was recorded have None): a retry under the
        # same idempotency key must say the same, or it is a different filing reusing a key.
        self.request_digest = request_digest

    def _require(self, allowed: frozenset[str] | set[str], action: str) -> None:
        if self.status not in allowed:
            raise CaseStateError(f"cannot {action} a case that is {self.status}")

    def request_revision(self, reason: str, actor: dict[str, str]) -> None:
        self._require(IN_VERIFICATION, "request a revision of")
        self._record_revision_request(reason=reason, actor=actor)

    @event("RevisionRequested")
    def _record_revision_request(self, reason: str, actor: dict[str, str]) -> None:
        self.status = REVISION_REQUESTED
        self.last_reason = reason

    def resubmit(self, attachments: list[dict[str, Any]], note: str | None, actor: dict[str, str]) -> None:
        self._require({REVISION_REQUESTED}, "resubmit")
        self._record_resubmission(attachments=attachments, note=note, actor=actor)

    @event("Resubmitted")
    def _record_resubmission(self, attachments: list[dict[str, Any]], note: str | None, actor: dict[str, str]) -> None:
        # A corrected file replaces the earlier one of the same kind; the old one stays in the history.
        replaced = {attachment["kind"] for attachment in attachments}
        self.superseded_attachments += [a for a in self.attachments if a["kind"] in replaced]
        self.attachments = [a for a in self.attachments if a["kind"] not in replaced] + attachments
        self.note = note
        self.status = RESUBMITTED
        self.last_reason = None  # answered: the revision note is history now, not a current demand

    def forward(self, note: str | None, actor: dict[str, str]) -> None:
        self._require(IN_VERIFICATION, "forward")
        self._record_forward(note=note, actor=actor)

    @event("Forwarded")
    def _record_forward(self, note: str | None, actor: dict[str, str]) -> None:
        self.status = FORWARDED
        self.last_reason = None

    def approve(self, note: str | None, letter: dict[str, Any], actor: dict[str, str]) -> None:
        self._require({FORWARDED}, "approve")
        self._record_approval(note=note, letter=letter, actor=actor)

    @event("Approved")
    def _record_approval(self, note: str | None, letter: dict[str, Any], actor: dict[str, str]) -> None:
        self.status = APPROVED
        self.letter = letter
        self.last_reason = None

    def reject(self, reason: str, actor: dict[str, str]) -> None:
        self._require({FORWARDED}, "reject")
        self._record_rejection(reason=reason, actor=actor)

    @event("Rejected")
    def _record_rejection(self, reason: str, actor: dict[str, str]) -> None:
        self.status = REJECTED
        self.last_reason = reason


class LetterRegister(Aggregate):
    """A per-register, per-year sequence. Gap-free: a number is taken in the same atomic save as the
    approval that uses it, and two approvals racing for the same number conflict on the version."""

    @staticmethod
    def create_id(name: str, year: int) -> uuid.UUID:
        return uuid.uuid5(REGISTER_NAMESPACE, f"{name}:{year}")

    @event("Opened")
    def __init__(self, name: str, year: int) -> None:
        self.name = name
        self.year = year
        self.last_sequence = 0

    def take_next(self, case_id: str) -> int:
        self._record_taken(sequence=self.last_sequence + 1, case_id=case_id)
        return self.last_sequence

    @event("NumberTaken")
    def _record_taken(self, sequence: int, case_id: str) -> None:
        self.last_sequence = sequence
