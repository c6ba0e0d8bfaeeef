"""How far a relay has published its event store: the position, which event stood there, and checkpoints.

A relay saves, after each batch, the log position it has published through and the name of the event at that
position (``EventName``). It reads both back when it takes its lock (and at every poll while it refuses) and
compares them with the store: an event store restored from an earlier backup (or replaced) no longer holds that
event there. Its positions are handed out again to new events, which the relay would never publish (they lie at
or below its position) and which consumers would take for ones already applied (their ids, a case's id and
version, recur too). So the relay refuses such a store (``StoreReplacedError``), and keeps refusing
(``refused_at``, however the store grows meanwhile) until an operator has run `satu relay-reset` (ops/relay_reset.py).

Where to publish from after a restore is the last position the backup held, which nothing records. So a relay
also keeps a few checkpoints, (position, event) pairs spaced wider the further back they lie: the newest
one the restored store still holds lies at or before the backup's end, and publishing from it repeats only
events the consumers recognise.

An event is named by its key (``event_key``: this recording of it), not by its integration event's id alone:
that id is its case's id and version, which a restored store hands out again too (the step taken again on the
same case after the restore), and the relay would take the new event at its position for the one it published.
The id is saved beside the key, for a release from before keys (a rollback), which reads only the id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from eventsourcing.persistence import ApplicationRecorder, StoredEvent

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
    # The integration event id of the event at ``event_position`` (None: saved by a release from before it). It
    # belongs to ``position`` only while the two are equal: a release from before it moves ``position`` alone.
    sa.Column("event_id", sa.String(36), nullable=True),
    sa.Column("event_position", sa.BigInteger, nullable=True),
    # Its key (``event_key``), at ``key_position``: likewise, a release from before keys moves the rest alone.
    sa.Column("event_key", sa.String(40), nullable=True),
    sa.Column("key_position", sa.BigInteger, nullable=True),
    # The store's end when its relay found it restored or replaced (None: it has not): it refuses the store until
    # `satu relay-reset` clears it.
    sa.Column("refused_at", sa.BigInteger, nullable=True),
)
relay_checkpoints = sa.Table(
    "relay_checkpoints",
    _metadata,
    sa.Column("source", sa.String(40), primary_key=True),
    sa.Column("position", sa.BigInteger, primary_key=True),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("event_key", sa.String(40), nullable=True),  # None: made by a release from before keys
)

# A checkpoint every this many positions at most; of those further back, two per doubling of the distance are
# kept (kept_checkpoints), so a restore publishes again at most about twice what it lost.
CHECKPOINT_SPACING = 1000


class StoreReplacedError(RuntimeError):
    """The event store no longer holds the event its relay published last: it was restored or replaced."""


@dataclass(frozen=True)
class EventName:
    """How the guard names a stored event: its integration event's id and, when known, its key."""

    event_id: str
    key: str | None = None  # None: saved by a release from before keys

    @classmethod
    def of(cls, stored: StoredEvent) -> EventName:
        return cls(stable_event_id(stored.originator_id, stored.originator_version), event_key(stored))

    def names(self, stored: StoredEvent) -> bool:
        """Whether this is ``stored``'s name: by its key when known, else by its id (its case and version)."""
        if self.key is not None:
            return self.key == event_key(stored)
        return self.event_id == stable_event_id(stored.originator_id, stored.originator_version)


@dataclass(frozen=True)
class PublishedMark:
    position: int  # 0: nothing published yet
    name: EventName | None = None  # of the event at ``position``, when known
    refused_at: int | None = None


def prepare_positions(engine: sa.Engine) -> None:
    """The tables of the relays' positions, in the database a relay keeps its position in."""
    create_tables(_metadata, engine)


def event_key(stored: StoredEvent) -> str:
    """What names one recording of an event: a hash of its aggregate, its version and its stored state (which
    holds the moment it was recorded), so an event recorded again at the same case and version after a restore
    has another."""
    digest = hashlib.sha1(f"{stored.originator_id}:{stored.originator_version}:".encode(), usedforsecurity=False)
    digest.update(bytes(stored.state))
    return digest.hexdigest()


# Built once: a relay saves its mark after every batch, in one statement (an update, then an insert for a first
# save, made a transaction of three round trips after every batch: a fifth of a busy relay's time).
_NAMED = ("event_id", "event_position", "event_key", "key_position")
_MARK = sa.select(*(relay_positions.c[name] for name in ("position", *_NAMED, "refused_at"))).where(
    relay_positions.c.source == sa.bindparam("store")
)
_SAVE = Upsert(relay_positions, [relay_positions.c.source], merge=Merge((Take(("position", *_NAMED)),)))
_REFUSED = (
    relay_positions.update()
    .where(
        relay_positions.c.source == sa.bindparam("store"),
        relay_positions.c.position == sa.bindparam("checked"),  # not a mark `satu relay-reset` wrote meanwhile
        relay_positions.c.refused_at.is_(None),
    )
    .values(refused_at=sa.bindparam("end"))
)
_RESET = (
    relay_positions.update()
    .where(relay_positions.c.source == sa.bindparam("store"), relay_positions.c.position == sa.bindparam("checked"))
    .values(
        position=sa.bindparam("new_position"),
        event_id=sa.bindparam("new_event_id"),
        event_position=sa.bindparam("new_position"),
        event_key=sa.bindparam("new_event_key"),
        key_position=sa.bindparam("new_position"),
        refused_at=None,
    )
)


