"""Lag: from an event's commit to its effect in every read model, at a steady rate of events, and what an
idle relay costs; relays woken on commit against the old 50 ms poll, side by side in one run, on SQLite and
PostgreSQL.

    .venv/bin/python -m bench.lag [--rate 100] [--seconds 15] [--idle-seconds 10] [--backends sqlite,postgres]

For each backend the whole system runs once; its relays are started in one mode, measured, then restarted
in the other. A process of its own commits cases at ``--rate`` events per second, straight into the
submissions store as the service would; meanwhile this process approves prepared cases one at a time
(committed when the call returns) and times until each read model shows the approval. Then, with no load,
each relay's CPU time over ``--idle-seconds`` is read from /proc/<pid>/stat.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kombu
import psycopg

from bench.measure import (
    cpu_by_part,
    cpu_seconds,
    machine_cpu_seconds,
    parts_and_broker,
    percentile,
    postgres_server_cpu_seconds,
)
from bench.scenarios import APPROVAL_VERSION, UNLIMITED, VISIBILITY_QUERIES, start_relays
from contracts.events import stable_event_id
from contracts.identity import Caller, Role
from infra.publisher import event_exchange
from infra.settings import Settings
from infra.storage import ONE_THREAD, event_store_env
from infra.topology import EVENT_STORES
from ops.launcher import System
from services.registry.application import RegistryApplication
from services.submissions.application import build_application
from tests.support.factories import attachment, organisation_payload
from tests.support.postgres import scratch_database
from tests.support.scenario import APPROVER, forward
from tests.support.system import eventually, running_system

MODES = {  # name: the relays' environment
    "poll every 50 ms (before)": {"SATU_RELAY_WAKE_ON_COMMIT": "false", "SATU_RELAY_POLL_SECONDS": "0.05"},
    "woken on commit, 1 s safety poll": {"SATU_RELAY_WAKE_ON_COMMIT": "true", "SATU_RELAY_POLL_SECONDS": "1"},
}
PROBE_EVERY = 0.25  # one approval (3 events) every 0.25 s; the load makes up the rest of the rate
APPROVAL_EVENTS = 3
ON_THE_BROKER = "(published: on the broker)"


@dataclass
class Lag:
    samples: dict[str, list[float]] = field(
        default_factory=lambda: {name: [] for name in (ON_THE_BROKER, *VISIBILITY_QUERIES)}
    )
    events_per_second: float = 0.0
    idle_cpu: dict[str, float] = field(default_factory=dict)  # relay: share of one core
    cpu_ms_per_event: dict[str, float] = field(default_factory=dict)  # part (or the machine): under the load


def store_env(settings: Settings, store: str) -> dict[str, str]:
    # One writer at a time in each bench process: one connection, not a pool of five (the shared
    # PostgreSQL server has a hundred for everyone).
    return event_store_env(settings, store, ONE_THREAD)


# --- the applicant, the load and the probes ------------------------------------------------------------


def applicant(settings: Settings) -> tuple[Caller, dict[str, Any]]:
    """An applicant with a recorded organisation (the snapshot the service passes with each filing)."""
    registry = RegistryApplication(env=store_env(settings, "registry"))
    email = f"lag-{uuid.uuid4().hex[:8]}@ormas.or.id"
    account = registry.register_applicant({"email": email, "password": "rahasia-12345", "full_name": "Siti"})
    registry.confirm_directly(account["id"])
    organisation = registry.record_organisation(
        Caller(user_id=account["id"], role=Role.APPLICANT), organisation_payload()
    )
    registry.close()
    return Caller(user_id=account["id"], role=Role.APPLICANT, organisation_id=organisation["id"]), organisation


def write_steadily(
    settings: Settings,
    who: Caller,
    organisation: dict[str, Any],
    rate: float,
    seconds: float,
    ready: Any,  # multiprocessing.Event
    achieved: Any,  # multiprocessing.Value("d"): events/s committed into the store while this ran (probes too)
) -> None:
    """Commit one filing (one event) every 1/rate seconds for ``seconds`` (run in a process of its own)."""
    app = build_application(store_env(settings, "submissions"), settings)
    files = {"attachments": [attachment()]}
    ready.set()
    first, started = app.recorder.max_notification_id() or 0, time.monotonic()
    for index in range(int(rate * seconds)):
        time.sleep(max(0.0, started + index / rate - time.monotonic()))
        app.submit_case(who, organisation, files)
    achieved.value = ((app.recorder.max_notification_id() or 0) - first) / (time.monotonic() - started)
    app.close()


class ReadModels:
    """Looks up the approval's row in each read model, as the gateway's queries would see it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lookups: dict[str, Callable[[str, tuple[str]], object]] = {}
        for service in ("submissions", "documents", "notifications"):
            self._lookups[service] = self._connect(service)

    def _connect(self, service: str) -> Callable[[str, tuple[str]], object]:
        if not self.settings.uses_postgres:
            path = self.settings.var_dir / f"{service}.sqlite"
            sqlite = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            return lambda query, key: sqlite.execute(query, key).fetchone()
        postgres = psycopg.connect(self.settings.database_url, autocommit=True, options=f"-csearch_path={service}")
        return lambda query, key: postgres.execute(query.replace("?", "%s"), key).fetchone()

    def shows_forwarded(self, case_id: str) -> bool:
        """The prepared case's last step before the approval is in the case list (the system caught up)."""
        query = f"SELECT 1 FROM case_timeline WHERE case_id = ? AND version = {APPROVAL_VERSION - 1}"
        return bool(self._lookups["submissions"](query, (case_id,)))

    def time_until_visible(
        self, case_id: str, committed: float, published: Published, timeout: float = 30
    ) -> dict[str, float]:
        keys = {"case": case_id, "event": stable_event_id(case_id, APPROVAL_VERSION)}
        pending, seen = dict(VISIBILITY_QUERIES), {}
        while (pending or ON_THE_BROKER not in seen) and time.perf_counter() < committed + timeout:
            if ON_THE_BROKER not in seen and keys["event"] in published.arrivals:
                seen[ON_THE_BROKER] = published.arrivals[keys["event"]] - committed
            for name, (service, query, key) in list(pending.items()):
                if self._lookups[service](query, (keys[key],)):
                    seen[name] = time.perf_counter() - committed
                    del pending[name]
            time.sleep(0.001)
        return seen


