"""Replaying stored events into a read model nobody else writes (a rebuild's shadow): the batch driver of a
projection, beside the live one (infra/readmodel.py).

The live driver pays per event for what a delivery needs: a transaction, a look-up of the event among those
applied (it may come twice), a shared lock against a rebuild's swap, each statement on its own. A replay reads
each event once, in log order, into tables only it writes, so it applies a batch of events per transaction:
it records the batch as applied (live consumers skip those events after the swap) and runs each of the
projection's statements once for the whole batch, with every event's values in log order (executemany).
The projection is the same one either way (its ``writes``); only the driving differs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

import sqlalchemy as sa

from contracts.events import IntegrationEvent
from infra.readmodel import Projection, processed_row
from infra.statements import Insert, Statement, Values, run

BATCH_EVENTS = 2000  # per transaction: enough to amortise a commit and a statement, little to keep in memory

Progress = Callable[[int], None]  # told the log position reached


def replay(
    engine: sa.Engine,
    projection: Projection,
    events: Iterable[tuple[int, IntegrationEvent]],
    progress: Progress,
    batch_events: int = BATCH_EVENTS,
) -> int:
    """Apply every (position, event) the projection handles, in batches; returns how many it applied."""
    applied = 0
    record = Insert(projection.processed)
    for batch in _batches(iter(events), batch_events):
        handled = [event for _position, event in batch if projection.handles(event.event_type)]
        if handled:
            with engine.begin() as connection:
                apply_batch(connection, projection, record, handled)
            applied += len(handled)
        progress(batch[-1][0])
    return applied


def apply_batch(
    connection: sa.Connection, projection: Projection, record: Insert, events: list[IntegrationEvent]
) -> None:
    """Apply ``events`` (in log order, none applied before) inside the caller's transaction; ``record`` adds
    rows to the projection's table of applied events."""
    applied_at = dt.datetime.now(dt.UTC)
    run(connection, record, [processed_row(event, applied_at) for event in events])
    # Each statement in the order the projection first uses it, with its values in log order.
    values: dict[Statement, list[Values]] = {}
    for event in events:
        for statement, event_values in projection.writes(event):
            values.setdefault(statement, []).append(event_values)
    for statement, rows in values.items():
        run(connection, statement, rows)


def _batches(items: Iterator[tuple[int, IntegrationEvent]], size: int) -> Iterator[list[tuple[int, IntegrationEvent]]]:
    while batch := list(islice(items, size)):
        yield batch
