"""Issued documents read model: one row per numbered letter or receipt, fed by the case events that issue
one (an SKM approval, a report's acceptance); rebuildable.

The PDF itself is a cache next to it: rendered when the letter is recorded, and again on demand
if the file is missing (after a rebuild, or a crash between commit and render).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from contracts.events import IntegrationEvent
from infra.readmodel import processed_events_table
from infra.statements import Insert, Write

# The case events that issue a numbered document (the definitions' issuing steps).
ISSUING_EVENTS = ("case.approved.v1", "case.accepted.v1")


class LetterProjection:
    name = "documents.letters"

    def __init__(self) -> None:
        self.metadata = sa.MetaData()
        self.processed = processed_events_table(self.metadata)
        self.letters = sa.Table(
            "letters",
            self.metadata,
            sa.Column("verification_code", sa.String(32), primary_key=True),
            sa.Column("case_id", sa.String(36), nullable=False, unique=True),
            sa.Column("case_reference", sa.String(40), nullable=False),
            sa.Column("number", sa.String(80), nullable=False, unique=True),
            sa.Column("title", sa.String(120), nullable=False),
            sa.Column("issued_on", sa.Date, nullable=False),
            sa.Column("organisation_id", sa.String(36), nullable=False, index=True),
            sa.Column("organisation_name", sa.String(200), nullable=False),
            sa.Column("organisation", sa.JSON, nullable=False),
            sa.Column("status", sa.String(20), nullable=False),
            # Added with the case kernel (empty on rows of older releases until `satu rebuild`):
            sa.Column("service", sa.String(40)),
            sa.Column("template", sa.String(40)),
            sa.Column("subject", sa.String(40)),
            sa.Column("facts", sa.JSON),  # what the document states of the case's form (a report's content)
        )
        self._issue = Insert(self.letters)

    def handles(self, event_type: str) -> bool:
        return event_type in ISSUING_EVENTS

    def writes(self, event: IntegrationEvent) -> list[Write]:
        return [(self._issue, self.row_for(event))]

    def row_for(self, event: IntegrationEvent) -> dict[str, Any]:
        case = event.case()
        if case.letter is None:
            raise ValueError(f"{event.event_type} {event.event_id} carries no letter")
        return dict(
            verification_code=case.letter.verification_code,
            case_id=case.case_id,
            case_reference=case.reference,
            number=case.letter.number,
            title=case.letter.title,
            issued_on=case.letter.issued_on,
            organisation_id=case.organisation_id,
            organisation_name=case.organisation_name,
            organisation=case.organisation or {},
            status="valid",
            service=case.service,
            template=case.letter.template or "letter",
            subject=case.subject,
            facts=case.letter.facts,
        )
