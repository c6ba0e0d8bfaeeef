"""Queries on the case read models (work queue, case list, timeline)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from contracts.errors import InvalidInput
from contracts.identity import Caller, Role
from contracts.paging import BAD_CURSOR, DEFAULT_PAGE, decode_cursor, page_of, page_size
from contracts.workflow import Workflow
from infra.catalogue import Catalogue
from services.submissions.projections import RUNNING_NOT_ANNOUNCED, CaseProjection


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
    engine: sa.Engine,
    projection: CaseProjection,
    caller: Caller,
    status: str | None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE,
) -> dict[str, Any]:
    """A page of the cases the caller may see, newest filing first (ties: by id)."""
    cases = projection.cases
    size = page_size(limit)
    query = sa.select(*projection.listed).order_by(cases.c.submitted_at.desc(), cases.c.case_id.desc()).limit(size + 1)
    if caller.role is Role.APPLICANT:
        query = query.where(cases.c.organisation_id == (caller.organisation_id or "-"))
    if status:
        query = query.where(cases.c.status == status)
    if cursor is not None:
        query = query.where(_key(cases.c.submitted_at, cases.c.case_id) < _after(cursor))
    return page_of(_rows(engine, query), size, lambda row: [row["submitted_at"], row["case_id"]])


def work_queue(
    engine: sa.Engine,
    projection: CaseProjection,
    caller: Caller,
    catalogue: Catalogue,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE,
) -> dict[str, Any]:
    """A page of the cases waiting for the caller's role, the longest waiting first (ties: by id).

    One ordered branch per (service, state) the role works on, each reading its own index range, merged:
    the cases waiting are a sliver of all cases, and no branch reads more than a page of them. The branches
    read only the keys their index holds; just the page's rows are then read whole."""
    caller.require(Role.VERIFIER, Role.APPROVER)
    cases = projection.cases
    size = page_size(limit)
    after = _after(cursor) if cursor is not None else None
    branches = []
    for service, state in queue_states(catalogue, caller.role):
        branch = sa.select(cases.c.updated_at, cases.c.case_id).where(
            cases.c.service == service, cases.c.status == state
        )
        if after is not None:
            branch = branch.where(_key(cases.c.updated_at, cases.c.case_id) > after)
        ordered = branch.order_by(cases.c.updated_at, cases.c.case_id).limit(size + 1).subquery()
        branches.append(sa.select(ordered))
    if not branches:
        return page_of([], size, lambda row: [])
    waiting = sa.union_all(*branches).subquery()
    page = sa.select(waiting.c.case_id).order_by(waiting.c.updated_at, waiting.c.case_id).limit(size + 1)
    query = sa.select(*projection.listed).where(cases.c.case_id.in_(page)).order_by(cases.c.updated_at, cases.c.case_id)
    return page_of(_rows(engine, query), size, lambda row: [row["updated_at"], row["case_id"]])


def _key(moment: sa.ColumnElement[Any], case_id: sa.ColumnElement[Any]) -> sa.Tuple:
    return sa.tuple_(moment, case_id)


def _after(cursor: str) -> sa.Tuple:
    """The (moment, case id) a cursor continues after, as SQL values of the columns' types."""
    moment, case_id = decode_cursor(cursor, 2)
    try:
        at = dt.datetime.fromisoformat(moment)
    except ValueError:
        raise InvalidInput(BAD_CURSOR, field="cursor") from None
    if at.tzinfo is None:
        raise InvalidInput(BAD_CURSOR, field="cursor")
    # UTC, as stored (SQLite keeps the UTC wall time without its zone).
    return sa.tuple_(sa.literal(at.astimezone(dt.UTC), sa.DateTime(timezone=True)), sa.literal(case_id, sa.String))


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
        .where(cases.c.service == workflow.key, sa.text(RUNNING_NOT_ANNOUNCED))
        .where(cases.c.submitted_at <= now - dt.timedelta(days=workflow.sla_days))
        .order_by(cases.c.case_id)
        .limit(page)
    )
    if after is not None:
        query = query.where(cases.c.case_id > after)
    with engine.connect() as connection:
        return [str(case_id) for case_id in connection.scalars(query)]
