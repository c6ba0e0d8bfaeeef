"""Queries on the case read models (work queue, case list, timeline)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from contracts.identity import Caller, Role
from services.submissions.projections import CaseProjection

# What each staff role works on next.
QUEUE_STATUSES = {
    Role.VERIFIER: ("submitted", "resubmitted"),
    Role.APPROVER: ("forwarded",),
}


def _rows(engine: sa.Engine, query: sa.Select[Any]) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [_plain(dict(row._mapping)) for row in connection.execute(query)]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {key: _plain_value(value) for key, value in row.items()}


def _plain_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        # SQLite hands back naive values; everything is stored in UTC.
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    return value


def list_cases(
    engine: sa.Engine, projection: CaseProjection, caller: Caller, status: str | None
) -> list[dict[str, Any]]:
    cases = projection.cases
    query = sa.select(cases).order_by(cases.c.submitted_at.desc()).limit(500)
    if caller.role is Role.APPLICANT:
        query = query.where(cases.c.organisation_id == (caller.organisation_id or "-"))
    if status:
        query = query.where(cases.c.status == status)
    return _rows(engine, query)


def work_queue(engine: sa.Engine, projection: CaseProjection, caller: Caller) -> list[dict[str, Any]]:
    caller.require(Role.VERIFIER, Role.APPROVER)
    cases = projection.cases
    query = (
        sa.select(cases)
        .where(cases.c.status.in_(QUEUE_STATUSES[caller.role]))
        .order_by(cases.c.updated_at.asc())  # oldest waiting first
        .limit(500)
    )
    return _rows(engine, query)


def timeline(engine: sa.Engine, projection: CaseProjection, case_id: str) -> list[dict[str, Any]]:
    steps = projection.timeline
    query = sa.select(steps).where(steps.c.case_id == case_id).order_by(steps.c.version)
    return _rows(engine, query)
