"""Rebuild read models from the event store, and check that a rebuild equals the live model.

A rebuild replays every stored event into a shadow copy (ops/shadow.py: its own SQLite file or PostgreSQL
schema) in batches (infra/replay.py), then swaps it in: in one transaction, the shadow's tables take the live
ones' place on PostgreSQL (its rows are copied on SQLite), and the events recorded meanwhile are applied
(idempotently, like the live consumer would); on PostgreSQL the new live tables are then vacuumed and
analysed. Rows are copied and compared by the database; Python holds one batch of events at a time, whatever
the size of the log.
Read models of the same log are rebuilt (or checked) together: one pass reads and decodes the log once for
all of them (``run_all``).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from infra import schema
from infra.readmodel import Projection, ReadModel, apply_once, lock_exclusively, was_processed
from infra.replay import handled_by_any, replay_into
from infra.settings import Settings
from infra.storage import read_model_engine, vacuum_analyse
from infra.topology import REBUILDABLE, ReadModelPart
from ops.parallel_replay import position_ranges, replay_ranges
from ops.shadow import Shadow, shadows_held
from ops.sources import EventSource, open_source

Progress = Callable[[int], None]  # called with the log position reached
Step = Callable[[], None]  # called once a step of a known number is done

log = logging.getLogger(__name__)

# PostgreSQL's SQLSTATEs for a swap that waited on a reader: failed to end a deadlock, or waited too long.
RETRIED = {"40P01", "55P03"}


READ_MODELS = REBUILDABLE  # the mail outbox is not: rebuilding it would send every mail again


@dataclass
class Outcome:
    name: str
    events: int = 0
    differences: list[str] = field(default_factory=list)


def build_shadows(
    specs: list[ReadModelPart],
    source: EventSource,
    settings: Settings,
    stop: int,
    progress: Progress,
    record_each: bool = False,
) -> list[tuple[Shadow, int]]:
    """The read models of ``source``'s log rebuilt from its events up to ``stop``, each beside its live one, in
    one pass over the log (a long log split in position ranges replayed side by side, ``SATU_REBUILD_WORKERS``);
    each shadow with how many events it was applied. Each records ``stop`` as the position its log is applied
    through; with ``record_each`` (a check) also a row per event applied."""
    shadows = [Shadow.fresh(spec.new_projection(), spec.service, settings) for spec in specs]
    ranges = position_ranges(stop, settings.rebuild_workers)
    if len(ranges) > 1:
        counts = replay_ranges(source.name, settings, shadows, ranges, progress, record_each)
    else:
        targets = [(shadow.engine, shadow.projection) for shadow in shadows]
        events = source.integration_events(stop=stop, wanted=handled_by_any(targets))
        counts = replay_into(targets, events, progress, record_each=record_each)
    for shadow in shadows:
        shadow.record_applied_through(source.name, stop)
        shadow.add_indexes()
    progress(stop)
    return list(zip(shadows, counts, strict=True))


def swap_in(live: ReadModel, shadow: Shadow, source: EventSource, stop: int, attempts: int = 5) -> int:
    """Replace the live rows with the shadow's and apply what was recorded since ``stop``, in one
    transaction that live consumers wait for (they then find their events applied and skip them). Returns how
    many events it applied after the shadow was made ready (those recorded during the rebuild): on PostgreSQL
    their rows are not vacuumed yet.

    The shadow is first made ready to go live (on PostgreSQL a rewrite of its tables, minutes at national
    size) and brought up to the log's end, outside that transaction: the swap itself applies only the few
    events recorded during the last moments. On PostgreSQL the swap locks the live tables: a reader holding
    one for long, or holding one while it waits for another (a deadlock PostgreSQL ends by failing one side),
    fails the swap, which changed nothing and is tried again."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")
    shadow.ready_to_go_live()
    caught_up = source.last_position()
    target = [(shadow.engine, shadow.projection)]
    events = source.integration_events(start=stop, stop=caught_up, wanted=handled_by_any(target))
    [caught_up_with] = replay_into(target, events, _quiet)
    shadow.record_applied_through(source.name, caught_up)
    for attempt in range(1, attempts + 1):
        try:
            with shadow.beside(live.engine) as connection, connection.begin():
                live.lock_exclusively(connection)
                shadow.replace_live(connection)
                applied = sum(live.apply_in(connection, event) for event in source.as_published(start=caught_up))
            return caught_up_with + applied
        except sa.exc.OperationalError as error:
            if getattr(error.orig, "sqlstate", None) not in RETRIED or attempt == attempts:
                raise
            log.warning("the swap of %s waited on a reader (%s); trying again", live.projection.name, error.orig)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _quiet(_position: int) -> None:
    """No progress of its own: a catch-up of the events recorded during a rebuild is short."""