_NAME_MARK = (
    relay_positions.update()
    .where(relay_positions.c.source == sa.bindparam("store"), relay_positions.c.position == sa.bindparam("checked"))
    .values(**{column: sa.bindparam(f"new_{column}") for column in _NAMED})
)


def _named(position: int, name: EventName | None) -> dict[str, object]:
    """The columns naming the event at ``position``."""
    return {
        "event_id": None if name is None else name.event_id,
        "event_position": position,
        "event_key": None if name is None else name.key,
        "key_position": position,
    }


def published_mark(engine: sa.Engine, source: str) -> PublishedMark:
    """Where ``source``'s relay has published through (position 0: nothing yet)."""
    with engine.connect() as connection:
        row = execute(connection, _MARK, {"store": source}).first()
    if row is None:
        return PublishedMark(0)
    if row.event_id is None or row.event_position != row.position:
        return PublishedMark(int(row.position), None, row.refused_at)
    key = row.event_key if row.key_position == row.position else None
    return PublishedMark(int(row.position), EventName(row.event_id, key), row.refused_at)


class Publishing:
    """Where the holder of ``source``'s relay lock (its relay, or `satu demo-data`) saves how far it published."""

    def __init__(self, engine: sa.Engine, source: str, recorder: ApplicationRecorder) -> None:
        self.engine, self.source, self.recorder = engine, source, recorder
        self._last_checkpoint: int | None = None  # read with the first save

    def save(self, position: int, name: EventName) -> None:
        """Record that the events up to ``position`` (the event ``name``) are published (by the relay, or
        deliberately never: the demo-data generator builds the read models of what it writes itself), with a
        checkpoint when the last one lies CHECKPOINT_SPACING positions back."""
        with self.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")  # one statement: no BEGIN, no COMMIT
            values = {"source": self.source, "position": position, **_named(position, name)}
            execute(connection, _SAVE.for_dialect(self.engine.dialect.name), values)
        if self._last_checkpoint is None or position >= self._last_checkpoint + CHECKPOINT_SPACING:
            self._last_checkpoint = self._checkpoint(position, name)

    def _checkpoint(self, position: int, name: EventName) -> int:
        """Add a checkpoint at ``position`` when it is due, drop those no longer kept; the newest one held."""
        checkpoints = relay_checkpoints.c
        with self.engine.begin() as connection:
            held = set(
                connection.execute(sa.select(checkpoints.position).where(checkpoints.source == self.source)).scalars()
            )
            if held and position < max(held) + CHECKPOINT_SPACING:
                return max(held)
            added = {position: name} if held else self._first_checkpoints(position, name)
            rows = [
                {"source": self.source, "position": at, "event_id": added[at].event_id, "event_key": added[at].key}
                for at in sorted(added)
            ]
            connection.execute(relay_checkpoints.insert(), rows)
            dropped = held - kept_checkpoints([*held, *added], position)
            if dropped:
                connection.execute(
                    relay_checkpoints.delete().where(
                        checkpoints.source == self.source, checkpoints.position.in_(dropped)
                    )
                )
        return position

    def _first_checkpoints(self, position: int, name: EventName) -> dict[int, EventName]:
        """The first checkpoints (a release from before them, or a store just reset): ``position``, the store's
        first event (kept for good: ``kept_checkpoints`` keeps the oldest), and an event at each doubling of the
        distance back (the first at or after it: a PostgreSQL log has gaps), so a backup taken before finds one."""
        found = {position: name}
        back = CHECKPOINT_SPACING
        while True:
            earlier = self.recorder.select_notifications(
                start=max(position - back, 1), limit=1, inclusive_of_start=True
            )
            if earlier and earlier[0].id < position:
                found[earlier[0].id] = EventName.of(earlier[0])
            if position - back < 1:
                return found
            back *= 2

    def checkpoint_held(self, mark: PublishedMark) -> None:
        """Make the first checkpoints now, at the position published through, if there are none (a quiet system
        just upgraded: a restore before its next event finds them). ``mark`` was checked against the store. What
        a release from before keys saved gains them now, not at the next save (which a quiet system may not make
        for long): the mark, and each checkpoint whose event the store holds."""
        name = event_at(self.recorder, mark.position) if mark.position else None
        if name is None:  # nothing published (a reset to the start): the next save makes them
            self._last_checkpoint = None
            return
        if mark.name is None or mark.name.key is None:
            with self.engine.begin() as connection:
                named = {f"new_{column}": value for column, value in _named(mark.position, name).items()}
                execute(connection, _NAME_MARK, {"store": self.source, "checked": mark.position, **named})
        self._key_checkpoints()
        self._last_checkpoint = self._checkpoint(mark.position, name)

    def _key_checkpoints(self) -> None:
        """Key each checkpoint saved without a key (by a release from before keys) whose event the store holds."""
        checkpoints = relay_checkpoints.c
        with self.engine.begin() as connection:
            unkeyed = connection.execute(
                sa.select(checkpoints.position, checkpoints.event_id).where(
                    checkpoints.source == self.source, checkpoints.event_key.is_(None)
                )
            ).all()
            for position, event_id in unkeyed:
                stored = _stored_at(self.recorder, int(position))
                if stored is not None and EventName(event_id).names(stored):
                    connection.execute(
                        relay_checkpoints.update()
                        .where(checkpoints.source == self.source, checkpoints.position == position)
                        .values(event_key=event_key(stored))
                    )


