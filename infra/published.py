"""How far a relay has published its event store: the position, and which event stood there.

A relay saves, after each batch, the log position it has published through and the id of the event at that
position. Both are read back once per holding of the relay's lock and compared with the store: an event store
restored from an earlier backup (or replaced) no longer holds that event there. Its positions are handed out
again to new events, which the relay would never publish (they lie at or below its position) and which
consumers would take for ones already applied (their ids, a case's id and version, recur too). So the relay
refuses to publish such a store (``StoreReplacedError``) until an operator has run `satu relay-reset`, which
rebuilds the store's read models and resets the relay's position (ops/relay_reset.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from eventsourcing.persistence import ApplicationRecorder, Notification

from contracts.events import stable_event_id
from infra.merge import Merge, Take
from infra.statements import Upsert, execute
from infra.storage import create_tables

_metadata = sa.MetaData()
relay_positions = sa.Table(
    "relay_positions",
    _metadata,
    sa.Column("source", sa.String(40), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    # The id of the event at ``position`` (None: saved by a release from before it, or by `satu demo-data`).
    sa.Column("event_id", sa.String(36), nullable=True),
    # The store's end when its relay first refused it (None: it does not): what was recorded after it was never
    # published, and `satu relay-reset` publishes from there.
    sa.Column("refused_at", sa.BigInteger, nullable=True),
)


class StoreReplacedError(RuntimeError):
    """The event store no longer holds the event its relay published last: it was restored or replaced."""


@dataclass(frozen=True)
class PublishedMark:
    position: int  # 0: nothing published yet
    event_id: str | None
    refused_at: int | None = None


def prepare_positions(engine: sa.Engine) -> None:
    """The table of the relays' positions, in the database a relay keeps its position in."""
    create_tables(_metadata, engine)


def event_id_of(notification: Notification) -> str:
    """The id the integration event of ``notification`` carries (contracts.events.stable_event_id)."""
    return stable_event_id(notification.originator_id, notification.originator_version)


# Built once: a relay reads its mark once per holding of its lock, and saves it after every batch. The save
# makes or moves the row in one statement (an update, then an insert for a first save, made a transaction of
# three round trips after every batch: a fifth of a busy relay's time).
_MARK = sa.select(relay_positions.c.position, relay_positions.c.event_id, relay_positions.c.refused_at).where(
    relay_positions.c.source == sa.bindparam("store")
)
_SAVE = Upsert(
    relay_positions, [relay_positions.c.source], merge=Merge((Take(("position", "event_id", "refused_at")),))
)
_REFUSED = (
    relay_positions.update()
    .where(relay_positions.c.source == sa.bindparam("store"), relay_positions.c.refused_at.is_(None))
    .values(refused_at=sa.bindparam("end"))
)


def published_mark(engine: sa.Engine, source: str) -> PublishedMark:
    """Where ``source``'s relay has published through (position 0: nothing yet)."""
    with engine.connect() as connection:
        row = execute(connection, _MARK, {"store": source}).first()
    return PublishedMark(0, None) if row is None else PublishedMark(int(row.position), row.event_id, row.refused_at)


def published_position(engine: sa.Engine, source: str) -> int:
    """The log position up to which ``source``'s events have been published (0: none yet)."""
    return published_mark(engine, source).position


def save_position(engine: sa.Engine, source: str, position: int, event_id: str | None = None) -> None:
    """Record that ``source``'s events up to ``position`` (the event ``event_id``) are published (by the relay,
    or deliberately never: the demo-data generator builds the read models of what it writes itself)."""
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")  # one statement: no BEGIN, no COMMIT
        values = {"source": source, "position": position, "event_id": event_id, "refused_at": None}
        execute(connection, _SAVE.for_dialect(engine.dialect.name), values)


def note_refusal(engine: sa.Engine, source: str, end: int) -> None:
    """Record that ``source``'s relay refuses its store, which ends at ``end`` (kept if noted already)."""
    with engine.begin() as connection:
        execute(connection, _REFUSED, {"store": source, "end": end})


def store_mismatch(recorder: ApplicationRecorder, source: str, mark: PublishedMark) -> str | None:
    """Why the store no longer matches what its relay published (None: it does). The event at the mark's
    position must still be there, and be the same event when its id was saved."""
    if mark.position == 0:
        return None
    found = recorder.select_notifications(start=mark.position, limit=1, inclusive_of_start=True)
    if not found or found[0].id != mark.position:
        end = recorder.max_notification_id() or 0
        return (
            f"the {source} event store has no event at position {mark.position}, which its relay published "
            f"(the store ends at {end})"
        )
    if mark.event_id is not None and event_id_of(found[0]) != mark.event_id:
        return (
            f"the {source} event store holds another event at position {mark.position} than the one its relay "
            "published there"
        )
    return None


def verify_store(recorder: ApplicationRecorder, source: str, mark: PublishedMark) -> None:
    """Raise StoreReplacedError, saying what to do, unless the store matches what its relay published."""
    problem = store_mismatch(recorder, source, mark)
    if problem is not None:
        raise StoreReplacedError(
            f"{problem}: it was restored from a backup or replaced. Its relay publishes nothing until "
            f"`satu relay-reset {source}` has rebuilt the store's read models and reset the relay's position "
            "(docs/operations.md)"
        )
