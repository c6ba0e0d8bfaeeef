"""Case read models: the case list / work queue (one row per case) and the status timeline.

A case's events may be applied in any order (several consumer workers, a retried delivery, a rebuild by
position ranges) and its row ends as if they came in order: each group of columns moves only with an event
newer than the one that last set it (its own version column), and only with an event that sets it — so a
step that names no holder, applied before the older `take` that named one, neither clears the holder nor
keeps the take out. Timeline rows are keyed by (case, version).
"""

from __future__ import annotations

import sqlalchemy as sa

from contracts.events import CASE_EVENT_TYPES, IntegrationEvent
from infra.merge import Higher, Kept, Lower, Merge, Take
from infra.readmodel import processed_events_table
from infra.statements import Insert, Upsert, Write

# Groups of columns that move together, each with the newest event that sets them, and the column holding
# that event's version (an event that does not set a group leaves its version column NULL in its row).
LATEST = {
    "version": ("status", "updated_at"),  # every event moves the case
    "assignee_version": ("assignee_id", "assignee_name"),  # take / assign
    "letter_version": ("letter_number",),  # an issuing step
    "clock_version": ("clock",),  # an opening, a step that started, paused or stopped the clock
}

# How an event's row meets the stored one: each group of columns moves with the latest event that sets it (a NULL
# version: the event does not set it), submitted_at comes from the event of lowest rank, and a case announced
# overdue stays so whichever event comes last.
MOVES = Merge(
    (
        *(Take((version, *columns), when=Higher(version)) for version, columns in LATEST.items()),
        Take(("submitted_at", "submitted_rank"), when=Lower("submitted_rank")),
        Kept(("overdue",)),
    )
)

# The cases the deadlines' sweep may have to announce (a partial index holds just these; the sweep's query
# names the same condition so that the database sees it may use that index).
RUNNING_NOT_ANNOUNCED = "clock = 'running' AND overdue IS NULL"


class CaseProjection:
    name = "submissions.cases"
    # 2: each group of columns carries the version of the event that set it (LATEST). Rows of version 1 cannot
    # tell it, and some lost their holder to the order their events came in: `satu upgrade` rebuilds them.
    version = 2

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
            # The version of the event each group was set by (LATEST), and which event submitted_at came from.
            sa.Column("assignee_version", sa.Integer),
            sa.Column("letter_version", sa.Integer),
            sa.Column("clock_version", sa.Integer),
            sa.Column("submitted_rank", sa.Integer),  # see _submitted_rank
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

        # What a list shows of a case: all but the versions that order its columns' moves.
        ordering = {"submitted_rank", *(version for version in LATEST if version != "version")}
        self.listed = [column for column in self.cases.columns if column.name not in ordering]

        self._record_step = Insert(self.timeline)
        # Insert the case row, or move it forward, in one statement: concurrent workers applying events of
        # the same case cannot interleave between a look and a write. In SET, every column reads the row as it
        # was, so the groups move independently.
        self._move_case = Upsert(self.cases, [self.cases.c.case_id], merge=MOVES)

    def handles(self, event_type: str) -> bool:
        return event_type in CASE_EVENT_TYPES

    def writes(self, event: IntegrationEvent) -> list[Write]:
        case = event.case()
        version = event.aggregate_version
        row = {
            "case_id": case.case_id,
            "reference": case.reference,
            "service": case.service,
            "organisation_id": case.organisation_id,
            "organisation_name": case.organisation_name,
            "submitted_at": event.occurred_at,
            "submitted_rank": _submitted_rank(event),
            "status": case.status,
            "updated_at": event.occurred_at,
            "version": version,
            "letter_number": case.letter.number if case.letter else None,
            "letter_version": version if case.letter else None,
            "assignee_id": (case.assignee or {}).get("id"),
            "assignee_name": (case.assignee or {}).get("name"),
            "assignee_version": version if case.assignee else None,
            "clock": case.clock,
            "clock_version": version if case.clock else None,
            "overdue": True if event.event_type == "case.overdue.v1" else None,
        }
        step = {
            "case_id": case.case_id,
            "version": version,
            "event_type": event.event_type,
            "status": case.status,
            "at": event.occurred_at,
            "actor_role": case.actor_role,
            "reason": case.reason,
            "note": case.note,
        }
        return [(self._record_step, step), (self._move_case, row)]


def _submitted_rank(event: IntegrationEvent) -> int:
    """submitted_at is the time of the event of lowest rank: the filing (``case.submitted.v1``, the latest one
    if ever there were two), else the case's first event (a report's draft is dated by its opening until
    it is sent)."""
    return -event.aggregate_version if event.event_type == "case.submitted.v1" else event.aggregate_version
