"""Notifications nameko service: e-mails the organisation at the steps of its cases that concern it,
and the reminders of its periodic reports."""

from __future__ import annotations

import logging
from typing import Any

from nameko.events import SERVICE_POOL, event_handler
from nameko.timer import timer

import infra.green  # noqa: F401,I001 - must precede any psycopg import
from contracts.errors import InvalidInput, NotFound
from infra.broker_outage import rpc
from infra.nameko_support import Identity, SettingsProvider, SignedRpcProxy
from infra.readmodel import decode
from infra.settings import Settings
from services.notifications.account_mail import CONFIRMATION_EVENTS, compose_account_mail
from services.notifications.dependencies import Post, Postbox
from services.notifications.messages import Composer, compose_case_mail, compose_reminder_mail

log = logging.getLogger(__name__)


class NotificationsService:
    name = "notifications"

    postbox: Post = Postbox()
    settings: Settings = SettingsProvider()
    identity = Identity("notifications")
    registry = SignedRpcProxy("registry")

    @event_handler("submissions", "case.#", handler_type=SERVICE_POOL, requeue_on_error=True)
    def on_case_event(self, payload: dict[str, Any]) -> None:
        """A step of a case: the organisation is told when the definition words a mail for it."""
        with self.postbox.outbox.guarded():
            self._mail(payload, compose_case_mail)

    @event_handler("submissions", "report.#", handler_type=SERVICE_POOL, requeue_on_error=True)
    def on_reminder(self, payload: dict[str, Any]) -> None:
        """A report due soon, or overdue: the organisation is reminded (each reminder is recorded once)."""
        with self.postbox.outbox.guarded():
            self._mail(payload, compose_reminder_mail)

    def _mail(self, payload: dict[str, Any], compose: Composer) -> None:
        event = decode(payload, self.identity.keyring)
        if event is None:
            return
        outbox = self.postbox.outbox
        # No look whether the event was recorded before: ``record`` finds a duplicate in the same statement
        # that records it (a transaction less per event; a redelivery costs composing the mail, and sends none).
        draft = compose(
            event.event_type, event.data, event.event_id, self.settings.public_base_url, self.postbox.catalogue
        )
        if draft is None:
            outbox.record(event, None)  # no news for the organisation: no address needed
            return
        organisation_id = str(event.data["organisation_id"])
        try:
            address = self.postbox.contacts.address_of(organisation_id, lambda: self._ask_address(organisation_id))
        except (NotFound, InvalidInput):
            # Permanent: retrying cannot make the organisation appear (nor a malformed id valid); requeued, the
            # event would come back forever. Record it, send nothing.
            log.error("no contact for organisation of %s %s; no mail sent", event.event_type, event.event_id)
            outbox.record(event, None)
            return
        mail = draft.to(address)
        if outbox.record(event, mail):
            outbox.send(self.postbox.mailer, event.event_id, mail)

    def _ask_address(self, organisation_id: str) -> str:
        return str(self.registry.get_notification_contact(self.identity.system(), organisation_id)["account_email"])

    @event_handler("registry", "account.#", handler_type=SERVICE_POOL, requeue_on_error=True)
    def on_account_event(self, payload: dict[str, Any]) -> None:
        """A new account's confirmation link, or a notice to an account's owner that its address signed up."""
        with self.postbox.outbox.guarded():
            self._mail_account(payload)

    def _mail_account(self, payload: dict[str, Any]) -> None:
        event = decode(payload, self.identity.keyring)
        if event is None:  # a duplicate is found by ``record``, as in _mail
            return
        nonce = event.data.get("confirmation_nonce")
        if event.event_type in CONFIRMATION_EVENTS and not nonce:
            self.postbox.outbox.record(event, None)  # an account from before confirmation, or staff
            return
        facts = self.registry.mail_facts(self.identity.system(), event.aggregate_id, nonce)
        draft = None if facts is None else compose_account_mail(
            event.event_type, facts, event.event_id, self.settings.public_base_url, self.postbox.catalogue
        )  # fmt: skip
        if draft is None:  # a link asked for again meanwhile, or already used: nothing to mail
            self.postbox.outbox.record(event, None)
            return
        mail = draft.to(facts["email"]) if facts is not None else None
        if mail is not None and self.postbox.outbox.record(event, mail):
            self.postbox.outbox.send(self.postbox.mailer, event.event_id, mail)

    @timer(interval=15)
    def retry_pending_mail(self) -> None:
        with self.postbox.outbox.guarded():
            self.postbox.outbox.send_pending(self.postbox.mailer)

    @rpc
    def ping(self) -> str:
        """Readiness probe: answers "pong" once the service consumes its queues."""
        return "pong"
