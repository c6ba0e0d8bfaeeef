"""Where the demo data goes: both event stores in bulk, the read models they feed, and their relays.

The generated history is never published: the generator builds the rebuildable read models itself (with
their projections' batch driver, as a rebuild does: each statement once per few thousand events; the events
are new, so none was applied before), and moves each relay past what it wrote (both in the writer process,
writer.py) — otherwise
the running system would mail every generated applicant and render every generated letter. So it refuses
to start while a relay runs (it holds the relay's lock meanwhile) or while a relay has events left to
publish, and the mail outbox, which only the live system fills, starts empty.
"""

from __future__ import annotations

from typing import Any

from argon2 import PasswordHasher

from infra.locks import SingleInstanceLock
from infra.published import prepare_positions, published_mark, store_mismatch
from infra.settings import Settings
from infra.storage import ONE_THREAD, ddl_lock, event_store_env, read_model_engine
from infra.topology import EventStore
from ops.demo_data.bulk import BulkRegistry, BulkSubmissions, HeldCommands, SimulatedClock
from ops.demo_data.writer import Writer, Written
from services.registry import application as registry_application
from services.registry import publishing as registry_publishing
from services.submissions import application as submissions_application
from services.submissions.domain import LetterRegister
from services.submissions.publishing import mapper_for

# argon2id at its lowest cost: every generated account shares one password, and a hash at the registry's
# full cost takes ~0.25 s (a day for a country's accounts). The registry rehashes it at full cost on the
# account's first sign-in.
DEMO_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class GenerationRefused(RuntimeError):
    """The stores are not in a state the generator may write to (the message says why and what to do)."""


class Stores:
    def __init__(self, settings: Settings, clock: SimulatedClock) -> None:
        self.settings = settings
        # One thread writes: a connection or two per store is all it uses (the server's are shared).
        envs = {name: event_store_env(settings, name, ONE_THREAD) for name in ("registry", "submissions")}
        with ddl_lock(settings):  # the applications create their tables (as ops/sources.py opens them)
            registry = registry_application.build_application(envs["registry"], settings, BulkRegistry)
            submissions = submissions_application.build_application(envs["submissions"], settings, BulkSubmissions)
        assert isinstance(registry, BulkRegistry) and isinstance(submissions, BulkSubmissions)
        registry.clock = submissions.clock = clock
        registry.hasher = DEMO_HASHER
        registry.to_integration = registry_publishing.to_integration
        submissions.to_integration = mapper_for(submissions)
        submissions.fixed_today = None  # the generator's clock says what day it is
        self.registry, self.submissions = registry, submissions
        self.applications: dict[str, HeldCommands] = {"registry": registry, "submissions": submissions}
        self.positions = {name: read_model_engine(settings, name) for name in self.applications}
        self.locks: list[SingleInstanceLock] = []
        self.events = {name: 0 for name in self.applications}
        self.writer: Writer | None = None  # started with the first batch
        self.waited = 0.0  # seconds the commands waited for the writer to take a batch

    def open(self) -> None:
        """Hold every relay's lock and check that nothing waits to be published."""
        for name, application in self.applications.items():
            engine = self.positions[name]
            database_url = self.settings.database_url if self.settings.uses_postgres else None
            lock = SingleInstanceLock(EventStore(name).relay, database_url, self.settings.var_dir)
            try:
                lock.acquire()
            except RuntimeError:
                raise GenerationRefused(f"the relay of the {name} store is running: stop the system first") from None
            self.locks.append(lock)
            prepare_positions(engine)
            mark = published_mark(engine, name)
            problem = store_mismatch(application.recorder, name, mark)
            if problem is not None:
                raise GenerationRefused(f"{problem}: run `satu relay-reset {name}` first")
            stored = application.recorder.max_notification_id() or 0
            waiting = stored - mark.position
            if waiting > 0:
                raise GenerationRefused(
                    f"the relay of the {name} store has {waiting} event(s) still to publish: run the system until "
                    "it has published them, stop it, then generate"
                )
            if stored == 0:  # nobody else writes meanwhile (the relays' locks are held, the system is stopped)
                application.only_what_is_saved_exists()

    @property
    def pending(self) -> int:
        return sum(application.pending for application in self.applications.values())

    def write(self) -> None:
        """Hand the batch to the writer (it stores it, builds the read models from it and marks it published)
        and let go of what the next batch will not read."""
        if self.writer is None:
            self.writer = Writer(self.settings)
        for name, application in self.applications.items():
            self.events[name] += application.pending
            self.writer.put(application.take_batch(name))
            # The registers are every organisation's: the next batch numbers on from where this one stopped.
            application.let_go(lambda aggregate: isinstance(aggregate, LetterRegister))

    def finish(self) -> Written:
        """Wait until the writer has written every batch; where its time went."""
        if self.writer is None:
            return Written()
        written = self.writer.finish()
        self.waited, self.writer = self.writer.waited, None
        return written

    def close(self) -> None:
        if self.writer is not None:  # a failure before the end: the writer is not waited for
            self.writer.stop()
        for lock in self.locks:
            lock.release()
        for engine in self.positions.values():
            engine.dispose()
        for application in self.applications.values():
            application.close()

    def __enter__(self) -> Stores:
        try:
            self.open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()