def kept_checkpoints(positions: list[int], head: int) -> set[int]:
    """The newest and the oldest checkpoint at each doubling of the distance back from ``head``: wherever a
    backup ended, one lies before it by no more than it lies before ``head`` (a few dozen for a national log)."""
    bands: dict[int, list[int]] = {}
    for position in sorted(positions, reverse=True):
        bands.setdefault(((head - position) // CHECKPOINT_SPACING).bit_length(), []).append(position)
    return {position for band in bands.values() for position in (band[0], band[-1])}


def last_held_checkpoint(engine: sa.Engine, recorder: ApplicationRecorder, source: str) -> int:
    """The newest checkpoint whose event the store still holds at its position (0: none does): at or before
    the end of the backup a restored store came from."""
    checkpoints = relay_checkpoints.c
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(checkpoints.position, checkpoints.event_id, checkpoints.event_key)
            .where(checkpoints.source == source)
            .order_by(checkpoints.position.desc())
        ).all()
    for position, event_id, key in rows:
        stored = _stored_at(recorder, int(position))
        if stored is not None and EventName(event_id, key).names(stored):
            return int(position)
    return 0


def note_refusal(engine: sa.Engine, source: str, checked: PublishedMark, end: int) -> None:
    """Record that ``source``'s relay refuses its store (which ends at ``end``), unless it was recorded already
    or the mark is no longer the one ``checked``."""
    with engine.begin() as connection:
        execute(connection, _REFUSED, {"store": source, "checked": checked.position, "end": end})


def reset_position(
    engine: sa.Engine, source: str, checked: PublishedMark, position: int, name: EventName | None, kept: int
) -> bool:
    """Move the relay's mark to ``position`` and lift its refusal, if the mark is still the one ``checked``; the
    checkpoints after ``kept`` (the newest the store holds; 0: none) go, being of the lost history or of
    another store. The relay's next save makes new ones."""
    values = {
        "store": source,
        "checked": checked.position,
        "new_position": position,
        "new_event_id": None if name is None else name.event_id,
        "new_event_key": None if name is None else name.key,
    }
    checkpoints = relay_checkpoints.c
    with engine.begin() as connection:
        if execute(connection, _RESET, values).rowcount != 1:
            return False
        stale = checkpoints.position > kept
        connection.execute(relay_checkpoints.delete().where(checkpoints.source == source, stale))
    return True


def store_mismatch(recorder: ApplicationRecorder, source: str, mark: PublishedMark) -> str | None:
    """Why the store no longer matches what its relay published (None: it does). The event at the mark's
    position must still be there, and be the one named there (by its key, or by its id alone when saved by a
    release from before keys)."""
    if mark.refused_at is not None:
        return f"its relay refused the {source} event store before (it ended at position {mark.refused_at} then)"
    if mark.position == 0:
        return None
    found = _stored_at(recorder, mark.position)
    if found is None:
        end = recorder.max_notification_id() or 0
        return (
            f"the {source} event store has no event at position {mark.position}, which its relay published "
            f"(the store ends at {end})"
        )
    if mark.name is not None and not mark.name.names(found):
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


def event_at(recorder: ApplicationRecorder, position: int) -> EventName | None:
    """The name of the event at ``position`` of the store (None: there is none)."""
    stored = _stored_at(recorder, position)
    return None if stored is None else EventName.of(stored)


def _stored_at(recorder: ApplicationRecorder, position: int) -> StoredEvent | None:
    found = recorder.select_notifications(start=position, limit=1, inclusive_of_start=True)
    return found[0] if found and found[0].id == position else None
