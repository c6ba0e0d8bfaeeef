"""PostgreSQL: a delivered event applied in two waits for the server instead of one per statement.

The live driver's transaction (infra/readmodel.py) is BEGIN with the read model's shared lock, the claim of
the event, each of its writes, and COMMIT: five waits for a case's event, each a trip through the service's
event loop. Here they go in psycopg's pipeline mode, in two parts: BEGIN, the lock and the claim, answered
together; then, when the claim recorded the event, its writes and COMMIT, answered together (a duplicate is
rolled back, having written nothing). A worker racing on the same event still waits at the claim for the
other's transaction, then finds it a duplicate. A worker stopped while the second part is under way (a kill,
a timeout) stops, and its connection is discarded; the server, which has the whole transaction, may still
commit it, and the event's next delivery then finds it applied.

Statements in a pipeline are never prepared: psycopg prepares a statement on its fifth run, and one whose
preparing sat behind a failed statement in a pipeline would be taken as prepared while the server never made
it, failing every later use on that connection.
"""

from __future__ import annotations

from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import pq

Form = tuple[str, Any]  # a statement as the driver takes it: SQL and parameters (infra.statements.driver_form)


def apply_pipelined(connection: sa.Connection, begin: tuple[str, str], claim: Form, writes: list[Form]) -> bool:
    """Run ``begin`` (BEGIN, and the lock) and ``claim``; if the claim returned a row, ``writes`` and COMMIT
    (True), else ROLLBACK (False); on ``connection``, kept in autocommit. Errors come as SQLAlchemy's, as they
    would through it; a connection left in an unknown state is discarded."""
    raw: Any = connection.connection.driver_connection
    try:
        with raw.pipeline():
            for statement in begin:
                raw.execute(statement, prepare=False)
            claimed = raw.execute(*claim, prepare=False)
        if claimed.fetchone() is None:
            raw.execute("ROLLBACK", prepare=False)
            return False
        with raw.pipeline():
            for sql, parameters in writes:
                raw.execute(sql, parameters, prepare=False)
            raw.execute("COMMIT", prepare=False)
        return True
    except psycopg.Error as error:
        _recover(connection, raw, error)
        raise sa.exc.DBAPIError.instance(
            None,
            None,
            error,
            psycopg.Error,
            connection_invalidated=connection.invalidated,
            dialect=connection.dialect,
        ) from error
    except BaseException:
        connection.invalidate()  # stopped between sending and reading (a timeout, a kill): its state is unknown
        raise


def _recover(connection: sa.Connection, raw: Any, error: psycopg.Error) -> None:
    """After ``error``: the transaction rolled back and the connection usable again, or discarded (with the
    pool's other connections, for a lost server, as SQLAlchemy does). Re-raises a kill or a timeout that
    psycopg replaced with an error of its own while it left pipeline mode."""
    interrupted = _interruption(error)
    if interrupted is not None:
        connection.invalidate()
        raise interrupted
    if connection.dialect.is_disconnect(error, raw, None):  # type: ignore[arg-type]
        connection.engine.pool._invalidate(connection.connection, error)  # noqa: SLF001 - as SQLAlchemy does
        connection.invalidate()
        return
    in_pipeline = raw.pgconn.pipeline_status != pq.PipelineStatus.OFF
    if in_pipeline or raw.info.transaction_status not in _ROLLS_BACK:
        connection.invalidate()  # a ROLLBACK could wait for ever (no Sync in pipeline mode), or the state is unknown
        return
    try:
        raw.execute("ROLLBACK", prepare=False)
    except psycopg.Error:
        connection.invalidate()  # it could not even roll back: discarded; the first error is the one to tell
        return
    except BaseException:
        connection.invalidate()
        raise
    if raw.info.transaction_status != pq.TransactionStatus.IDLE:
        connection.invalidate()


_ROLLS_BACK = (pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR, pq.TransactionStatus.IDLE)


def _interruption(error: psycopg.Error) -> BaseException | None:
    """A BaseException that is not an Exception (GreenletExit, eventlet's Timeout, KeyboardInterrupt) that
    psycopg's own errors stand in front of, if any (not one the caller was already handling)."""
    seen = error.__context__
    while isinstance(seen, psycopg.Error):
        seen = seen.__context__
    return seen if seen is not None and not isinstance(seen, Exception) else None
