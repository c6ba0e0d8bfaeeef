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

from infra.readmodel import Projection, ReadModel
from infra.settings import Settings
from infra.storage import read_model_engine
from ops.sources import EventSource, open_source
from services.documents.projections import LetterProjection
from services.registry.projections import DirectoryProjection
from services.submissions.projections import CaseProjection

Progress = Callable[[int], None]  # called with the log position reached


@dataclass(frozen=True)
class ReadModelSpec:
    name: str
    service: str  # whose database holds it
    source: str  # which event store feeds it
    projection: Callable[[], Projection]


READ_MODELS = (
    ReadModelSpec("submissions.cases", "submissions", "submissions", CaseProjection),
    ReadModelSpec("documents.letters", "documents", "submissions", LetterProjection),
    ReadModelSpec("registry.organisations", "registry", "registry", DirectoryProjection),
)

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
    spec: ReadModelSpec, source: EventSource, settings: Settings, stop: int, progress: Progress
) -> tuple[ReadModel, int]:
    shadow_engine = read_model_engine(settings, spec.service, schema_suffix="rebuild")
    projection = spec.projection()
    projection.metadata.drop_all(shadow_engine)
    shadow = ReadModel(projection, shadow_engine)
    count = 0
    for position, event in source.integration_events(start=0, stop=stop):
        count += shadow.handle(event)
        progress(position)
    return shadow, count


def swap_in(live: ReadModel, shadow: ReadModel, source: EventSource, stop: int) -> None:
    """Replace the live rows with the shadow's and apply what was recorded since ``stop``, in one
    transaction that live consumers wait for (they then find their events applied and skip them)."""
    tables = live.projection.metadata.sorted_tables
    with shadow.engine.connect() as reader, live.engine.begin() as writer:
        live.lock_exclusively(writer)
        for table in reversed(tables):
            writer.execute(table.delete())
        for table in tables:
            rows = [dict(row._mapping) for row in reader.execute(sa.select(table))]
            if rows:
                writer.execute(table.insert(), rows)
        for _position, event in source.integration_events(start=stop):
            live.apply_in(writer, event)


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
    spec: ReadModelSpec,
    settings: Settings,
    apply: bool,
    progress_factory: Callable[[str, int], Progress],
    wait: float = 30.0,
) -> Outcome:
    source = open_source(spec.source, settings)
    live_engine = read_model_engine(settings, spec.service)
    try:
        live = ReadModel(spec.projection(), live_engine)
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
