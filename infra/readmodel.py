"""Idempotent application of integration events to a SQLAlchemy read model: the live driver of a projection.

Delivery is at least once: each read model records the id of every event it applied in the same
transaction as the change, and skips an event it has seen. A rebuild records instead the position of its log
it applied every event up to (``through_table``, one row per log): a delivery from at or below it is skipped
as seen, so a rebuilt model holds no row per event of its past. Ordering guards (aggregate versions)
live in the projections themselves. A projection only says which rows an event writes (``writes``); this
module applies one delivered event at a time, a rebuild applies a batch of stored ones (infra/replay.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import logging
import time
from collections.abc import Iterator
from typing import Protocol

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError

from contracts.events import IntegrationEvent
from contracts.keys import Keyring
from infra import schema
from infra.merge import Higher, Merge, Take
from infra.outages import Outage
from infra.pipelined import Form, apply_pipelined
from infra.statements import Upsert, Write, driver_form, execute, run, run_all

log = logging.getLogger(__name__)


def decode(payload: object, keyring: Keyring) -> IntegrationEvent | None:
    """The event in a delivered message, or None for a malformed or unauthentic one.

    Such a message can never succeed, so it is logged and dropped instead of being requeued
    forever; anything else a consumer raises is requeued (at-least-once).
    """
    event_id = payload.get("event_id") if isinstance(payload, dict) else None
    try:
        event = IntegrationEvent.model_validate(payload)
    except ValidationError as error:
        log.error("dropped a malformed event %s: %s", event_id, error.errors()[0]["msg"])
        return None
    if not event.is_authentic(keyring):
        log.error("dropped event %s %s: its signature is missing or wrong", event.event_type, event_id)
        return None
    return event


def was_processed(connection: sa.Connection, processed: sa.Table, event_id: str) -> bool:
    return (
        connection.execute(sa.select(processed.c.event_id).where(processed.c.event_id == event_id)).first() is not None
    )


def claim(connection: sa.Connection, processed: sa.Table, event: IntegrationEvent) -> bool:
    """Record ``event`` as applied, unless it was: True when this transaction recorded it (its effect must
    follow in the same transaction, or a duplicate slips through), False for a duplicate: its id recorded, or
    its position at or below the one a rebuild applied its log through. One statement (``INSERT … SELECT …
    ON CONFLICT DO NOTHING RETURNING``) where a look-up and an insert were two: a worker racing on the same
    event waits for the other's transaction and then finds it a duplicate.

    An event without a position was published by a relay of an earlier release, so it lies before any position
    a rebuild of this release applied its log through: once there is one, such an event is a duplicate."""
    return execute(connection, *_claim_of(processed, connection.dialect.name, event)).first() is not None


def _claim_of(processed: sa.Table, dialect: str, event: IntegrationEvent) -> tuple[sa.Executable, dict[str, object]]:
    """The claim of ``event``: its statement and values."""
    values = {**processed_row(event, dt.datetime.now(dt.UTC)), "source": event.source}
    return _claim_statement(processed, dialect), values


@functools.lru_cache(maxsize=64)  # a rebuild's shadow tables come and go: bounded
def _claim_statement(processed: sa.Table, dialect: str) -> sa.Executable:
    """Built once per table (the event's values bound at each run): building it per event cost more than
    running it (infra/statements.py)."""
    through = through_table(processed)
    position = sa.bindparam("position", type_=through.c.position.type)
    rebuilt_past_it = sa.exists().where(
        through.c.source == sa.bindparam("source", type_=through.c.source.type),
        through.c.position >= sa.func.coalesce(position, through.c.position),
    )
    row = sa.select(*(sa.bindparam(column.name, type_=column.type) for column in processed.columns))
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(processed)
    insert = insert.from_select([column.name for column in processed.columns], row.where(~rebuilt_past_it))
    return insert.on_conflict_do_nothing().returning(processed.c.event_id)


def processed_row(event: IntegrationEvent, applied_at: dt.datetime, position: int | None = None) -> dict[str, object]:
    """``event``'s row among those applied: its ``position`` in its log when known (a replay's), else the one it
    was published with."""
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "applied_at": applied_at,
        "position": event.position if position is None else position,
    }


def processed_events_table(metadata: sa.MetaData, name: str = "processed_events") -> sa.Table:
    """The events a read model has applied, each by its id, and beside it (``through_table``) the position of
    its log a rebuild applied every event up to. Two read models in one database need a table each (``name``):
    each is rebuilt, checked and deduplicated on its own."""
    sa.Table(
        f"{name}_through",
        metadata,
        sa.Column("source", sa.String(40), primary_key=True),  # the log's name (an event's ``source``)
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    return sa.Table(
        name,
        metadata,
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("event_type", sa.String(80), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        # Where the event lies in its log, when known (added with ``through_table``; older rows have none).
        sa.Column("position", sa.BigInteger),
    )


def through_table(processed: sa.Table) -> sa.Table:
    """The table beside ``processed`` holding, per log, the position a rebuild applied every event through."""
    return processed.metadata.tables[f"{processed.name}_through"]


@functools.lru_cache(maxsize=64)  # a rebuild's shadow tables come and go: bounded
def _raise_through(through: sa.Table) -> Upsert:
    """The position recorded, or raised: never lowered."""
    return Upsert(through, [through.c.source], merge=Merge((Take(("position",), when=Higher("position")),)))


def record_applied_through(connection: sa.Connection, projection: Projection, source: str, position: int) -> None:
    """Record that ``projection`` has applied every event of log ``source`` up to ``position`` (inside the
    transaction that applied the last of them); a lower position than the one recorded changes nothing."""
    run(connection, _raise_through(through_table(projection.processed)), {"source": source, "position": position})


def applied_through(connection: sa.Connection, projection: Projection, source: str) -> int:
    """The position of log ``source`` that ``projection`` has applied every event through (0: none recorded)."""
    through = through_table(projection.processed)
    found = connection.execute(sa.select(through.c.position).where(through.c.source == source)).scalar()
    return int(found or 0)


class Projection(Protocol):
    """Event -> rows: ``writes`` lists the statements an event runs, in order, with its values (statements
    built once, infra/statements.py); nothing else, so that the same projection is driven live (here: one event
    per transaction, after the dedup check) and by a rebuild (infra/replay.py: a batch of events per
    transaction, each statement run once for the whole batch with every event's values, in log order).

    For the two to agree: a batch runs each statement for all its events before the next statement (in the
    order the statements first come), so a statement may rely on what an earlier one did for the same event,
    and must not be affected by what an earlier one does for a later event (another table, other columns).

    A projection may declare ``version = N`` (default 1): raise it for a schema change that is not purely
    additive, and ``satu upgrade`` rebuilds the tables beside the old ones and switches (infra/schema.py).
    """

    name: str
    metadata: sa.MetaData
    processed: sa.Table

    def handles(self, event_type: str) -> bool: ...

    def writes(self, event: IntegrationEvent) -> list[Write]: ...


class ReadModel:
    """A projection bound to the database it writes to."""

    def __init__(self, projection: Projection, engine: sa.Engine) -> None:
        self.projection = projection
        self.engine = engine
        self.outage = Outage(f"the database of {projection.name}", log)
        with engine.begin() as connection:
            schema.prepare(projection, connection)
        self._begin_statements = ("BEGIN", _SHARED_LOCK_SQL.format(key=lock_key(projection)))
        self._begin_locked = "; ".join(self._begin_statements)

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    @engine.setter
    def engine(self, engine: sa.Engine) -> None:
        self._engine = engine
        # PostgreSQL: each event's transaction is begun by hand, with its shared lock (see _apply_once).
        self._begun_by_hand = engine.execution_options(isolation_level="AUTOCOMMIT")

    def close(self) -> None:
        self.engine.dispose()

    def lock_exclusively(self, connection: sa.Connection) -> None:
        """Stop live consumers from writing until ``connection``'s transaction ends (rebuild, check)."""
        lock_exclusively(connection, self.projection)

    def handle(self, event: IntegrationEvent, writes: list[Write] | None = None, attempts: int = 5) -> bool:
        """Apply ``event`` once; returns False if it was applied before (a duplicate delivery).

        ``writes``, when given, are what applying it means instead of the projection's (the mail outbox
        records a mail composed beforehand); they run in the same transaction as the dedup record."""
        if not self.projection.handles(event.event_type):
            return False
        for attempt in range(attempts):
            try:
                applied = self._apply_once(event, writes)
            except OperationalError as error:
                if not self._reachable():
                    # Down (not merely busy): give the message back to the broker, after a pause that
                    # grows while the outage lasts (one line in the log, not one per delivery).
                    time.sleep(self.outage.failed(error))
                    raise
                # SQLite: another writer (a rebuild's swap) held the database; our snapshot is stale.
                time.sleep(0.05 * (attempt + 1))
            except IntegrityError:
                # Two events of one aggregate raced to create the same row (the same event twice cannot: ``claim``
                # waits for the other worker and finds it a duplicate). Retry: the loser then sees the winner's
                # row and the version guard orders them.
                continue
            else:
                self.outage.succeeded()
                return applied
        raise RuntimeError(f"{self.projection.name}: could not apply {event.event_id} after {attempts} attempts")

    @contextlib.contextmanager
    def guarded(self) -> Iterator[None]:
        """Work on this read model's database outside ``handle`` (the mail outbox sending, a timer): when
        the database is down, pause with the outage's growing backoff before the error goes on (the message
        back to the broker), one log line per outage instead of a retry loop."""
        try:
            yield
        except OperationalError as error:
            if not self._reachable():
                time.sleep(self.outage.failed(error))
            raise
        else:
            self.outage.succeeded()

    def _reachable(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except OperationalError:
            return False
        return True

    def _apply_once(self, event: IntegrationEvent, writes: list[Write] | None) -> bool:
        writes = self.projection.writes(event) if writes is None else writes
        if self.engine.dialect.name != "postgresql":
            with self.engine.begin() as connection:
                return apply_once(connection, self.projection, event, writes)
        forms = self._driver_forms(event, writes)
        if forms is None:  # a write SQLAlchemy must run itself
            with self._locked_transaction() as connection:
                return apply_once(connection, self.projection, event, writes)
        with self._begun_by_hand.connect() as connection:
            applied = apply_pipelined(connection, self._begin_statements, forms[0], forms[1:])
        if not applied:
            _skipped(self.projection, event)
        return applied

    def _driver_forms(self, event: IntegrationEvent, writes: list[Write]) -> list[Form] | None:
        """The claim of ``event`` and ``writes`` as the driver takes them (None: one cannot go that way)."""
        dialect = self.engine.dialect
        statements = [_claim_of(self.projection.processed, dialect.name, event), *writes]
        forms = [driver_form(dialect, statement, values) for statement, values in statements]
        return None if None in forms else forms  # type: ignore[return-value]

    @contextlib.contextmanager
    def _locked_transaction(self) -> Iterator[sa.Connection]:
        """PostgreSQL: a transaction holding the read model's shared lock, begun and ended by hand.

        Consumers share the lock; a rebuild's swap or an upgrade takes it exclusively. It is taken first,
        before any table is touched: an upgrade holding it drops the tables, and a consumer holding a table
        lock while it waited for this one would deadlock with it. BEGIN and the lock go as one query without
        parameters, on a connection psycopg keeps in autocommit (so it sends no BEGIN of its own, a round trip
        more per event), and COMMIT or ROLLBACK are sent here too, not left to SQLAlchemy, which thinks a
        commit in autocommit has no effect."""
        with self._begun_by_hand.connect() as connection:
            try:
                connection.exec_driver_sql(self._begin_locked)
                yield connection
            except BaseException:
                with contextlib.suppress(sa.exc.SQLAlchemyError):  # a connection that died has no transaction
                    connection.exec_driver_sql("ROLLBACK")
                raise
            connection.exec_driver_sql("COMMIT")

    def apply_in(self, connection: sa.Connection, event: IntegrationEvent) -> bool:
        """Apply ``event`` once inside the caller's transaction."""
        return apply_once(connection, self.projection, event)

    def seen(self, event_id: str, connection: sa.Connection | None = None) -> bool:
        if connection is not None:
            return was_processed(connection, self.projection.processed, event_id)
        with self.engine.connect() as fresh:
            return was_processed(fresh, self.projection.processed, event_id)


def apply_once(
    connection: sa.Connection, projection: Projection, event: IntegrationEvent, writes: list[Write] | None = None
) -> bool:
    """Apply ``event`` to ``projection`` inside the caller's transaction, unless it was applied before
    (``writes``: instead of the projection's)."""
    if not projection.handles(event.event_type):
        return False
    if not claim(connection, projection.processed, event):
        _skipped(projection, event)
        return False
    run_all(connection, projection.writes(event) if writes is None else writes)
    return True


def _skipped(projection: Projection, event: IntegrationEvent) -> None:
    log.info("%s: skipped duplicate %s %s", projection.name, event.event_type, event.event_id)


_SHARED_LOCK_SQL = "SELECT pg_advisory_xact_lock_shared({key})"  # the key: an integer (lock_key)
_EXCLUSIVE_LOCK = sa.text("SELECT pg_advisory_xact_lock(:key)")


def lock_key(projection: schema.Versioned) -> int:
    return int.from_bytes(hashlib.sha256(projection.name.encode()).digest()[:8], "big", signed=True)


def lock_exclusively(connection: sa.Connection, projection: Projection) -> None:
    """Stop live consumers of ``projection`` from writing until ``connection``'s transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(_EXCLUSIVE_LOCK, {"key": lock_key(projection)})
    else:
        # SQLite has one writer at a time: a (no-op) write takes that place for the transaction (and opens
        # it, so that DDL after it is part of the same transaction).
        schema.ensure_versions_table(connection)
        connection.execute(schema.versions.delete().where(sa.false()))
