"""Queries on the organisation directory: keyset-paged lists (no OFFSET scans at national scale)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from services.registry.projections import DirectoryProjection


def list_organisations(
    engine: sa.Engine,
    directory: DirectoryProjection,
    reporting_status: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Organisations in id order, from just after ``after``; no personal data is kept here."""
    table = directory.organisations
    query = sa.select(table).where(table.c.name.is_not(None)).order_by(table.c.organisation_id).limit(limit)
    if reporting_status is not None:
        query = query.where(table.c.reporting_status == reporting_status)
    if after is not None:
        query = query.where(table.c.organisation_id > after)
    with engine.connect() as connection:
        return [_row(dict(row._mapping)) for row in connection.execute(query)]


def _row(row: dict[str, Any]) -> dict[str, Any]:
    recorded_at = row["recorded_at"]
    if isinstance(recorded_at, dt.datetime):
        row["recorded_at"] = (recorded_at if recorded_at.tzinfo else recorded_at.replace(tzinfo=dt.UTC)).isoformat()
    row["missed_periods"] = row["missed_periods"].split()
    return row
