"""The generator's writer: a process of its own that stores each batch, builds the read models from it and
marks it published, while the generator's process carries out the next organisations' commands. With two
cores the commands run on one and the writing (with PostgreSQL's share of it) on the other.

The generator hands over what the applications would have written: their stored events (mapped by the
applications' own mappers, in the order they were recorded), the snapshots of the letter registers, and the
integration events the relays would have published. A batch is never read back by the generator (an
organisation's whole history is made within one batch, and the registers stay in hand), so the next one can
be made while this one is written. At most ``QUEUED`` batches wait: memory stays bounded when the writer is
the slower of the two.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import signal
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import StoredEvent

from contracts.events import IntegrationEvent
from infra.published import EventName, Publishing
from infra.readmodel import ReadModel, applied_through, record_applied_through
from infra.replay import BATCH_EVENTS as REPLAY_BATCH
from infra.replay import apply_batch
from infra.settings import Settings
from infra.statements import Insert
from infra.storage import ONE_THREAD, ddl_lock, event_store_env, read_model_engine
from infra.topology import REBUILDABLE
from services.registry import application as registry_application
from services.submissions import application as submissions_application

log = logging.getLogger(__name__)

QUEUED = 2  # batches handed over and not yet written
STORES = ("registry", "submissions")

# Events per insert. The library inserts a save's events in one statement in psycopg's pipeline mode, which
# hangs for good once a statement carries more than a few megabytes (psycopg/psycopg#685; reproduced with
# psycopg 3.3.9 and libpq 18: 20,000 events of 300 bytes never return, the server waits in ClientRead).
WRITE_CHUNK = 2_000


class WriterFailed(RuntimeError):
    """The writer process stopped on an error (its message says which)."""


@dataclass
class Batch:
    """One store's share of a batch, as its application would have written it."""

    store: str
    events: list[StoredEvent]
    snapshots: list[StoredEvent]  # the letter registers', taken as they stand after these events
    published: list[IntegrationEvent]


@dataclass
class Written:
    """What the writer reports at the end: where its time went, and its CPU time."""

    seconds: dict[str, float] = field(default_factory=lambda: {"store": 0.0, "read models": 0.0})
    cpu_seconds: float = 0.0


class Writer:
    """The generator's side: starts the writer process, hands batches over, waits for the last."""

    def __init__(self, settings: Settings) -> None:
        context = multiprocessing.get_context("spawn")  # its own connections; nothing inherited from this process
        self._inbox: Any = context.Queue(maxsize=QUEUED)
        self._outbox: Any = context.Queue()
        self._process = context.Process(target=_serve, args=(settings, self._inbox, self._outbox), daemon=True)
        self._process.start()
        self.waited = 0.0  # seconds the generator waited for the writer to take a batch

    def put(self, batch: Batch | None) -> None:
        """Hand ``batch`` over (None: the end), waiting while ``QUEUED`` wait already; raises if the writer failed."""
        started = time.perf_counter()
        while True:
            if not self._process.is_alive():
                raise self._failure()
            try:
                self._inbox.put(batch, timeout=0.5)
                break
            except queue.Full:
                continue
        self.waited += time.perf_counter() - started

    def finish(self) -> Written:
        """Wait until every batch handed over is written; what the writer measured."""
        self.put(None)
        while True:
            try:
                kind, detail = self._outbox.get(timeout=0.5)
            except queue.Empty:
                if self._process.is_alive():
                    continue
                raise self._failure() from None
            self._process.join()
            if kind == "failed":
                raise WriterFailed(detail)
            return detail

    def stop(self) -> None:
        """After a failure in the generator. The batches handed over are whole (every organisation in them
        complete), so the writer finishes them: one cut off midway would leave events stored but neither
        published nor projected. Only a second interruption, or the writer's own failure, ends it at once."""
        try:
            if self._process.is_alive():
                self.finish()
        except BaseException as error:
            if self._process.is_alive():
                self._process.terminate()
            self._process.join()
            self._inbox.cancel_join_thread()  # what it did not take is dropped: this process can exit
            if isinstance(error, KeyboardInterrupt):
                raise
            log.error("%s", error)

    def _failure(self) -> WriterFailed:
        """The writer ended before its end mark: its last word, if it said one, is why."""
        try:
            kind, detail = self._outbox.get(timeout=5)  # it may still be on the way
        except queue.Empty:
            return WriterFailed(f"the writer process ended (exit code {self._process.exitcode})")
        return WriterFailed(detail if kind == "failed" else f"the writer process ended early: {kind}")