class Published:
    """When each approval reached the broker: a queue of the bench's own on the submissions exchange, read
    by a thread of its own (the relay's part of the lag, apart from the consumers')."""

    def __init__(self, amqp_uri: str) -> None:
        self.arrivals: dict[str, float] = {}
        self._connection = kombu.Connection(amqp_uri)
        queue = kombu.Queue(
            f"bench-lag-{uuid.uuid4().hex[:8]}", event_exchange("submissions"), routing_key="case.approved.v1",
            exclusive=True,
        )  # fmt: skip
        self._consumer = kombu.Consumer(self._connection, [queue], callbacks=[self._note], accept=["json"])
        self._consumer.consume()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _note(self, _body: object, message: kombu.Message) -> None:
        self.arrivals[message.properties["message_id"]] = time.perf_counter()
        message.ack()

    def _drain(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                self._connection.drain_events(timeout=0.2)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._connection.close()


def idle_cpu(system: System, seconds: float) -> dict[str, float]:
    pids = {store.relay: system.processes[store.relay].pid for store in EVENT_STORES}
    before = {relay: cpu_seconds(pid) for relay, pid in pids.items()}
    time.sleep(seconds)
    return {relay: (cpu_seconds(pid) - before[relay]) / seconds for relay, pid in pids.items()}


MACHINE = "the machine"


class LoadCpu:
    """The CPU each part of the system, the broker, the database server and the whole machine spend per event
    committed, from now until ``ms_per_event`` (the load and the probes, and the consumers' catching up).
    The machine's figure includes the bench's own processes (the load's filings, the probes' queries)."""

    def __init__(self, system: System, app: Any) -> None:
        self.app = app
        self.pids = parts_and_broker(system.processes)
        self.before = self._now()
        self.first = app.recorder.max_notification_id() or 0

    def _now(self) -> dict[str, float]:
        return cpu_by_part(self.pids) | {"PostgreSQL": postgres_server_cpu_seconds(), MACHINE: machine_cpu_seconds()}

    def ms_per_event(self) -> dict[str, float]:
        events = max(1, (self.app.recorder.max_notification_id() or 0) - self.first)
        after = self._now()
        return {part: (after[part] - self.before[part]) / events * 1000 for part in after if after[part]}


# --- one backend -----------------------------------------------------------------------------------------


def restart_relays(system: System, env: dict[str, str]) -> None:
    for store in EVENT_STORES:
        system.processes[store.relay].terminate()
        system.processes[store.relay].wait(30)
    system.env.update(env)
    start_relays(system)


def measure_mode(settings: Settings, system: System, rate: float, seconds: float, idle_seconds: float) -> Lag:
    app = build_application(store_env(settings, "submissions"), settings)
    who, organisation = applicant(settings)
    probes = int(seconds / PROBE_EVERY)
    prepared = [app.submit_case(who, organisation, {"attachments": [attachment()]})["id"] for _ in range(probes)]
    for case_id in prepared:
        forward(app, case_id)
    read_models = ReadModels(settings)
    published = Published(settings.amqp_uri)
    eventually(lambda: read_models.shows_forwarded(prepared[-1]), timeout=120)

    lag = Lag()
    load_rate = max(0.0, rate - APPROVAL_EVENTS / PROBE_EVERY)
    spawn = multiprocessing.get_context("spawn")
    ready, achieved = spawn.Event(), spawn.Value("d", 0.0)
    load = spawn.Process(target=write_steadily, args=(settings, who, organisation, load_rate, seconds, ready, achieved))
    load.start()
    ready.wait(120)  # its start-up (imports, opening the store) is not part of the window
    cpu = LoadCpu(system, app)
    for case_id in prepared:
        begun = time.perf_counter()
        app.act(APPROVER, case_id, "approve", {})
        committed = time.perf_counter()
        for name, seconds_taken in read_models.time_until_visible(case_id, committed, published).items():
            lag.samples[name].append(seconds_taken)
        time.sleep(max(0.0, begun + PROBE_EVERY - time.perf_counter()))
    load.join()
    if load.exitcode != 0:
        raise SystemExit(f"the load process failed (exit code {load.exitcode}); its events/s would be wrong")
    published.close()
    # While the load ran (the probes, each waiting for its approval to show, may go on after it).
    lag.events_per_second = achieved.value
    time.sleep(3)  # the consumers finish the backlog
    lag.cpu_ms_per_event = cpu.ms_per_event()
    app.close()
    lag.idle_cpu = idle_cpu(system, idle_seconds)
    return lag


@contextmanager
def backend_settings(backend: str, scratch: Path, amqp_uri: str) -> Iterator[Settings]:
    var_dir = scratch / backend
    var_dir.mkdir()
    if backend == "sqlite":
        yield Settings(env="test", var_dir=var_dir, amqp_uri=amqp_uri)
        return
    with scratch_database("satu_bench_lag") as url:
        yield Settings(env="test", var_dir=var_dir, amqp_uri=amqp_uri, database_url=url)


def lag_on(
    backend: str, scratch: Path, amqp_uri: str, rate: float, seconds: float, idle_seconds: float
) -> dict[str, Lag]:
    with (
        backend_settings(backend, scratch, amqp_uri) as settings,
        running_system(settings, amqp_uri, gateway=False, env=UNLIMITED) as system,
    ):
        results = {}
        for mode, env in MODES.items():
            print(f"(lag) {backend}: {mode} …", flush=True)
            restart_relays(system, env)
            results[mode] = measure_mode(settings, system, rate, seconds, idle_seconds)
        return results


# --- the report ------------------------------------------------------------------------------------------


def lag_lines(results: dict[str, dict[str, Lag]], rate: float) -> list[str]:
    lines = [
        "## Lag at a steady rate: commit to visible in each read model, and an idle relay's CPU",
        "",
        f"A separate process commits filings so that, with the timed approvals, about {rate:.0f} events/s reach "
        "the submissions store (events/s: what reached it while that process ran); each approval is timed from its "
        "commit until its row shows in the read model, the next one a quarter second later or when it has shown. "
        "Idle CPU: a relay's user+system time over a quiet spell, as a share of one core.",
        "",
        "| backend | relays | events/s | read model | p50 | p99 | n |",
        "|---|---|---:|---|---:|---:|---:|",
    ]
    for backend, modes in results.items():
        for mode, lag in modes.items():
            for name, samples in lag.samples.items():
                lines.append(
                    f"| {backend} | {mode} | {lag.events_per_second:.0f} | {name} | "
                    f"{percentile(samples, 0.5) * 1000:.0f} ms | {percentile(samples, 0.99) * 1000:.0f} ms | "
                    f"{len(samples)} |"
                )
    lines += [
        "",
        "| backend | relays | idle CPU, relay-submissions | idle CPU, relay-registry |",
        "|---|---|---:|---:|",
    ]
    for backend, modes in results.items():
        for mode, lag in modes.items():
            cpu = lag.idle_cpu
            lines.append(
                f"| {backend} | {mode} | {cpu.get('relay-submissions', 0):.2%} | {cpu.get('relay-registry', 0):.2%} |"
            )
    parts = sorted({part for modes in results.values() for lag in modes.values() for part in lag.cpu_ms_per_event})
    parts = [part for part in parts if part != MACHINE] + [MACHINE]
    lines += [
        "",
        "CPU ms per event committed, while the load ran and the consumers caught up (PostgreSQL: the server's "
        "processes, those that ended meanwhile included; the machine: every process, the bench's load and probes "
        "included):",
        "",
        "| backend | relays | " + " | ".join(parts) + " |",
        "|---|---|" + "---:|" * len(parts),
    ]
    for backend, modes in results.items():
        for mode, lag in modes.items():
            figures = " | ".join(f"{lag.cpu_ms_per_event.get(part, 0.0):.1f}" for part in parts)
            lines.append(f"| {backend} | {mode} | {figures} |")
    return [*lines, ""]


def run(amqp_uri: str, rate: float, seconds: float, idle_seconds: float, backends: list[str]) -> list[str]:
    """Measure on each backend; the report's lines (Markdown)."""
    results = {}
    with tempfile.TemporaryDirectory(prefix="satu-bench-lag-") as scratch:
        for backend in backends:
            results[backend] = lag_on(backend, Path(scratch), amqp_uri, rate, seconds, idle_seconds)
            print("\n".join(lag_lines({backend: results[backend]}, rate)), flush=True)  # kept if a later one fails
    return lag_lines(results, rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100.0, help="events per second into the submissions store")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long each mode runs under load")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    amqp_uri = os.environ.get("SATU_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
    run(amqp_uri, args.rate, args.seconds, args.idle_seconds, args.backends.split(","))


if __name__ == "__main__":
    main()
