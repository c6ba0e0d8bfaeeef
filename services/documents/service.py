"""Documents nameko service: issues letters on approval, serves them, verifies them publicly."""

from __future__ import annotations

import infra.green  # noqa: F401,I001 - must precede any psycopg import

import base64
from typing import Any

from nameko.events import SERVICE_POOL, event_handler
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from contracts.errors import EXPECTED_ERRORS
from contracts.events import IntegrationEvent
from infra.nameko_support import Identity, ReadModelProvider
from infra.readmodel import ReadModel
from infra.settings import load_settings
from services.documents.archive import LetterArchive
from services.documents.projections import LetterProjection

expected = rpc(expected_exceptions=EXPECTED_ERRORS)


class ArchiveProvider(DependencyProvider):
    def __init__(self, read_model: ReadModelProvider) -> None:
        self.read_model_provider = read_model

    def setup(self) -> None:
        settings = load_settings()
        read_model = self.read_model_provider.read_model
        self.archive = LetterArchive(
            read_model.engine, read_model.projection, settings.var_dir / "letters", settings  # type: ignore[arg-type]
        )

    def get_dependency(self, worker_ctx: Any) -> LetterArchive:
        return self.archive


_letters_model = ReadModelProvider(LetterProjection, "documents")


class DocumentsService:
    name = "documents"

    letters: ReadModel = _letters_model  # type: ignore[assignment]
    archive: LetterArchive = ArchiveProvider(_letters_model)  # type: ignore[assignment]
    identity = Identity("documents")

    @event_handler("submissions", "case.approved.v1", handler_type=SERVICE_POOL, requeue_on_error=True)
    def issue_letter(self, payload: dict[str, Any]) -> None:
        event = IntegrationEvent.model_validate(payload)
        self.letters.handle(event)
        letter = self.archive.find(case_id=event.aggregate_id)
        if letter is not None:
            self.archive.ensure_pdf(letter)

    @expected
    def get_letter_pdf(self, caller: dict[str, Any], case_id: str) -> dict[str, str]:
        """The issued letter of a case as {"filename": "...pdf", "content_base64": "..."}."""
        pdf = self.archive.pdf_for_case(self.identity.verify(caller), case_id)
        letter = self.archive.find(case_id=case_id) or {}
        filename = str(letter.get("number", case_id)).replace("/", "-") + ".pdf"
        return {"filename": filename, "content_base64": base64.b64encode(pdf).decode()}

    @expected
    def verify_letter(self, code: str) -> dict[str, Any]:
        """Public: is the letter with this verification code genuine? (no caller needed)"""
        return self.archive.verification(code)
