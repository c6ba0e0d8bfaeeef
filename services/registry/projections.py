"""The organisation directory: one row per recorded organisation with its reporting status
(rebuildable from the registry's own events). Staff lists and the reminders' sweep read it.

Ordering guard: a row only moves forward (a higher aggregate version); the recording's own facts are
kept even if its event arrives after a later one.
"""

from __future__ import annotations

import sqlalchemy as sa

from contracts.events import IntegrationEvent
from infra.merge import Higher, Merge, Take
from infra.readmodel import processed_events_table
from infra.statements import Upsert, Write

HANDLED = ("organisation.recorded.v1", "organisation.compliance_changed.v1")
FACTS = ("name", "abbreviation", "legal_form", "kecamatan", "kelurahan", "recorded_at")  # of the recording


class DirectoryProjection:
    name = "registry.organisations"

    def __init__(self) -> None:
        self.metadata = sa.MetaData()
        self.processed = processed_events_table(self.metadata)
        self.organisations = sa.Table(
            "organisations",
            self.metadata,
            sa.Column("organisation_id", sa.String(36), primary_key=True),
            sa.Column("name", sa.String(200)),
            sa.Column("abbreviation", sa.String(30)),
            sa.Column("legal_form", sa.String(40)),
            sa.Column("kecamatan", sa.String(80)),
            sa.Column("kelurahan", sa.String(80)),
            sa.Column("recorded_at", sa.DateTime(timezone=True)),
            sa.Column("reporting_status", sa.String(20), nullable=False, index=True),
            sa.Column("missed_periods", sa.String(400), nullable=False),
            sa.Column("version", sa.Integer, nullable=False),
            # Keyset pages of one status ("who is inactive?") without scanning the others.
            sa.Index("ix_organisations_status_id", "reporting_status", "organisation_id"),
        )

        organisations = self.organisations
        # The recording's facts always count (even arriving after a later change); its status never
        # overwrites a later change.
        self._record = Upsert(organisations, [organisations.c.organisation_id], merge=Merge((Take(FACTS),)))
        # A change of reporting status only moves forward (a higher aggregate version).
        self._change_status = Upsert(
            organisations,
            [organisations.c.organisation_id],
            merge=Merge((Take(("reporting_status", "missed_periods", "version")),), only_if=Higher("version")),
        )

    def handles(self, event_type: str) -> bool:
        return event_type in HANDLED

    def writes(self, event: IntegrationEvent) -> list[Write]:
        data = event.data
        if event.event_type == "organisation.recorded.v1":
            facts = {
                "name": data["name"],
                "abbreviation": data.get("abbreviation"),
                "legal_form": data["legal_form"],
                "kecamatan": data["kecamatan"],
                "kelurahan": data["kelurahan"],
                "recorded_at": event.occurred_at,
            }
            first = {"reporting_status": "up_to_date", "missed_periods": "", "version": event.aggregate_version}
            return [(self._record, {"organisation_id": event.aggregate_id, **first, **facts})]
        missed = data["missed_periods"]
        assert isinstance(missed, list)  # checked by the event's contract (ComplianceChangedV1)
        change = {
            "organisation_id": event.aggregate_id,
            "reporting_status": str(data["status"]),
            "missed_periods": " ".join(str(period) for period in missed),
            "version": event.aggregate_version,
        }
        return [(self._change_status, change)]
