"""Registry nameko service: accounts, sign-in and organisations."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from nameko.events import SERVICE_POOL, event_handler

import infra.green  # noqa: F401,I001 - must precede any psycopg import
from contracts.commands import checked_command_id
from contracts.errors import EXPECTED_ERRORS, InvalidInput, NotFound, PermissionDenied
from contracts.events import IntegrationEvent
from contracts.identity import Role
from contracts.paging import DEFAULT_PAGE
from infra.broker_outage import rpc
from infra.nameko_support import Identity
from infra.readmodel import ReadModel, decode
from services.registry import queries
from services.registry.application import RegistryApplication
from services.registry.compliance import STATUSES
from services.registry.dependencies import Directory, RegistryStore
from services.registry.projections import DirectoryProjection
from services.registry.regions import load_region

expected = rpc(expected_exceptions=EXPECTED_ERRORS)
log = logging.getLogger(__name__)


@contextmanager
def dropped_if_permanent(event: IntegrationEvent) -> Iterator[None]:
    """An event naming no organisation of ours, or a period of no calendar, can never succeed: log and
    drop it instead of requeueing it forever. Anything else is retried (at-least-once)."""
    try:
        yield
    except (NotFound, InvalidInput, ValueError) as error:
        log.error("dropped %s %s: %s", event.event_type, event.event_id, error)


class RegistryService:
    name = "registry"

    app: RegistryApplication = RegistryStore()
    identity = Identity("registry")
    directory: ReadModel = Directory()

    @expected
    def register_applicant(self, payload: dict[str, Any], command_id: str | None = None) -> dict[str, Any]:
        """Self-service sign-up of an ormas board member.

        payload: {"email": "sekretaris@ormas.or.id", "password": "at least 10 chars", "full_name": "Siti"}
        command_id: "cmd-3f2a…" (every command below carries one: the same id again changes nothing)
        """
        return self.app.register_applicant(payload, checked_command_id(command_id))

    @expected
    def confirm_email(self, token: str, command_id: str | None = None) -> dict[str, Any]:
        """Public: follow the link mailed to a new account. -> {"email": "...", "status": "confirmed"}"""
        return self.app.confirm_email(token, self.identity.keyring, checked_command_id(command_id))

    @expected
    def resend_confirmation(self, payload: dict[str, Any], command_id: str | None = None) -> dict[str, Any]:
        """Public: a new confirmation link for {"email": "..."}; the same answer for any address."""
        return self.app.resend_confirmation(payload, checked_command_id(command_id))

    @expected
    def mail_facts(self, caller: dict[str, Any], account_id: str, nonce: str | None) -> dict[str, Any] | None:
        """Notifications only: an account's address and name, and the token of its confirmation link
        ``nonce`` while that link is its newest (None: nothing to mail)."""
        who = self.identity.verify(caller)
        if who.user_id != "service:notifications":
            raise PermissionDenied("only the notifications service writes to accounts")
        return self.app.mail_facts(account_id, nonce, self.identity.keys.signer)

    @expected
    def register_staff(
        self, caller: dict[str, Any], payload: dict[str, Any], command_id: str | None = None
    ) -> dict[str, Any]:
        """Admin creates a staff account. payload: {"email", "password", "full_name", "role": "verifier"}"""
        return self.app.register_staff(self.identity.verify(caller), payload, checked_command_id(command_id))

    @expected
    def authenticate(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Check e-mail and password. payload: {"email": "...", "password": "..."}; returns the account."""
        return self.identity.vouch(self.app.authenticate(payload))  # the gateway signs a session on it

    @expected
    def get_account(self, caller: dict[str, Any], account_id: str) -> dict[str, Any]:
        """An account (the caller's own, or any for staff)."""
        return self.app.get_account(self.identity.verify(caller), account_id)

    @expected
    def record_organisation(
        self, caller: dict[str, Any], payload: dict[str, Any], command_id: str | None = None
    ) -> dict[str, Any]:
        """Record the caller's organisation (see contracts.organisations.OrganisationCreate)."""
        # The gateway issues a session naming the organisation on this answer: it carries the registry's proof.
        who = self.identity.verify(caller)
        return self.identity.vouch(self.app.record_organisation(who, payload, checked_command_id(command_id)))

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

    @expected
    def list_organisations(
        self,
        caller: dict[str, Any],
        reporting_status: str | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE,
    ) -> dict[str, Any]:
        """Staff: a page of the directory in id order, filterable by reporting status ("up_to_date", "late",
        "inactive"); pass the page's ``next_cursor`` as ``cursor`` for the next.
        Example: list_organisations(caller, "late", None, 50) -> {"items": [...], "next_cursor": "WyI2ZjFj..."}"""
        who = self.identity.verify(caller)
        if not who.is_staff:
            raise PermissionDenied("only staff list organisations")
        if reporting_status is not None and reporting_status not in STATUSES:
            raise InvalidInput(f"unknown reporting status '{reporting_status}'", field="reporting_status")
        directory = cast(DirectoryProjection, self.directory.projection)
        return queries.list_organisations(self.directory.engine, directory, reporting_status, cursor, limit)

    @event_handler("registry", "organisation.#", handler_type=SERVICE_POOL, requeue_on_error=True)
    def project_directory(self, payload: dict[str, Any]) -> None:
        event = decode(payload, self.identity.keyring)
        if event is not None:
            self.directory.handle(event)

    @event_handler("submissions", "report.overdue.v1", handler_type=SERVICE_POOL, requeue_on_error=True)
    def on_report_overdue(self, payload: dict[str, Any]) -> None:
        """A half-yearly report was not filed in time: the organisation becomes late (or inactive)."""
        event = decode(payload, self.identity.keyring)
        if event is not None:
            with dropped_if_permanent(event):
                self.app.follow_reports(event)

    @event_handler("submissions", "case.accepted.v1", handler_type=SERVICE_POOL, requeue_on_error=True)
    def on_report_accepted(self, payload: dict[str, Any]) -> None:
        """A report was accepted: its period no longer counts as missed."""
        event = decode(payload, self.identity.keyring)
        if event is not None:
            with dropped_if_permanent(event):
                self.app.follow_reports(event)

    @rpc
    def ping(self) -> str:
        """Readiness probe: answers "pong" once the service consumes its queues."""
        return "pong"
