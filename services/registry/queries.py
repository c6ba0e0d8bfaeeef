"""Queries on the organisation directory: keyset pages in id order (no OFFSET scans at national scale)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from contracts.errors import InvalidInput
from contracts.paging import BAD_CURSOR, DEFAULT_PAGE, decode_cursor, page_of, page_size
from services.registry.projections import DirectoryProjection


def list_organisations(
    engine: sa.Engine,
    directory: DirectoryProjection,
    reporting_status: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE,
) -> dict[str, Any]:
    """A page of recorded organisations in id order, continuing after ``cursor``; no personal data is kept here."""
    table = directory.organisations
    size = page_size(limit)
    query = sa.select(table).where(table.c.name.is_not(None)).order_by(table.c.organisation_id).limit(size + 1)
    if reporting_status is not None:
        query = query.where(table.c.reporting_status == reporting_status)
    if cursor is not None:
        (after,) = decode_cursor(cursor, 1)
        try:
            uuid.UUID(after)
        except ValueError:
            raise InvalidInput(BAD_CURSOR, field="cursor") from None
        query = query.where(table.c.organisation_id > after)
    with engine.connect() as connection:
        rows = [_row(dict(row._mapping)) for row in connection.execute(query)]
    return page_of(rows, size, lambda row: [row["organisation_id"]])


def _row(row: dict[str, Any]) -> dict[str, Any]:
    recorded_at = row["recorded_at"]
    if isinstance(recorded_at, dt.datetime):
        row["recorded_at"] = (recorded_at if recorded_at.tzinfo else recorded_at.replace(tzinfo=dt.UTC)).isoformat()
    row["missed_periods"] = row["missed_periods"].split()
    return row
