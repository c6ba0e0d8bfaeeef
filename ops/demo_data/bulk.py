"""The registry's and the submissions' own applications, driven in bulk by the demo-data generator.

Every command runs the application's own method — its checks, its aggregates, its hooks — at a moment of
the generator's clock. What a command saves is not written at once: the aggregates stay in hand (a later
command of the same organisation finds them there, as it would find them in the store) and their new
events are kept in the order they were recorded, each mapped to its integration event the way the relay
maps it. ``write`` then stores a whole batch in that order, a few thousand events per transaction.
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

from contracts.events import IntegrationEvent
from services.registry.application import RegistryApplication
from services.submissions.application import SubmissionsApplication

ToIntegration = Callable[[Any], IntegrationEvent | None]

# Events per insert. The library inserts a save's events in one statement in psycopg's pipeline mode, which
# hangs for good once a statement carries more than a few megabytes (psycopg/psycopg#685; reproduced with
# psycopg 3.3.9 and libpq 18: 20,000 events of 300 bytes never return, the server waits in ClientRead).
WRITE_CHUNK = 2_000


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
        # Set when the run began on an empty store: then nothing is stored but what this run saved (the ids,
        # as integers), and a look-up of any other id is answered "not found" without asking the database.
        self.saved: set[int] | None = None


class HeldRepository(Repository[UUID]):
    """A repository of the application (reading the same stores) that finds an aggregate in hand first."""

    def __init__(self, held: Held, reads_like: Repository[UUID]) -> None:
        super().__init__(event_store=reads_like.event_store, snapshot_store=reads_like.snapshot_store)
        self.held = held

    def get(self, aggregate_id: UUID, *, version: int | None = None, **options: Any) -> Any:
        if version is None and aggregate_id in self.held.aggregates:
            return self.held.aggregates[aggregate_id]
        if self.held.saved is not None and aggregate_id.int not in self.held.saved:
            # Most look-ups of a generation ask whether a record exists before making it (an account for an
            # address, a case for a period): a round trip each, a fifth of the run's time, for a certain no.
            raise AggregateNotFoundError(aggregate_id)
        return super().get(aggregate_id, version=version, **options)


class HeldCommands(Application[UUID]):
    """Mixed into an application: its commands keep what they save in hand until ``write``."""

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
            if self.held.saved is not None:
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

    def write(self) -> list[IntegrationEvent]:
        """Store what the batch recorded, in the order it was recorded, a few thousand events per transaction;
        returns the batch's integration events (for the read models) and starts the next batch."""
        recorded = self.held.recorded
        for start in range(0, len(recorded), WRITE_CHUNK):
            super().save(*recorded[start : start + WRITE_CHUNK])
        self._snapshot_changed()
        published = self.held.published
        self.held.recorded, self.held.published = [], []
        return published

    def _snapshot_changed(self) -> None:
        """A snapshot of each changed aggregate the application reads from snapshots (the letter registers),
        as it stands now that its events are stored: the library takes them while saving aggregates, and a
        batch saves their events (a live approval then reads the register from it, not from every number)."""
        intervals = self.snapshotting_intervals or {}
        for aggregate_id in self.held.changed:
            aggregate = self.held.aggregates[aggregate_id]
            if type(aggregate) in intervals and self.snapshots is not None:
                self.snapshots.put([type(aggregate).Snapshot.take(aggregate)])
        self.held.changed.clear()

    def only_what_is_saved_exists(self) -> None:
        """Called on an empty store: from now on an aggregate this run never saved is known not to exist."""
        self.held.saved = set()

    def let_go(self, keep: Callable[[Any], bool]) -> None:
        """Forget the aggregates of finished organisations (the store has them now), keeping shared ones."""
        self.held.aggregates = {key: aggregate for key, aggregate in self.held.aggregates.items() if keep(aggregate)}


# The library names an application's tables after its class unless the class says its name: these write to
# the stores of the applications they run.
class BulkRegistry(HeldCommands, RegistryApplication):
    name = RegistryApplication.name


class BulkSubmissions(HeldCommands, SubmissionsApplication):
    name = SubmissionsApplication.name
