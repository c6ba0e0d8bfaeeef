"""Issued letters: look-up, access rules, and the rendered PDFs stored under var/letters/."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from contracts.errors import Conflict, NotFound
from contracts.identity import Caller, Role
from contracts.organisations import LEGAL_FORM_LABELS
from infra.catalogue import Catalogue
from services.documents.letters import LayoutError, LetterContent, render_letter
from services.documents.projections import LetterProjection

log = logging.getLogger(__name__)
LEGAL_LABELS: dict[str, str] = {form.value: label for form, label in LEGAL_FORM_LABELS.items()}


class LetterArchive:
    def __init__(
        self, engine: sa.Engine, projection: LetterProjection, directory: Path, settings: Any, catalogue: Catalogue
    ) -> None:
        self.engine = engine
        self.letters = projection.letters
        self.directory = directory
        self.settings = settings
        self.region = catalogue.region
        self.catalogue = catalogue
        directory.mkdir(parents=True, exist_ok=True)

    def find(self, **criteria: str) -> dict[str, Any] | None:
        query = sa.select(self.letters)
        for column, value in criteria.items():
            query = query.where(self.letters.c[column] == value)
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return dict(row._mapping) if row else None

    def verification(self, code: str) -> dict[str, Any]:
        """What the public verification page shows (no personal data)."""
        letter = self.find(verification_code=code) if code.isalnum() else None
        if letter is None:
            raise NotFound("no letter with this verification code: it was not issued by this office")
        return {
            "genuine": letter["status"] == "valid",
            "status": letter["status"],
            "number": letter["number"],
            "title": letter["title"],
            "organisation_name": letter["organisation_name"],
            "issued_on": letter["issued_on"].isoformat(),
            "issuer": f"{self.region.office_name} {self.region.name}",
        }

    def pdf_for_case(self, caller: Caller, case_id: str) -> bytes:
        letter = self.find(case_id=case_id)
        if letter is None or (caller.role is Role.APPLICANT and letter["organisation_id"] != caller.organisation_id):
            raise NotFound(f"no letter has been issued for case {case_id}")
        return self.ensure_pdf(letter)

    def ensure_pdf(self, letter: dict[str, Any]) -> bytes:
        path = self.directory / f"{letter['verification_code']}.pdf"
        if path.exists():
            return path.read_bytes()
        try:
            pdf = render_letter(self.content(letter))
        except LayoutError as error:
            # Reported to the office (logged as an error) and never served: the applicant is told it is
            # not ready, staff fix the record or the template, and the next download renders it again.
            log.error("%s", error)
            raise Conflict("the document could not be produced correctly; the office has been told") from None
        # Write then rename: a reader never sees half a PDF, and concurrent renders are harmless.
        fd, temporary = tempfile.mkstemp(dir=self.directory, suffix=".part")
        with os.fdopen(fd, "wb") as handle:
            handle.write(pdf)
        os.replace(temporary, path)
        return pdf

    def content(self, letter: dict[str, Any]) -> LetterContent:
        organisation = letter["organisation"]
        legal_form = organisation.get("legal_form") or ""
        return LetterContent(
            letter_title=letter["title"],
            number=letter["number"],
            issued_on=letter["issued_on"],
            organisation_name=letter["organisation_name"],
            organisation_abbreviation=organisation.get("abbreviation"),
            legal_form=LEGAL_LABELS.get(legal_form, legal_form),
            address=organisation.get("street") or "",
            kelurahan=organisation.get("kelurahan") or "",
            kecamatan=organisation.get("kecamatan") or "",
            chair_name=organisation.get("chair_name") or "",
            verification_url=f"{self.settings.public_base_url.rstrip('/')}/verify/{letter['verification_code']}",
            region_name=self.region.name,
            office_name=self.region.office_name,
            signer_title=self.region.signer_title,
            timezone=self.region.timezone,
            template=letter.get("template") or "letter",
            subject_label=self.subject_label(letter),
            facts=letter.get("facts") or {},
        )

    def subject_label(self, letter: dict[str, Any]) -> str:
        """ "laporan Semester I (Januari–Juni) 2026" for a receipt; nothing for a letter."""
        workflow = self.catalogue.workflow(str(letter.get("service") or ""))
        subject = letter.get("subject")
        if workflow is None or workflow.deadline is None or not subject:
            return ""
        try:
            return f"laporan {workflow.deadline.period(str(subject)).label}"
        except ValueError:
            return f"laporan {subject}"
