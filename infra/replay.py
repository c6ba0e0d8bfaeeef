"""Replaying stored events into a read model nobody else writes (a rebuild's shadow): the batch driver of a
projection, beside the live one (infra/readmodel.py).

The live driver pays per event for what a delivery needs: a transaction, a look-up of the event among those
applied (it may come twice), a shared lock against a rebuild's swap, each statement on its own. A replay reads
each event once, in log order, into tables only it writes, so it applies a batch of events per transaction,
running each of the projection's statements once for the whole batch, with every event's values in log order
(executemany). A rebuild records no row per event applied: once every range is replayed it records the log
position it applied through (infra/readmodel.py ``record_applied_through``), and live consumers skip events
from at or below it after the swap. A check records a row per event, with its position, to tell which of them
the live model has applied.
The projection is the same one either way (its ``writes``); only the driving differs.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from contracts.events import IntegrationEvent
from infra.readmodel import Projection, processed_row
from infra.statements import Insert, Statement, Values, run

DEADLOCK_DETECTED = "40P01"  # PostgreSQL's SQLSTATE
BATCH_EVENTS = 2000  # per transaction: enough to amortise a commit and a statement, little to keep in memory

Progress = Callable[[int], None]  # told the log position reached


Target = tuple[sa.Engine, Projection]  # a shadow's engine and the projection it builds


def replay(
    engine: sa.Engine,
    projection: Projection,
    events: Iterable[tuple[int, IntegrationEvent]],
    progress: Progress,
    batch_events: int = BATCH_EVENTS,
    record_each: bool = False,
) -> int:
    """Apply every (position, event) the projection handles, in batches; returns how many it applied."""
    return replay_into([(engine, projection)], events, progress, batch_events, record_each)[0]


def replay_into(
    targets: Sequence[Target],
    events: Iterable[tuple[int, IntegrationEvent]],
    progress: Progress,
    batch_events: int = BATCH_EVENTS,
    record_each: bool = False,
) -> list[int]:
    """One pass over ``events`` for several read models of the same log: each batch, read and decoded once,
    goes to every target, each applying the events its projection handles in a transaction of its own (with a
    row per event among those applied, with its position, when ``record_each``). Returns how many each
    applied."""
    applied = [0] * len(targets)
    records = [Insert(projection.processed) if record_each else None for _engine, projection in targets]
    with collecting_less_often():
        for batch in _batches(iter(events), batch_events):
            for n, (engine, projection) in enumerate(targets):
                handled = [(position, event) for position, event in batch if projection.handles(event.event_type)]
                if handled:
                    _apply_batch_retrying(engine, projection, records[n], handled)
                    applied[n] += len(handled)
            progress(batch[-1][0])
    return applied


def handled_by_any(targets: Sequence[Target]) -> Callable[[str], bool]:
    """The event types a pass for ``targets`` must make (the others are not mapped at all)."""
    return lambda event_type: any(projection.handles(event_type) for _engine, projection in targets)


@contextmanager
def collecting_less_often(young: int = 20_000) -> Iterator[None]:
    """A replay makes many short-lived objects per event and keeps none past its batch, and the cyclic
    collector kept scanning the long-lived heap (SQLAlchemy's, pydantic's, the application's) because of them:
    10-15% of a rebuild's CPU. Meanwhile the heap as it stands is set aside (``gc.freeze``) and the youngest
    generation is collected every ``young`` allocations instead of 700: collections still run, so memory stays
    bounded."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(young, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _apply_batch_retrying(
    engine: sa.Engine,
    projection: Projection,
    record: Insert | None,
    events: list[tuple[int, IntegrationEvent]],
    attempts: int = 5,
) -> None:
    """One batch in one transaction. Replays of several position ranges write the same shadow at once and may
    upsert rows of the same case in opposite orders: PostgreSQL then cancels one transaction as deadlocked, and
    it is simply run again (the rows' values do not depend on which goes first)."""
    for attempt in range(attempts):
        try:
            with engine.begin() as connection:
                apply_batch(connection, projection, events, record)
            return
        except OperationalError as error:
            if getattr(error.orig, "sqlstate", None) != DEADLOCK_DETECTED or attempt == attempts - 1:
                raise


def apply_batch(
    connection: sa.Connection,
    projection: Projection,
    events: Sequence[tuple[int | None, IntegrationEvent]],
    record: Insert | None = None,
) -> None:
    """Apply ``events`` (with their log positions, in log order, none applied before) inside the caller's
    transaction; ``record``, when given, adds a row per event to the projection's table of applied events."""
    if record is not None:
        applied_at = dt.datetime.now(dt.UTC)
        run(connection, record, [processed_row(event, applied_at, position) for position, event in events])
    # Each statement in the order the projection first uses it, with its values in log order.
    values: dict[Statement, list[Values]] = {}
    for _position, event in events:
        for statement, event_values in projection.writes(event):
            values.setdefault(statement, []).append(event_values)
    for statement, rows in values.items():
        run(connection, statement, rows)


def _batches(items: Iterator[tuple[int, IntegrationEvent]], size: int) -> Iterator[list[tuple[int, IntegrationEvent]]]:
    while batch := list(islice(items, size)):
        yield batch
