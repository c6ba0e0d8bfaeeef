"""The registry's and the submissions' own applications, driven in bulk by the demo-data generator.

Every command runs the application's own method — its checks, its aggregates, its hooks — at a moment of
the generator's clock. What a command saves is not written at once: the aggregates stay in hand (a later
command of the same organisation finds them there, as it would find them in the store) and their new
events are kept in the order they were recorded, each mapped to its integration event the way the relay
maps it. ``take_batch`` then hands a whole batch, mapped to stored events in that order, to the writer
process (writer.py).
Aggregates shared by every organisation (the letter registers) stay in hand for the whole run; the rest
are let go after each batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.domain import CanCreateTimestamp
from eventsourcing.persistence import StoredEvent

from contracts.events import IntegrationEvent
from ops.demo_data.writer import Batch
from services.registry.application import RegistryApplication
from services.submissions.application import SubmissionsApplication

ToIntegration = Callable[[Any], IntegrationEvent | None]


class SimulatedClock:
    """The dataset's present moment while one command runs (years of history are made in minutes)."""

    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment


@contextmanager
def stamped_by(clock: SimulatedClock) -> Iterator[None]:
    """Every domain event made inside the block carries the clock's moment instead of the wall clock's.

    The eventsourcing library stamps each event as it is made (``CanCreateTimestamp.create_timestamp``);
    a case filed in 2019 must say 2019 in its events — the read models, the service-level clock and the
    reminders are all computed from those stamps. Only the generator's own process runs inside this."""
    original = CanCreateTimestamp.__dict__["create_timestamp"]
    CanCreateTimestamp.create_timestamp = staticmethod(lambda: clock.moment)  # type: ignore[method-assign]
    try:
        yield
    finally:
        CanCreateTimestamp.create_timestamp = original  # type: ignore[method-assign]


class Held:
    """What a batch holds: aggregates by id, and the events its commands recorded (domain and integration)."""

    def __init__(self) -> None:
        self.aggregates: dict[UUID, Any] = {}
        self.changed: set[UUID] = set()  # aggregates with events recorded since the last write
        self.recorded: list[Any] = []
        self.published: list[IntegrationEvent] = []
        self.saved: set[int] = set()  # every aggregate this run saved (ids as integers)
        # Set when the run began on an empty store: then nothing is stored but what this run saved, and a
        # look-up of any other id is answered "not found" without asking the database.
        self.only_saved_exist = False


class HeldRepository(Repository[UUID]):
    """A repository of the application (reading the same stores) that finds an aggregate in hand first."""

    def __init__(self, held: Held, reads_like: Repository[UUID]) -> None:
        super().__init__(event_store=reads_like.event_store, snapshot_store=reads_like.snapshot_store)
        self.held = held

    def get(self, aggregate_id: UUID, *, version: int | None = None, **options: Any) -> Any:
        if version is None and aggregate_id in self.held.aggregates:
            return self.held.aggregates[aggregate_id]
        if aggregate_id.int in self.held.saved:
            # Let go with an earlier batch, which the writer process may not have stored yet: the generator's
            # plans never read one back (an organisation's history is made within one batch).
            raise RuntimeError(f"the generator read back {aggregate_id}, handed to the writer with an earlier batch")
        if self.held.only_saved_exist:
            # Most look-ups of a generation ask whether a record exists before making it (an account for an
            # address, a case for a period): a round trip each, a fifth of the run's time, for a certain no.
            raise AggregateNotFoundError(aggregate_id)
        return super().get(aggregate_id, version=version, **options)


class HeldCommands(Application[UUID]):
    """Mixed into an application: its commands keep what they save in hand until ``take_batch``."""

    clock: SimulatedClock
    registers: Repository[UUID]  # where an application has a second repository (submissions: its registers)
    to_integration: ToIntegration = staticmethod(lambda _event: None)  # set once the application exists

    def construct_repository(self) -> Repository[UUID]:
        """The application's repositories (submissions reads its letter registers through a second one, from
        snapshots), each finding what is in hand first."""
        self.held = Held()
        repository = super().construct_repository()
        registers = getattr(self, "registers", None)
        if isinstance(registers, Repository):
            self.registers = HeldRepository(self.held, registers)
        return HeldRepository(self.held, repository)

    def now(self) -> dt.datetime:
        return self.clock.moment

    def save(self, *objs: Any, **_kwargs: Any) -> list[Any]:
        for aggregate in objs:
            if aggregate is None:
                continue
            self.held.aggregates[aggregate.id] = aggregate
            self.held.changed.add(aggregate.id)
            self.held.saved.add(aggregate.id.int)
            for event in aggregate.collect_events():
                self.held.recorded.append(event)
                published = self.to_integration(event)
                if published is not None:
                    self.held.published.append(published)
        return []

    def published_since(self, mark: int) -> list[IntegrationEvent]:
        return self.held.published[mark:]

    @property
    def pending(self) -> int:
        return len(self.held.recorded)

    def take_batch(self, store: str) -> Batch:
        """What the batch recorded, as this application would store it (its events in the order recorded, a
        snapshot of each changed letter register), with its integration events; the next batch starts."""
        stored = [self.mapper.to_stored_event(event) for event in self.held.recorded]
        batch = Batch(store, stored, self._snapshots_of_changed(), self.held.published)
        self.held.recorded, self.held.published = [], []
        return batch

    def _snapshots_of_changed(self) -> list[StoredEvent]:
        """A snapshot of each changed aggregate the application reads from snapshots (the letter registers),
        as it stands at the end of the batch: the library takes them while saving aggregates, and a batch
        stores their events (a live approval then reads the register from it, not from every number)."""
        intervals = self.snapshotting_intervals or {}
        taken = []
        if self.snapshots is not None:
            for aggregate_id in self.held.changed:
                aggregate = self.held.aggregates[aggregate_id]
                if type(aggregate) in intervals:
                    taken.append(self.snapshots.mapper.to_stored_event(type(aggregate).Snapshot.take(aggregate)))
        self.held.changed.clear()
        return taken

    def only_what_is_saved_exists(self) -> None:
        """Called on an empty store: from now on an aggregate this run never saved is known not to exist."""
        self.held.only_saved_exist = True

    def let_go(self, keep: Callable[[Any], bool]) -> None:
        """Forget the aggregates of finished organisations (the store has them now), keeping shared ones."""
        self.held.aggregates = {key: aggregate for key, aggregate in self.held.aggregates.items() if keep(aggregate)}


# The library names an application's tables after its class unless the class says its name: these write to
# the stores of the applications they run.
class BulkRegistry(HeldCommands, RegistryApplication):
    name = RegistryApplication.name


class BulkSubmissions(HeldCommands, SubmissionsApplication):
    name = SubmissionsApplication.name
