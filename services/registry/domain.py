"""Registry aggregates: accounts and organisations. Pure: stdlib and eventsourcing.domain only."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from eventsourcing.domain import Aggregate, event

from contracts.commands import remember

ACCOUNT_NAMESPACE = uuid.UUID("6c1c0d4e-2b6f-4a55-8f0e-2d1d7c9a4e21")


def account_id_for(email: str) -> uuid.UUID:
    """Accounts are keyed by e-mail, so sign-in finds one without an index."""
    return uuid.uuid5(ACCOUNT_NAMESPACE, email.strip().lower())


class Account(Aggregate):
    @staticmethod
    def create_id(email: str, **_: Any) -> uuid.UUID:
        return account_id_for(email)

    @event("Registered")
    def __init__(
        self,
        email: str,
        full_name: str,
        password_hash: str,
        role: str,
        registered_by: str,
        verification_nonce: str | None = None,
        command_id: str | None = None,  # the command that made it (none on events from before command ids)
    ) -> None:
        self.email = email.strip().lower()
        self.full_name = full_name
        self.password_hash = password_hash
        self.role = role
        self.registered_by = registered_by
        self.organisation_id: str | None = None
        # Accounts from before addresses were confirmed, and staff accounts, count as confirmed.
        self.verified = verification_nonce is None
        self.verification_nonce = verification_nonce
        self.verification_issued_at = self.created_on
        self.registered_at = self.created_on
        self.recent_commands: dict[str, str] = {}  # command id -> what it did (a repeat's check)
        remember(self.recent_commands, command_id, "register")

    def done_by(self, command_id: str | None) -> str | None:
        """What the recent command with this id did to the account, if it did anything."""
        return self.recent_commands.get(command_id) if command_id is not None else None

    @event("VerificationIssued")
    def issue_verification(self, nonce: str, at: dt.datetime, command_id: str | None = None) -> None:
        """A new link (asked for again): the earlier ones stop working."""
        self.verification_nonce = nonce
        self.verification_issued_at = at
        remember(self.recent_commands, command_id, "issue_verification")

    @event("EmailVerified")
    def confirm_email(self, command_id: str | None = None) -> None:
        self.verified = True
        self.verification_nonce = None
        remember(self.recent_commands, command_id, "confirm_email")

    @event("SignUpAttempted")
    def note_sign_up_attempt(self, command_id: str | None = None) -> None:
        """Someone signed up with this account's address: its owner is told by mail (sign-up answers the
        same whether or not an address has an account)."""
        remember(self.recent_commands, command_id, "sign_up_attempt")

    @event("Reclaimed")
    def reclaim(
        self,
        full_name: str,
        password_hash: str,
        verification_nonce: str,
        at: dt.datetime,
        command_id: str | None = None,
    ) -> None:
        """An account never confirmed expired; its address signed up again: the new person holds it."""
        self.full_name = full_name
        self.password_hash = password_hash
        self.verified = False
        self.verification_nonce = verification_nonce
        self.verification_issued_at = at
        self.registered_at = at
        remember(self.recent_commands, command_id, "register")

    @event("OrganisationLinked")
    def link_organisation(self, organisation_id: str, command_id: str | None = None) -> None:
        self.organisation_id = organisation_id
        remember(self.recent_commands, command_id, "record_organisation")

    @event("PasswordRehashed")
    def rehash_password(self, password_hash: str) -> None:
        self.password_hash = password_hash


class Organisation(Aggregate):
    @event("Recorded")
    def __init__(self, profile: dict[str, Any], owner_id: str) -> None:
        self.profile = profile
        self.owner_id = owner_id
        self.status = "terdaftar"
        self.reporting_status = "up_to_date"
        self.missed_reports: dict[str, int] = {}  # period key -> period index (consecutive periods: +1)
        self.accepted_reports: list[str] = []

    def report_overdue(self, period: str, index: int, status_after: Callable[[dict[str, int]], str]) -> bool:
        """A report was not filed by its due date. Recorded once; ignored when already accepted (a late
        report accepted before this news arrived)."""
        if period in self.missed_reports or period in self.accepted_reports:
            return False
        missed = {**self.missed_reports, period: index}
        self._record_reporting(missed_reports=missed, accepted=None, status=status_after(missed), period=period)
        return True

    def report_accepted(self, period: str, status_after: Callable[[dict[str, int]], str]) -> bool:
        if period in self.accepted_reports:
            return False
        missed = {key: index for key, index in self.missed_reports.items() if key != period}
        self._record_reporting(missed_reports=missed, accepted=period, status=status_after(missed), period=period)
        return True

    @event("ReportingChanged")
    def _record_reporting(self, missed_reports: dict[str, int], accepted: str | None, status: str, period: str) -> None:
        self.missed_reports = missed_reports
        if accepted is not None:
            self.accepted_reports = [*self.accepted_reports, accepted]
        self.reporting_status = status
