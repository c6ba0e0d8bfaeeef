"""Registry aggregates: accounts and organisations. Pure: stdlib and eventsourcing.domain only."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

ACCOUNT_NAMESPACE = uuid.UUID("6c1c0d4e-2b6f-4a55-8f0e-2d1d7c9a4e21")


def account_id_for(email: str) -> uuid.UUID:
    """Accounts are keyed by e-mail, so sign-in finds one without an index."""
    return uuid.uuid5(ACCOUNT_NAMESPACE, email.strip().lower())


class Account(Aggregate):
    @staticmethod
    def create_id(email: str, **_: Any) -> uuid.UUID:
        return account_id_for(email)

    @event("Registered")
    def __init__(self, email: str, full_name: str, password_hash: str, role: str, registered_by: str) -> None:
        self.email = email.strip().lower()
        self.full_name = full_name
        self.password_hash = password_hash
        self.role = role
        self.registered_by = registered_by
        self.organisation_id: str | None = None

    @event("OrganisationLinked")
    def link_organisation(self, organisation_id: str) -> None:
        self.organisation_id = organisation_id

    @event("PasswordRehashed")
    def rehash_password(self, password_hash: str) -> None:
        self.password_hash = password_hash


class Organisation(Aggregate):
    @event("Recorded")
    def __init__(self, profile: dict[str, Any], owner_id: str) -> None:
        self.profile = profile
        self.owner_id = owner_id
        self.status = "terdaftar"
