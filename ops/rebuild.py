"""Rebuild read models from the event store, and check that a rebuild equals the live model.

A rebuild projects every stored event into a shadow copy (its own SQLite file or PostgreSQL
schema), then swaps the shadow's rows into the live tables in one transaction, then applies any
events recorded meanwhile (idempotently, like the live consumer would).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from infra import schema
from infra.readmodel import Projection, ReadModel, apply_once, lock_exclusively
from infra.settings import Settings
from infra.storage import read_model_engine
from infra.topology import REBUILDABLE, ReadModelPart
from ops.sources import EventSource, open_source

Progress = Callable[[int], None]  # called with the log position reached


READ_MODELS = REBUILDABLE  # the mail outbox is not: rebuilding it would send every mail again

IGNORED_COLUMNS = {"applied_at"}  # when an event was applied differs between runs by nature


@dataclass
class Outcome:
    name: str
    events: int = 0
    differences: list[str] = field(default_factory=list)


def table_rows(connection: sa.Connection, table: sa.Table) -> list[tuple[Any, ...]]:
    columns = [column for column in table.columns if column.name not in IGNORED_COLUMNS]
    rows = connection.execute(sa.select(*columns).order_by(*table.primary_key.columns)).all()
    return [tuple(_hashable(value) for value in row) for row in rows]


def _hashable(value: Any) -> Any:
    # JSON columns come back as dicts; compare them by their canonical text.
    return json.dumps(value, sort_keys=True, default=str) if isinstance(value, dict | list) else value


def compare(projection: Projection, live: sa.Connection, shadow: sa.Connection, limit: int = 10) -> list[str]:
    differences: list[str] = []
    for table in projection.metadata.sorted_tables:
        live_rows, shadow_rows = set(table_rows(live, table)), set(table_rows(shadow, table))
        for row in sorted(live_rows - shadow_rows, key=repr)[:limit]:
            differences.append(f"{table.name}: only in live model: {row}")
        for row in sorted(shadow_rows - live_rows, key=repr)[:limit]:
            differences.append(f"{table.name}: missing from live model: {row}")
    return differences


def build_shadow(
    spec: ReadModelPart, source: EventSource, settings: Settings, stop: int, progress: Progress
) -> tuple[ReadModel, int]:
    shadow_engine = read_model_engine(settings, spec.service, schema_suffix="rebuild")
    projection = spec.new_projection()
    with shadow_engine.begin() as connection:  # the shadow is built from nothing, whatever it held before
        schema.drop(projection, connection)
    shadow = ReadModel(projection, shadow_engine)
    count = 0
    for position, event in source.integration_events(start=0, stop=stop):
        count += shadow.handle(event)
        progress(position)
    return shadow, count


def swap_in(live: ReadModel, shadow: ReadModel, source: EventSource, stop: int) -> None:
    """Replace the live rows with the shadow's and apply what was recorded since ``stop``, in one
    transaction that live consumers wait for (they then find their events applied and skip them)."""
    with shadow.engine.connect() as reader, live.engine.begin() as writer:
        live.lock_exclusively(writer)
        for table in reversed(live.projection.metadata.sorted_tables):
            writer.execute(table.delete())
        copy_rows(shadow.projection, reader, writer)
        for _position, event in source.integration_events(start=stop):
            live.apply_in(writer, event)


def copy_rows(projection: Projection, reader: sa.Connection, writer: sa.Connection) -> None:
    for table in projection.metadata.sorted_tables:
        rows = [dict(row._mapping) for row in reader.execute(sa.select(table))]
        if rows:
            writer.execute(table.insert(), rows)


def check_against(live: ReadModel, shadow: ReadModel, source: EventSource, stop: int, wait: float) -> list[str]:
    """Compare at one consistent moment: once the live model has caught up with ``stop`` (its
    consumers may lag a little), with live writers held off, and the shadow brought to the same
    events the live model has applied."""
    with shadow.engine.connect() as reader:
        expected = shadow.processed_ids(reader)
    deadline = time.monotonic() + wait
    while True:
        with live.engine.connect() as connection:
            behind = expected - live.processed_ids(connection)
        if not behind or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    with shadow.engine.begin() as shadow_writer, live.engine.begin() as locked:
        live.lock_exclusively(locked)
        applied_live = live.processed_ids(locked)
        for _position, event in source.integration_events(start=stop):
            if event.event_id in applied_live:
                shadow.apply_in(shadow_writer, event)
        differences = compare(live.projection, locked, shadow_writer)
    if behind:
        differences.insert(
            0, f"the live model has not applied {len(behind)} stored events (are its consumers running?)"
        )
    return differences


def run(
    spec: ReadModelPart,
    settings: Settings,
    apply: bool,
    progress_factory: Callable[[str, int], Progress],
    wait: float = 30.0,
) -> Outcome:
    source = open_source(spec.source, settings)
    live_engine = read_model_engine(settings, spec.service)
    try:
        live = ReadModel(spec.new_projection(), live_engine)
        stop = source.last_position()
        shadow, count = build_shadow(spec, source, settings, stop, progress_factory(spec.name, stop))
        outcome = Outcome(spec.name, events=count)
        if apply:
            swap_in(live, shadow, source, stop)
        else:
            outcome.differences = check_against(live, shadow, source, stop, wait)
        shadow.engine.dispose()
        return outcome
    finally:
        live_engine.dispose()
        source.close()


def needs_upgrade(spec: ReadModelPart, settings: Settings) -> bool:
    engine = read_model_engine(settings, spec.service)
    try:
        return schema.is_outdated(spec.new_projection(), engine)
    finally:
        engine.dispose()


def upgrade(spec: ReadModelPart, settings: Settings, progress_factory: Callable[[str, int], Progress]) -> Outcome:
    """Bring a read model of an older schema version to this release's: build the new tables beside the old
    ones from the event store (the old ones keep serving meanwhile), then, in one transaction that live
    consumers wait for, drop the old tables, create the new, copy the rows in, apply what was recorded since
    and record the new version."""
    if not spec.rebuildable:
        raise RuntimeError(f"read model {spec.name} cannot be rebuilt from events; its upgrade needs a migration")
    source = open_source(spec.source, settings)
    live_engine = read_model_engine(settings, spec.service)
    try:
        stop = source.last_position()
        shadow, count = build_shadow(spec, source, settings, stop, progress_factory(spec.name, stop))
        projection = shadow.projection
        with shadow.engine.connect() as reader, live_engine.begin() as writer:
            lock_exclusively(writer, projection)
            schema.replace_tables(projection, writer)
            copy_rows(projection, reader, writer)
            for _position, event in source.integration_events(start=stop):
                apply_once(writer, projection, event)
        shadow.close()
        return Outcome(spec.name, events=count)
    finally:
        live_engine.dispose()
        source.close()
