"""PostgreSQL: a delivered event applied in two waits for the server instead of one per statement.

The live driver's transaction (infra/readmodel.py) is BEGIN with the read model's shared lock, the claim of
the event, each of its writes, and COMMIT: five waits for a case's event, each a trip through the service's
event loop. Here BEGIN, the lock, the claim and the writes go out together in psycopg's pipeline mode and are
answered together; then COMMIT when the claim recorded the event, or ROLLBACK for a duplicate, undoing the
writes made meanwhile (one that failed for repeating the recorded event's, a timeline row, fails nothing).
A projection's writes follow from the event alone, never from what the claim answers, so sending them before
the answer is known changes nothing else: a worker racing on the same event still waits at the claim for the
other's transaction, and then rolls back.
"""

from __future__ import annotations

import contextlib
from typing import Any

import psycopg
import sqlalchemy as sa

Form = tuple[str, Any]  # a statement as the driver takes it: SQL and parameters (infra.statements.driver_form)


def apply_pipelined(connection: sa.Connection, begin: tuple[str, str], claim: Form, writes: list[Form]) -> bool:
    """Run ``begin`` (BEGIN, and the lock), ``claim`` and ``writes`` in one pipeline on ``connection`` (kept in
    autocommit), then COMMIT if the claim returned a row (True), else ROLLBACK (False). Errors come as
    SQLAlchemy's, as they would through it; a connection left in an unknown state is discarded."""
    raw: Any = connection.connection.driver_connection
    claimed = None
    try:
        with raw.pipeline():
            for statement in begin:
                raw.execute(statement)
            claimed = raw.execute(*claim)
            for sql, parameters in writes:
                raw.execute(sql, parameters)
        recorded = claimed.fetchone() is not None
        raw.execute("COMMIT" if recorded else "ROLLBACK")
    except psycopg.Error as error:
        disconnected = connection.dialect.is_disconnect(error, raw, None)  # type: ignore[arg-type]
        if disconnected:
            connection.invalidate()
        else:
            with contextlib.suppress(psycopg.Error):
                raw.execute("ROLLBACK")
            if _answered_duplicate(claimed):
                return False  # a write failed for repeating the recorded event's (a timeline row): no matter
        raise sa.exc.DBAPIError.instance(
            None, None, error, psycopg.Error, connection_invalidated=disconnected, dialect=connection.dialect
        ) from error
    except BaseException:
        connection.invalidate()  # stopped between sending and reading (a timeout, a kill): its state is unknown
        raise
    return recorded


def _answered_duplicate(claimed: psycopg.Cursor[Any] | None) -> bool:
    """The claim was answered before the pipeline failed, and found the event recorded already."""
    if claimed is None or claimed.pgresult is None or claimed.pgresult.status != psycopg.pq.ExecStatus.TUPLES_OK:
        return False
    return claimed.fetchone() is None
