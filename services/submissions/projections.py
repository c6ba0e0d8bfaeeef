"""Case read models: the case list / work queue (one row per case) and the status timeline.

Ordering guard: a case row is only overwritten by an event with a higher aggregate version, so a
late, older event never rolls a case back. Timeline rows are keyed by (case, version).
"""

from __future__ import annotations

import sqlalchemy as sa

from contracts.events import CASE_EVENT_TYPES, IntegrationEvent
from infra.readmodel import processed_events_table
from infra.statements import Insert, Upsert, Write

# The cases the deadlines' sweep may have to announce (a partial index holds just these; the sweep's query
# names the same condition so that the database sees it may use that index).
RUNNING_NOT_ANNOUNCED = "clock = 'running' AND overdue IS NULL"


class CaseProjection:
    name = "submissions.cases"

    def __init__(self) -> None:
        self.metadata = sa.MetaData()
        self.processed = processed_events_table(self.metadata)
        self.cases = sa.Table(
            "cases",
            self.metadata,
            sa.Column("case_id", sa.String(36), primary_key=True),
            sa.Column("reference", sa.String(40), nullable=False),
            sa.Column("service", sa.String(20), nullable=False),
            sa.Column("organisation_id", sa.String(36), nullable=False),
            sa.Column("organisation_name", sa.String(200), nullable=False),
            sa.Column("status", sa.String(30), nullable=False),
            sa.Column("letter_number", sa.String(80)),
            sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("version", sa.Integer, nullable=False),
            # Added with the case kernel (empty on rows of older releases until `satu rebuild`):
            sa.Column("assignee_id", sa.String(64)),  # who holds the case (take / assign)
            sa.Column("assignee_name", sa.String(120)),
            sa.Column("clock", sa.String(10)),  # the service-level clock: running, paused, stopped
            sa.Column("overdue", sa.Boolean),  # past the service level (announced once by case.overdue.v1)
            # Each list reads one index range in its own order, a page at a time (readmodels.py), at any size:
            sa.Index("ix_cases_newest", "submitted_at", "case_id"),  # staff: every case, newest first
            sa.Index("ix_cases_status_newest", "status", "submitted_at", "case_id"),  # … in one status
            sa.Index("ix_cases_organisation_newest", "organisation_id", "submitted_at", "case_id"),  # an applicant's
            sa.Index("ix_cases_waiting", "service", "status", "updated_at", "case_id"),  # a work queue's branch
            # The deadlines' sweep looks only at cases whose clock runs and that were not announced yet.
            sa.Index(
                "ix_cases_running",
                "service",
                "case_id",
                postgresql_where=sa.text(RUNNING_NOT_ANNOUNCED),
                sqlite_where=sa.text(RUNNING_NOT_ANNOUNCED),
            ),
        )
        self.timeline = sa.Table(
            "case_timeline",
            self.metadata,
            sa.Column("case_id", sa.String(36), primary_key=True),
            sa.Column("version", sa.Integer, primary_key=True),
            sa.Column("event_type", sa.String(60), nullable=False),
            sa.Column("status", sa.String(30), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("actor_role", sa.String(20), nullable=False),
            sa.Column("reason", sa.Text),
            sa.Column("note", sa.Text),
        )

        cases = self.cases
        self._record_step = Insert(self.timeline)
        # Insert the case row, or move it forward, in one statement: concurrent workers applying events of
        # the same case cannot interleave between a look and a write.
        self._move_case = Upsert(
            cases,
            [cases.c.case_id],
            update=lambda newer: {
                "status": newer.status,
                "updated_at": newer.updated_at,
                "version": newer.version,
                "letter_number": sa.func.coalesce(newer.letter_number, cases.c.letter_number),
                # A step that names no holder or leaves the clock as it was keeps what is there.
                "assignee_id": sa.func.coalesce(newer.assignee_id, cases.c.assignee_id),
                "assignee_name": sa.func.coalesce(newer.assignee_name, cases.c.assignee_name),
                "clock": sa.func.coalesce(newer.clock, cases.c.clock),
                "overdue": sa.func.coalesce(newer.overdue, cases.c.overdue),
            },
            where=lambda newer: cases.c.version < newer.version,  # an older event never overwrites a newer state
        )
        # The filing may arrive after a later step (a retried delivery): its facts still count.
        self._note_filing = Upsert(
            cases,
            [cases.c.case_id],
            update=lambda filed: {"submitted_at": filed.submitted_at, "reference": filed.reference},
        )

    def handles(self, event_type: str) -> bool:
        return event_type in CASE_EVENT_TYPES

    def writes(self, event: IntegrationEvent) -> list[Write]:
        case = event.case()
        row = {
            "case_id": case.case_id,
            "reference": case.reference,
            "service": case.service,
            "organisation_id": case.organisation_id,
            "organisation_name": case.organisation_name,
            "submitted_at": event.occurred_at,
            "status": case.status,
            "updated_at": event.occurred_at,
            "version": event.aggregate_version,
            "letter_number": case.letter.number if case.letter else None,
            "assignee_id": (case.assignee or {}).get("id"),
            "assignee_name": (case.assignee or {}).get("name"),
            "clock": case.clock,
            "overdue": True if event.event_type == "case.overdue.v1" else None,
        }
        step = {
            "case_id": case.case_id,
            "version": event.aggregate_version,
            "event_type": event.event_type,
            "status": case.status,
            "at": event.occurred_at,
            "actor_role": case.actor_role,
            "reason": case.reason,
            "note": case.note,
        }
        writes: list[Write] = [(self._record_step, step), (self._move_case, row)]
        if event.event_type == "case.submitted.v1":
            writes.append((self._note_filing, row))
        return writes
