"""Documents nameko service: issues letters on approval, serves them, verifies them publicly."""

from __future__ import annotations

import base64
import logging
from typing import Any

from nameko.events import SERVICE_POOL, event_handler

import infra.green  # noqa: F401,I001 - must precede any psycopg import
from contracts.errors import EXPECTED_ERRORS
from infra.broker_outage import rpc
from infra.nameko_support import Identity
from infra.readmodel import decode
from services.documents.dependencies import LetterOffice, Office

expected = rpc(expected_exceptions=EXPECTED_ERRORS)


log = logging.getLogger(__name__)


class DocumentsService:
    name = "documents"

    office: Office = LetterOffice()
    identity = Identity("documents")

    @event_handler("submissions", "case.approved.v1", handler_type=SERVICE_POOL, requeue_on_error=True)
    def issue_letter(self, payload: dict[str, Any]) -> None:
        """An SKM approval: record the letter, render its PDF."""
        self._issue(payload)

    @event_handler("submissions", "case.accepted.v1", handler_type=SERVICE_POOL, requeue_on_error=True)
    def issue_receipt(self, payload: dict[str, Any]) -> None:
        """A report's acceptance: record the receipt (tanda terima), render its PDF."""
        self._issue(payload)

    def _issue(self, payload: dict[str, Any]) -> None:
        event = decode(payload, self.identity.keyring)
        if event is None:
            return
        self.office.read_model.handle(event)
        letter = self.office.archive.find(case_id=event.aggregate_id)
        if letter is None:
            return
        try:
            self.office.archive.ensure_pdf(letter)
        except Exception:  # the PDF is a cache rendered again on download; never requeue for it
            log.exception("letter %s recorded but its PDF was not rendered yet", letter["number"])

    @expected
    def get_letter_pdf(self, caller: dict[str, Any], case_id: str) -> dict[str, str]:
        """The issued letter of a case as {"filename": "...pdf", "content_base64": "..."}."""
        pdf = self.office.archive.pdf_for_case(self.identity.verify(caller), case_id)
        letter = self.office.archive.find(case_id=case_id) or {}
        filename = str(letter.get("number", case_id)).replace("/", "-") + ".pdf"
        return self.identity.vouch({"filename": filename, "content_base64": base64.b64encode(pdf).decode()})

    @expected
    def verify_letter(self, code: str) -> dict[str, Any]:
        """Public: is the letter with this verification code genuine? (no caller needed)"""
        return self.identity.vouch(self.office.archive.verification(code))  # the public page vouches on it

    @rpc
    def ping(self) -> str:
        """Readiness probe: answers "pong" once the service consumes its queues."""
        return "pong"
