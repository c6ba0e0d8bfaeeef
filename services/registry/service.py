"""Registry nameko service: accounts, sign-in and organisations."""

from __future__ import annotations

from typing import Any

from nameko.rpc import rpc

import infra.green  # noqa: F401,I001 - must precede any psycopg import
from contracts.errors import EXPECTED_ERRORS
from contracts.identity import Role
from infra.nameko_support import EventSourcedApplication, Identity
from services.registry.application import RegistryApplication
from services.registry.regions import load_region

expected = rpc(expected_exceptions=EXPECTED_ERRORS)


class RegistryService:
    name = "registry"

    app: RegistryApplication = EventSourcedApplication(lambda env, _settings: RegistryApplication(env=env), "registry")
    identity = Identity("registry")

    @expected
    def register_applicant(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Self-service sign-up of an ormas board member.

        payload: {"email": "sekretaris@ormas.or.id", "password": "at least 10 chars", "full_name": "Siti"}
        """
        return self.app.register_applicant(payload)

    @expected
    def register_staff(self, caller: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        """Admin creates a staff account. payload: {"email", "password", "full_name", "role": "verifier"}"""
        return self.app.register_staff(self.identity.verify(caller), payload)

    @expected
    def authenticate(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Check e-mail and password. payload: {"email": "...", "password": "..."}; returns the account."""
        return self.app.authenticate(payload)

    @expected
    def get_account(self, caller: dict[str, Any], account_id: str) -> dict[str, Any]:
        """An account (the caller's own, or any for staff)."""
        return self.app.get_account(self.identity.verify(caller), account_id)

    @expected
    def record_organisation(self, caller: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        """Record the caller's organisation (see contracts.organisations.OrganisationCreate)."""
        return self.app.record_organisation(self.identity.verify(caller), payload)

    @expected
    def get_organisation(self, caller: dict[str, Any], organisation_id: str) -> dict[str, Any]:
        """An organisation's profile; NIK and phone are masked except for its owner."""
        return self.app.get_organisation(self.identity.verify(caller), organisation_id)

    @expected
    def get_notification_contact(self, caller: dict[str, Any], organisation_id: str) -> dict[str, str]:
        """Where status mail goes (services only)."""
        self.identity.verify(caller).require(Role.SYSTEM)
        return self.app.notification_contact(organisation_id)

    @expected
    def list_regions(self) -> dict[str, list[str]]:
        """Public reference data: each kecamatan of the region with its kelurahan.

        -> {"Balikpapan Barat": ["Baru Ilir", ...], ...}
        """
        return load_region()

    @rpc
    def ping(self) -> str:
        """Readiness probe: answers "pong" once the service consumes its queues."""
        return "pong"