def tidy(engine: sa.Engine, projection: Projection, done: Step, written: bool = True) -> None:
    """Each live table of ``projection`` vacuumed and analysed once its rows were replaced (``vacuum_analyse``:
    on PostgreSQL, the rows ``written`` since the shadow was vacuumed, or every row an upgrade copied; with none,
    nothing is left to do). The rows are in place already: a vacuum that fails is logged and left to
    autovacuum."""
    for table in projection.metadata.sorted_tables:
        try:
            if written:
                vacuum_analyse(engine, [table.name])
        except sa.exc.DBAPIError as error:
            log.warning("%s not vacuumed (autovacuum will do it): %s", table.name, error)
        done()


def steps(progress: Progress) -> Step:
    """A step counter advancing ``progress`` (a bar of so many tables copied, vacuumed)."""
    count = itertools.count(1)
    return lambda: progress(next(count))


def check_against(live: ReadModel, shadow: Shadow, source: EventSource, stop: int, wait: float) -> list[str]:
    """Compare at one consistent moment: once the live model has caught up with ``stop`` (its
    consumers may lag a little), with live writers held off, and the shadow brought to the same
    events the live model has applied."""
    deadline = time.monotonic() + wait
    with shadow.beside(live.engine) as connection:
        while True:
            behind = shadow.not_applied_live(connection, source.name)
            connection.commit()
            if not behind or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        with connection.begin():
            live.lock_exclusively(connection)
            with shadow.engine.begin() as shadow_writer:
                for event in source.as_published(start=stop):
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
    """Rebuild (``apply``) or check one read model."""
    return run_all([spec], settings, apply, progress_factory, wait)[0]


def run_all(
    specs: list[ReadModelPart],
    settings: Settings,
    apply: bool,
    progress_factory: Callable[[str, int], Progress],
    wait: float = 30.0,
) -> list[Outcome]:
    """Rebuild (``apply``) or check ``specs``, the read models of each log together (one pass over it, a
    progress bar per log); the outcomes in the order of ``specs``."""
    by_source: dict[str, list[ReadModelPart]] = {}
    for spec in specs:
        by_source.setdefault(spec.source, []).append(spec)
    outcomes = {}
    for source_name, group in by_source.items():
        with shadows_held(settings, [spec.service for spec in group]):
            for outcome in _run_group(source_name, group, settings, apply, progress_factory, wait):
                outcomes[outcome.name] = outcome
    return [outcomes[spec.name] for spec in specs]


def _run_group(
    source_name: str,
    specs: list[ReadModelPart],
    settings: Settings,
    apply: bool,
    progress_factory: Callable[[str, int], Progress],
    wait: float,
) -> list[Outcome]:
    source = open_source(source_name, settings, replay=True)
    live_engines = [read_model_engine(settings, spec.service) for spec in specs]
    try:
        # The live models first: one whose tables are of another schema version stops the run before the replay.
        lives = [ReadModel(spec.new_projection(), engine) for spec, engine in zip(specs, live_engines, strict=True)]
        stop = source.last_position()
        label = " + ".join(spec.name for spec in specs)
        rebuilt = build_shadows(specs, source, settings, stop, progress_factory(label, stop), record_each=not apply)
        try:
            outcomes = [Outcome(spec.name, events=count) for spec, (_shadow, count) in zip(specs, rebuilt, strict=True)]
            if apply:
                tables = sum(len(live.projection.metadata.sorted_tables) for live in lives)
                step = steps(progress_factory(f"{label}: into the live tables", 2 * tables))
                written = []
                for live, (shadow, _count) in zip(lives, rebuilt, strict=True):
                    written.append(swap_in(live, shadow, source, stop))
                    for _table in live.projection.metadata.sorted_tables:
                        step()
                # After every swap: the tables are live already, so a vacuum that fails stops none.
                for live, applied in zip(lives, written, strict=True):
                    tidy(live.engine, live.projection, step, written=applied > 0)
            else:
                for outcome, live, (shadow, _count) in zip(outcomes, lives, rebuilt, strict=True):
                    outcome.differences = check_against(live, shadow, source, stop, wait)
            return outcomes
        finally:
            for shadow, _count in rebuilt:
                shadow.close()
    finally:
        for engine in live_engines:
            engine.dispose()
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
    with shadows_held(settings, [spec.service]):
        return _upgrade_held(spec, settings, progress_factory)


def _upgrade_held(spec: ReadModelPart, settings: Settings, progress_factory: Callable[[str, int], Progress]) -> Outcome:
    source = open_source(spec.source, settings, replay=True)
    live_engine = read_model_engine(settings, spec.service)
    try:
        stop = source.last_position()
        [(shadow, count)] = build_shadows([spec], source, settings, stop, progress_factory(spec.name, stop))
        projection = shadow.projection
        step = steps(progress_factory(f"{spec.name}: into the new tables", 2 * len(projection.metadata.sorted_tables)))
        with shadow.beside(live_engine) as connection, connection.begin():
            lock_exclusively(connection, projection)
            schema.replace_tables(projection, connection)
            shadow.copy_into(connection)
            for event in source.as_published(start=stop):
                apply_once(connection, projection, event)
        shadow.close()
        for _table in projection.metadata.sorted_tables:
            step()
        tidy(live_engine, projection, step)
        return Outcome(spec.name, events=count)
    finally:
        live_engine.dispose()
        source.close()