def _serve(settings: Settings, inbox: Any, outbox: Any) -> None:
    """In the writer process: write each batch until the end mark, then report; on an error report it and end."""
    # Ctrl-C reaches the whole process group: the generator decides (stop: finish what was handed over).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        sink = Sink(settings)
        try:
            while (batch := _next(inbox)) is not None:
                sink.write(batch)
        finally:
            sink.close()
        outbox.put(("done", Written(sink.seconds, time.process_time())))
    except BaseException as error:
        outbox.put(("failed", f"writing the demo data failed: {type(error).__name__}: {error}"))
        traceback.print_exc()
        raise SystemExit(1) from None


def _next(inbox: Any) -> Batch | None:
    """The next batch, or None at the end mark. A generator killed outright never sends one: then the writer
    ends between two batches instead of waiting for ever with its connections open."""
    parent = multiprocessing.parent_process()
    while True:
        try:
            batch: Batch | None = inbox.get(timeout=1.0)
            return batch
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                raise WriterFailed("the generator ended without finishing (killed?)") from None


class Sink:
    """The stores' recorders, the read models they feed, and the relays' positions, in the writer process."""

    def __init__(self, settings: Settings) -> None:
        envs = {name: event_store_env(settings, name, ONE_THREAD) for name in STORES}  # one thread writes
        with ddl_lock(settings):
            self.applications = {
                "registry": registry_application.build_application(envs["registry"], settings),
                "submissions": submissions_application.build_application(envs["submissions"], settings),
            }
        self.read_models: dict[str, list[ReadModel]] = defaultdict(list)
        for part in REBUILDABLE:
            self.read_models[part.source].append(
                ReadModel(part.new_projection(), read_model_engine(settings, part.service))
            )
        self.positions = {name: read_model_engine(settings, name) for name in STORES}
        self.publishing = {
            name: Publishing(engine, name, self.applications[name].recorder) for name, engine in self.positions.items()
        }
        self.seconds = {"store": 0.0, "read models": 0.0}

    def write(self, batch: Batch) -> None:
        """Store the batch in log order, build the read models from it, and mark it published."""
        application = self.applications[batch.store]
        started = time.perf_counter()
        before = application.recorder.max_notification_id() or 0
        for start in range(0, len(batch.events), WRITE_CHUNK):
            application.recorder.insert_events(batch.events[start : start + WRITE_CHUNK])
        if batch.snapshots and application.snapshots is not None:
            application.snapshots.recorder.insert_events(batch.snapshots)
        self.seconds["store"] += time.perf_counter() - started
        started = time.perf_counter()
        position = application.recorder.max_notification_id() or 0
        for model in self.read_models[batch.store]:
            handled = [(None, event) for event in batch.published if model.projection.handles(event.event_type)]
            with model.engine.begin() as connection:
                # A read model that had applied every event before this batch (a new dataset, the batches before)
                # records the position it now has applied every event through, not a row per event. Otherwise
                # (events applied live, some perhaps still queued for it) it records a row per event, as a
                # consumer would, and a delivery of an earlier event is not taken as seen.
                complete = applied_through(connection, model.projection, batch.store) == before
                record = None if complete else Insert(model.projection.processed)
                for start in range(0, len(handled), REPLAY_BATCH):
                    apply_batch(connection, model.projection, handled[start : start + REPLAY_BATCH], record)
                if complete:
                    record_applied_through(connection, model.projection, batch.store, position)
        self.seconds["read models"] += time.perf_counter() - started
        if batch.events:  # its last event is the store's last (the relays' locks are held, the system stopped)
            self.publishing[batch.store].save(position, EventName.of(batch.events[-1]))

    def close(self) -> None:
        for models in self.read_models.values():
            for model in models:
                model.close()
        for engine in self.positions.values():
            engine.dispose()
        for application in self.applications.values():
            application.close()
