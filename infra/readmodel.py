"""Idempotent application of integration events to a SQLAlchemy read model.

Delivery is at least once: each read model records the id of every event it applied in the same
transaction as the change, and skips an event it has seen. Ordering guards (aggregate versions)
live in the projections themselves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from typing import Protocol

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError

from contracts.events import IntegrationEvent
from infra.storage import create_tables

log = logging.getLogger(__name__)


def decode(payload: object, secret: str) -> IntegrationEvent | None:
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
    if not event.is_authentic(secret):
        log.error("dropped event %s %s: its signature is missing or wrong", event.event_type, event_id)
        return None
    return event


def was_processed(connection: sa.Connection, processed: sa.Table, event_id: str) -> bool:
    return (
        connection.execute(sa.select(processed.c.event_id).where(processed.c.event_id == event_id)).first() is not None
    )


def mark_processed(connection: sa.Connection, processed: sa.Table, event: IntegrationEvent) -> None:
    """Record ``event`` as applied; in the same transaction as its effect, or a duplicate slips through."""
    connection.execute(
        processed.insert().values(
            event_id=event.event_id, event_type=event.event_type, applied_at=dt.datetime.now(dt.UTC)
        )
    )


def processed_events_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "processed_events",
        metadata,
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("event_type", sa.String(80), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    )


class Projection(Protocol):
    """Event -> rows. ``apply`` must use only ``connection`` (it runs inside the dedup transaction)."""

    name: str
    metadata: sa.MetaData
    processed: sa.Table

    def handles(self, event_type: str) -> bool: ...

    def apply(self, connection: sa.Connection, event: IntegrationEvent) -> None: ...


class ReadModel:
    """A projection bound to the database it writes to."""

    def __init__(self, projection: Projection, engine: sa.Engine) -> None:
        self.projection = projection
        self.engine = engine
        self.lock_key = int.from_bytes(hashlib.sha256(projection.name.encode()).digest()[:8], "big", signed=True)
        create_tables(projection.metadata, engine)

    @property
    def _postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def lock_exclusively(self, connection: sa.Connection) -> None:
        """Stop live consumers from writing until ``connection``'s transaction ends (rebuild, check)."""
        if self._postgres:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": self.lock_key})
        else:
            # SQLite has one writer at a time: a (no-op) write takes that place for the transaction.
            connection.execute(self.projection.processed.delete().where(sa.false()))

    def handle(self, event: IntegrationEvent, attempts: int = 5) -> bool:
        """Apply ``event`` once; returns False if it was applied before (a duplicate delivery)."""
        if not self.projection.handles(event.event_type):
            return False
        for attempt in range(attempts):
            try:
                return self._apply_once(event)
            except OperationalError:
                # SQLite: another writer (a rebuild's swap) held the database; our snapshot is stale.
                time.sleep(0.05 * (attempt + 1))
            except IntegrityError:
                # Either a concurrent worker applied this very event first (then it is a duplicate),
                # or two events of one aggregate raced to create the same row: retry, the loser then
                # sees the winner's row and the version guard orders them.
                if self._seen(event.event_id):
                    log.info(
                        "%s: skipped duplicate %s %s (applied concurrently)",
                        self.projection.name,
                        event.event_type,
                        event.event_id,
                    )
                    return False
        raise RuntimeError(f"{self.projection.name}: could not apply {event.event_id} after {attempts} attempts")

    def _apply_once(self, event: IntegrationEvent) -> bool:
        with self.engine.begin() as connection:
            if self._postgres:  # consumers share the lock; a rebuild's swap takes it exclusively
                connection.execute(sa.text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": self.lock_key})
            return self.apply_in(connection, event)

    def apply_in(self, connection: sa.Connection, event: IntegrationEvent) -> bool:
        """Apply ``event`` once inside the caller's transaction."""
        if not self.projection.handles(event.event_type):
            return False
        if self._seen(event.event_id, connection):
            log.info("%s: skipped duplicate %s %s", self.projection.name, event.event_type, event.event_id)
            return False
        mark_processed(connection, self.projection.processed, event)
        self.projection.apply(connection, event)
        return True

    def processed_ids(self, connection: sa.Connection) -> set[str]:
        return {row[0] for row in connection.execute(sa.select(self.projection.processed.c.event_id))}

    def _seen(self, event_id: str, connection: sa.Connection | None = None) -> bool:
        if connection is not None:
            return was_processed(connection, self.projection.processed, event_id)
        with self.engine.connect() as fresh:
            return was_processed(fresh, self.projection.processed, event_id)
