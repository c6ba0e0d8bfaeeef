"""Rebuild read models from the event store, and check that a rebuild equals the live model.

A rebuild replays every stored event into a shadow copy (ops/shadow.py: its own SQLite file or PostgreSQL
schema) in batches (infra/replay.py), then swaps the shadow's rows into the live tables in one transaction,
then applies any events recorded meanwhile (idempotently, like the live consumer would). Rows are copied
and compared by the database; Python holds one batch of events at a time, whatever the size of the log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from infra import schema
from infra.readmodel import ReadModel, apply_once, lock_exclusively, was_processed
from infra.replay import replay
from infra.settings import Settings
from infra.storage import read_model_engine
from infra.topology import REBUILDABLE, ReadModelPart
from ops.parallel_replay import position_ranges, replay_ranges
from ops.shadow import Shadow
from ops.sources import EventSource, open_source

Progress = Callable[[int], None]  # called with the log position reached


READ_MODELS = REBUILDABLE  # the mail outbox is not: rebuilding it would send every mail again


@dataclass
class Outcome:
    name: str
    events: int = 0
    differences: list[str] = field(default_factory=list)


def build_shadow(
    spec: ReadModelPart, source: EventSource, settings: Settings, stop: int, progress: Progress
) -> tuple[Shadow, int]:
    """The read model rebuilt from the events up to ``stop``, beside the live one (a long log split in position
    ranges replayed side by side, ``SATU_REBUILD_WORKERS``)."""
    shadow = Shadow.fresh(spec.new_projection(), spec.service, settings)
    ranges = position_ranges(stop, settings.rebuild_workers)
    if len(ranges) > 1:
        count = replay_ranges(spec, settings, shadow, ranges, progress)
    else:
        events = source.integration_events(stop=stop, wanted=shadow.projection.handles)
        count = replay(shadow.engine, shadow.projection, events, progress)
    shadow.add_indexes()
    progress(stop)
    return shadow, count


def swap_in(live: ReadModel, shadow: Shadow, source: EventSource, stop: int) -> None:
    """Replace the live rows with the shadow's and apply what was recorded since ``stop``, in one
    transaction that live consumers wait for (they then find their events applied and skip them)."""
    with shadow.beside(live.engine) as connection, connection.begin():
        live.lock_exclusively(connection)
        shadow.copy_into(connection)
        for _position, event in source.integration_events(start=stop):
            live.apply_in(connection, event)


def check_against(live: ReadModel, shadow: Shadow, source: EventSource, stop: int, wait: float) -> list[str]:
    """Compare at one consistent moment: once the live model has caught up with ``stop`` (its
    consumers may lag a little), with live writers held off, and the shadow brought to the same
    events the live model has applied."""
    deadline = time.monotonic() + wait
    with shadow.beside(live.engine) as connection:
        while True:
            behind = shadow.not_applied_live(connection)
            connection.commit()
            if not behind or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        with connection.begin():
            live.lock_exclusively(connection)
            with shadow.engine.begin() as shadow_writer:
                for _position, event in source.integration_events(start=stop):
                    if was_processed(connection, live.projection.processed, event.event_id):
                        apply_once(shadow_writer, shadow.projection, event)
            differences = shadow.differences(connection)
    if behind:
        differences.insert(0, f"the live model has not applied {behind} stored events (are its consumers running?)")
    return differences


def run(
    spec: ReadModelPart,
    settings: Settings,
    apply: bool,
    progress_factory: Callable[[str, int], Progress],
    wait: float = 30.0,
) -> Outcome:
    source = open_source(spec.source, settings, replay=True)
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
        shadow.close()
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
    source = open_source(spec.source, settings, replay=True)
    live_engine = read_model_engine(settings, spec.service)
    try:
        stop = source.last_position()
        shadow, count = build_shadow(spec, source, settings, stop, progress_factory(spec.name, stop))
        projection = shadow.projection
        with shadow.beside(live_engine) as connection, connection.begin():
            lock_exclusively(connection, projection)
            schema.replace_tables(projection, connection)
            shadow.copy_into(connection)
            for _position, event in source.integration_events(start=stop):
                apply_once(connection, projection, event)
        shadow.close()
        return Outcome(spec.name, events=count)
    finally:
        live_engine.dispose()
        source.close()
