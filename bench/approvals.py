"""(f) Approvals as letters accumulate: how long an SKM approval takes — it takes the next number of the
year's letter register in the same atomic save — with a few letters already in that register and with
many, on SQLite and on PostgreSQL, side by side in one run.

Per backend two empty stores are filled in bulk through the application (the register aggregate takes
its numbers, saved `BATCH` events at a time, snapshots taken as the application takes them), then
settled as a store is after a year of use (SQLite's write-ahead log checkpointed; PostgreSQL vacuumed
and analysed, autovacuum's work). The approvals measured are real ones (`SubmissionsApplication.act`) on
cases submitted and forwarded beforehand, untimed, taken alternately in the two stores so that the
machine's load weighs on both alike. With 200 approvals per store, p99 is the second slowest.

    .venv/bin/python -m bench.approvals [--few 100] [--many 10000] [--approvals 200]
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.measure import percentile
from infra.settings import Settings
from infra.storage import event_store_env
from services.submissions.application import SubmissionsApplication, build_application
from services.submissions.domain import LetterRegister
from tests.support.postgres import scratch_database
from tests.support.scenario import APPROVER, forward, submit

BATCH = 5_000  # register events per save while filling: one transaction each, memory bounded
WARM_UP = 5  # approvals per store before the measured ones (statement caches, connections)
BACKENDS = ("sqlite", "postgres")


@dataclass
class Latencies:
    backend: str
    letters: int  # already in the year's register before the first approval
    samples: list[float] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return percentile(self.samples, 0.5)

    @property
    def p99(self) -> float:
        return percentile(self.samples, 0.99)


def skm_register(app: SubmissionsApplication) -> str:
    """The register the SKM approval numbers its letter from (from the region's workflow definition)."""
    return next(iter(app.catalogue.workflows["skm"].outputs.values())).register_name


def fill_register(app: SubmissionsApplication, letters: int, progress: Callable[[int], None]) -> None:
    """Put ``letters`` numbers into this year's SKM register of an empty store, in bulk."""
    register = LetterRegister.open(skm_register(app), app.today().year)
    for index in range(letters):
        register.take_next(f"bulk-{index}")
        if (index + 1) % BATCH == 0:
            app.save(register)
            progress(index + 1)
    app.save(register)
    progress(letters)


def settle(settings: Settings) -> None:
    """What a store that grew over a year has had done to it: no bulk load's leftovers weigh on reads."""
    if settings.uses_postgres:
        with psycopg.connect(settings.database_url, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")
        return
    with sqlite3.connect(settings.var_dir / "submissions-events.sqlite") as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@dataclass
class Office:
    """One store with ``letters`` in its register and forwarded cases waiting for approval."""

    app: SubmissionsApplication
    waiting: list[str]
    latencies: Latencies
    last_number: int = 0

    def approve_next(self) -> float:
        case_id = self.waiting.pop()
        started = time.perf_counter()
        approved = self.app.act(APPROVER, case_id, "approve", {})
        elapsed = time.perf_counter() - started
        self.last_number = approved["letter"]["sequence"]
        return elapsed


@contextmanager
def office(backend: str, scratch: Path, letters: int, cases: int) -> Iterator[Office]:
    var_dir = scratch / f"approvals-{backend}-{letters}"
    var_dir.mkdir()
    with ExitStack() as stack:
        database_url = stack.enter_context(scratch_database("satu_bench")) if backend == "postgres" else ""
        settings = Settings(env="test", var_dir=var_dir, database_url=database_url)
        app = build_application(event_store_env(settings, "submissions"), settings)
        stack.callback(app.close)

        def progress(done: int) -> None:
            print(f"    {backend}: {done}/{letters} letters in the register", end="\r", flush=True)

        fill_register(app, letters, progress)
        print()
        waiting = [submit(app)["id"] for _ in range(cases)]
        for case_id in waiting:
            forward(app, case_id)
        settle(settings)
        yield Office(app, waiting, Latencies(backend, letters))


def register_latencies(scratch: Path, sizes: tuple[int, int], approvals: int) -> list[Latencies]:
    """Approval latencies with each of ``sizes`` letters already in the register, on each backend."""
    results = []
    for backend in BACKENDS:
        with ExitStack() as stack:
            offices = [stack.enter_context(office(backend, scratch, n, WARM_UP + approvals)) for n in sizes]
            for _ in range(WARM_UP):
                for each in offices:
                    each.approve_next()
            for _ in range(approvals):
                for each in offices:
                    each.latencies.samples.append(each.approve_next())
            for each in offices:  # every approval numbered on from the bulk, none skipped or repeated
                if each.last_number != each.latencies.letters + WARM_UP + approvals:
                    raise SystemExit(f"{backend}: register out of step, last number {each.last_number}")
            results += [each.latencies for each in offices]
    return results


def report(results: list[Latencies]) -> list[str]:
    """Markdown: the table and, per backend, the latency with many letters against that with few."""
    lines = [
        "| backend | letters already in the register | approvals | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
        *[
            f"| {r.backend} | {r.letters} | {len(r.samples)} | {r.p50 * 1000:.1f} | {r.p99 * 1000:.1f} |"
            for r in results
        ],
        "",
    ]
    for backend in BACKENDS:
        few, many = sorted((r for r in results if r.backend == backend), key=lambda r: r.letters)
        lines.append(
            f"{backend}: with {many.letters} letters an approval's p99 is {many.p99 / few.p99:.2f} × and its p50 "
            f"{many.p50 / few.p50:.2f} × that with {few.letters}."
        )
    return lines


def main() -> None:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--few", type=int, default=100)
    parser.add_argument("--many", type=int, default=10_000)
    parser.add_argument("--approvals", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="satu-bench-") as scratch:
        print("\n".join(report(register_latencies(Path(scratch), (args.few, args.many), args.approvals))))


if __name__ == "__main__":
    main()
