"""Queries on the case read models (work queue, case list, timeline)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from contracts.identity import Caller, Role
from contracts.workflow import Workflow
from infra.catalogue import Catalogue
from services.submissions.projections import CaseProjection


# What each staff role works on next.
def queue_states(catalogue: Catalogue, role: Role) -> list[tuple[str, str]]:
    """(service, state) pairs whose cases wait for ``role``, from the region's definitions."""
    return [
        (workflow.key, name)
        for workflow in catalogue.workflows.values()
        for name, state in workflow.states.items()
        if state.queue == role.value
    ]


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


def work_queue(
    engine: sa.Engine, projection: CaseProjection, caller: Caller, catalogue: Catalogue
) -> list[dict[str, Any]]:
    caller.require(Role.VERIFIER, Role.APPROVER)
    cases = projection.cases
    waiting = queue_states(catalogue, caller.role)
    query = (
        sa.select(cases)
        .where(sa.tuple_(cases.c.service, cases.c.status).in_(waiting))
        .order_by(cases.c.updated_at.asc())  # oldest waiting first
        .limit(500)
    )
    return _rows(engine, query)


def timeline(engine: sa.Engine, projection: CaseProjection, case_id: str) -> list[dict[str, Any]]:
    steps = projection.timeline
    query = sa.select(steps).where(steps.c.case_id == case_id).order_by(steps.c.version)
    return _rows(engine, query)


def running_cases(
    engine: sa.Engine,
    projection: CaseProjection,
    workflow: Workflow,
    now: dt.datetime,
    after: str | None,
    page: int = 1000,
) -> list[str]:
    """Ids of ``workflow``'s cases whose clock runs and that were filed long enough ago to be overdue (a
    working day is never shorter than a calendar day), not yet announced, in id order from ``after``."""
    cases = projection.cases
    assert workflow.sla_days is not None
    query = (
        sa.select(cases.c.case_id)
        .where(cases.c.service == workflow.key, cases.c.clock == "running", cases.c.overdue.is_(None))
        .where(cases.c.submitted_at <= now - dt.timedelta(days=workflow.sla_days))
        .order_by(cases.c.case_id)
        .limit(page)
    )
    if after is not None:
        query = query.where(cases.c.case_id > after)
    with engine.connect() as connection:
        return [str(case_id) for case_id in connection.scalars(query)]
