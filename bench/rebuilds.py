"""(c) Rebuilds at a size that matters: every read model rebuilt from its log (`satu rebuild`) and checked
against the live model (`satu check`), against the raw read+decode of the same log in the same run, with the
peak memory of each run, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.rebuilds [--cases 6000] [--sqlite-only]

The log is written through the applications on SQLite: organisations recorded in the registry (some of them
late with a report), cases filed for them, then moved along (field visits, forwards, a revision for one in four,
an approval for one in ten) once all are filed, as cases wait in queues, so a case's events lie far apart.
Its stored events are then copied as they are into a fresh PostgreSQL database. Each measurement runs in a
process of its own, so its peak RSS (VmHWM) is that run's alone; a log a quarter the size is rebuilt too,
so memory that grew with the log would show.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from eventsourcing.persistence import StoredEvent

from contracts.identity import Caller, Role
from infra.settings import Settings, default_rebuild_workers
from infra.topology import EVENT_STORE_NAMES, REBUILDABLE, read_model
from ops.rebuild import run as rebuild
from ops.rebuild import run_all
from ops.sources import open_source
from services.registry.domain import Organisation
from tests.support.factories import attachment, organisation_payload
from tests.support.postgres import scratch_database
from tests.support.scenario import APPROVER, VERIFIER, forward, submit


@dataclass
class Run:
    """One measured run in a process of its own."""

    events: int
    seconds: float
    cpu_seconds: float  # this process's own (not PostgreSQL's): steadier than the clock on a shared machine
    peak_rss_mb: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else float("inf")


# --- the log ---------------------------------------------------------------------------------------------


def fill(settings: Settings, cases: int) -> None:
    """Write a realistic log through the registry and submissions applications (progress on stdout)."""
    registry = open_source("registry", settings)
    organisations = []
    for start in range(0, max(1, cases // 3), 500):
        chunk = [record(n) for n in range(start, min(start + 500, max(1, cases // 3)))]
        registry.application.save(*chunk)
        organisations += [str(organisation.id) for organisation in chunk]
    registry.close()
    source = open_source("submissions", settings)
    app = source.application
    filed = []
    for n in range(cases):
        organisation_id = organisations[n % len(organisations)]
        applicant = Caller(user_id=f"bench-{organisation_id}", role=Role.APPLICANT, organisation_id=organisation_id)
        filed.append((submit(app, applicant)["id"], applicant))  # type: ignore[arg-type]
        _progress("filed", n + 1, cases)
    for n, (case_id, applicant) in enumerate(filed):
        if n % 4 == 0:
            app.act(VERIFIER, case_id, "request_revision", {"reason": "Lampiran NPWP buram"})  # type: ignore[attr-defined]
            app.act(applicant, case_id, "resubmit", {"attachments": [attachment("npwp")]})  # type: ignore[attr-defined]
        forward(app, case_id)  # type: ignore[arg-type]
        if n % 10 == 0:
            app.act(APPROVER, case_id, "approve", {})  # type: ignore[attr-defined]
        _progress("moved", n + 1, cases)
    source.close()


def record(n: int) -> Organisation:
    organisation = Organisation(profile=organisation_payload(name=f"Perkumpulan Bench {n}"), owner_id=f"bench-{n}")
    if n % 5 == 0:
        organisation.report_overdue("2026-S1", 0, lambda _missed: "late")
    return organisation


def _progress(what: str, done: int, total: int) -> None:
    if done % 1000 == 0 or done == total:
        print(f"  {what} {done}/{total}", flush=True)


def copy_log(source: Settings, target: Settings) -> None:
    """Every store's stored events, as they are, into the target's stores (in bulk)."""
    for name in EVENT_STORE_NAMES:
        reader, writer = open_source(name, source), open_source(name, target)
        position = 0
        while notifications := reader.application.recorder.select_notifications(
            start=position, limit=2000, inclusive_of_start=False
        ):
            writer.application.recorder.insert_events(
                [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]
            )
            position = notifications[-1].id
        reader.close()
        writer.close()


# --- one measurement, in a process of its own ------------------------------------------------------------


def child(what: str, name: str, settings: Settings) -> dict[str, float]:
    """raw: read and decode store ``name``'s log; rebuild / check: read model ``name``."""
    started, cpu = time.perf_counter(), cpu_seconds()
    if what == "raw":
        source = open_source(name, settings)
        decoded, position = 0, 0
        while notifications := source.application.recorder.select_notifications(
            start=position, limit=1000, inclusive_of_start=False
        ):
            for notification in notifications:
                source.application.mapper.to_domain_event(notification)
            decoded, position = decoded + len(notifications), notifications[-1].id
        source.close()
        return {"events": decoded, "seconds": time.perf_counter() - started, "cpu": cpu_seconds() - cpu}
    quiet = lambda _name, _total: lambda _position: None  # noqa: E731
    if what == "every":  # `satu rebuild`: every read model, those of one log in one pass
        outcomes = run_all(list(REBUILDABLE), settings, apply=True, progress_factory=quiet)
    elif what == "each":  # the same, one read model after the other (as before one pass per log)
        outcomes = [rebuild(spec, settings, apply=True, progress_factory=quiet) for spec in REBUILDABLE]
    else:
        outcomes = [rebuild(read_model(name), settings, apply=what == "rebuild", progress_factory=quiet)]
    for outcome in outcomes:
        if outcome.differences:
            raise SystemExit(f"{outcome.name}: the live model differs from a rebuild: {outcome.differences[:3]}")
    events = sum(outcome.events for outcome in outcomes)
    return {"events": events, "seconds": time.perf_counter() - started, "cpu": cpu_seconds() - cpu}


def cpu_seconds() -> float:
    """This process's CPU and that of its children that ended (a rebuild's workers over position ranges)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def measured(what: str, name: str, settings: Settings, log_events: int | None = None, workers: int = 1) -> Run:
    """Run ``child`` in a new process (a rebuild with ``workers`` processes over position ranges); its events
    (or ``log_events``: the log it read), time and peak RSS."""
    command = [sys.executable, "-m", "bench.rebuilds", "--child", what, name, "--var-dir", str(settings.var_dir)]
    if settings.database_url:
        command += ["--database-url", settings.database_url]
    environment = {**os.environ, "SATU_REBUILD_WORKERS": str(workers)}
    finished = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False, env=environment)
    if finished.returncode != 0:
        raise SystemExit(f"{what} {name} failed")
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    events = log_events or int(result["events"])
    return Run(events, float(result["seconds"]), float(result["cpu"]), float(result["peak_rss_mb"]))


def peak_rss_mb() -> float:
    """This process's peak resident memory since it started its program. Not getrusage's ru_maxrss: Linux
    carries that across exec, so a child would show the size of the (large) parent it was forked from."""
    status = Path("/proc/self/status").read_text()
    kilobytes = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    # A rebuild's workers are forks of this process: the largest of them counts too.
    return max(kilobytes, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


# --- the section -----------------------------------------------------------------------------------------

# The largest read model is rebuilt once more by this many processes, each replaying its range of positions
# (SATU_REBUILD_WORKERS; a range is at least ops/parallel_replay.py LEAST_PER_WORKER positions long).
RANGE_WORKERS = 2
IN_RANGES = ("submissions.cases",)


@dataclass
class Measured:
    backend: str
    raw: dict[str, Run]  # per event store
    rebuilt: dict[str, Run]  # per read model
    checked: dict[str, Run]
    rebuilt_small: dict[str, Run]  # the same, from a log a quarter the size
    in_ranges: dict[str, Run]  # rebuilt by RANGE_WORKERS processes, each replaying its range of the log
    every: dict[str, Run]  # every read model: "one pass per log", "one after the other"


def measure(settings: Settings, small: Settings, backend: str) -> Measured:
    print(f"(c) rebuilds on {backend} …", flush=True)
    raw = {name: measured("raw", name, settings) for name in EVENT_STORE_NAMES}
    # Events read per second: a read model's rebuild reads its store's whole log, whatever it keeps of it.
    rebuilt = {spec.name: measured("rebuild", spec.name, settings, raw[spec.source].events) for spec in REBUILDABLE}
    checked = {spec.name: measured("check", spec.name, settings, raw[spec.source].events) for spec in REBUILDABLE}
    small_log = {name: _log_size(small, name) for name in EVENT_STORE_NAMES}
    rebuilt_small = {spec.name: measured("rebuild", spec.name, small, small_log[spec.source]) for spec in REBUILDABLE}
    in_ranges = {
        name: measured("rebuild", name, settings, raw[read_model(name).source].events, workers=RANGE_WORKERS)
        for name in IN_RANGES
    }
    logs = sum(run.events for run in raw.values())
    cores = default_rebuild_workers()
    every = {
        "one pass per log, one process": measured("every", "all", settings, logs),
        f"one pass per log, {cores} processes over position ranges (`satu rebuild` here)": measured(
            "every", "all", settings, logs, workers=cores
        ),
        "one read model after the other (before)": measured("each", "all", settings, logs),
    }
    return Measured(backend, raw, rebuilt, checked, rebuilt_small, in_ranges, every)


def _log_size(settings: Settings, store: str) -> int:
    source = open_source(store, settings)
    try:
        return source.last_position()
    finally:
        source.close()


def rebuild_section(cases: int, postgres: bool = True) -> list[str]:
    """Fill the logs, measure on SQLite (and PostgreSQL: SATU_TEST_PG_ADMIN_URL's server), return the
    section's markdown lines."""
    with tempfile.TemporaryDirectory(prefix="satu-bench-rebuild-") as scratch:
        large, small = _settings(Path(scratch, "large")), _settings(Path(scratch, "small"))
        print(f"(c) writing a log of {cases} cases (and one of {cases // 4}) through the applications …", flush=True)
        fill(large, cases)
        fill(small, max(4, cases // 4))
        results = [measure(large, small, "SQLite")]
        if postgres:
            with scratch_database("satu_bench") as url, scratch_database("satu_bench") as small_url:
                on_postgres = _settings(large.var_dir, url)
                small_on_postgres = _settings(small.var_dir, small_url)
                copy_log(large, on_postgres)
                copy_log(small, small_on_postgres)
                results.append(measure(on_postgres, small_on_postgres, "PostgreSQL"))
    return section_lines(cases, results)


def _settings(var_dir: Path, database_url: str = "") -> Settings:
    var_dir.mkdir(parents=True, exist_ok=True)
    return Settings(env="test", var_dir=var_dir, database_url=database_url)


def section_lines(cases: int, results: list[Measured]) -> list[str]:
    lines = [
        "## (c) Read-model rebuilds",
        "",
        f"A log of {cases} cases written through the applications (see bench/rebuilds.py), its stored events",
        "copied as they are into PostgreSQL. Events per second are the log's events read, whatever a read",
        "model keeps of them; each run in a process of its own, with its peak RSS; `satu check` rebuilds and",
        "compares. CPU is the run's own process and its workers (PostgreSQL's work not included): the ratio a",
        "shared machine disturbs least. The last column rebuilds a log a quarter the size: the difference is the",
        "cache of case filings (services/submissions/publishing.py), bounded at 10,000 cases; nothing else grows.",
        f"The case list is rebuilt once more by {RANGE_WORKERS} processes, each replaying its range of the log's",
        "positions into the same shadow (ops/parallel_replay.py): it gains only where cores are free. The last",
        "rows rebuild every read model: the read models of one log in one pass (the log read and decoded once",
        "for all of them), against one after the other, each reading its log again.",
        "",
        "| backend | what | events | seconds | events/s | × raw | CPU s | × raw (CPU) | peak RSS | peak RSS, ¼ log |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        for store, raw in result.raw.items():
            lines.append(_row(result.backend, f"raw: read and decode the {store} log (baseline)", raw, raw))
        for name, run in result.rebuilt.items():
            raw = result.raw[read_model(name).source]
            small = result.rebuilt_small[name]
            lines.append(_row(result.backend, f"`satu rebuild` {name}", run, raw, small))
            lines.append(_row(result.backend, f"`satu check` {name}", result.checked[name], raw))
            if name in result.in_ranges:
                what = f"`satu rebuild` {name}, {RANGE_WORKERS} processes over position ranges"
                lines.append(_row(result.backend, what, result.in_ranges[name], raw))
        both = list(result.raw.values())
        logs = Run(
            sum(run.events for run in both),
            sum(run.seconds for run in both),
            sum(run.cpu_seconds for run in both),
            max(run.peak_rss_mb for run in both),
        )
        lines.append(_row(result.backend, "raw: read and decode every log (baseline)", logs, logs))
        for how, run in result.every.items():
            lines.append(_row(result.backend, f"every read model, {how}", run, logs))
    return [*lines, ""]


def _row(backend: str, what: str, run: Run, raw: Run, small: Run | None = None) -> str:
    smaller = f"{small.peak_rss_mb:.0f} MB ({small.events} events)" if small else ""
    return (
        f"| {backend} | {what} | {run.events} | {run.seconds:.2f} | {run.per_second:.0f} | "
        f"{run.per_second / raw.per_second:.2f} | {run.cpu_seconds:.2f} | {raw.cpu_seconds / run.cpu_seconds:.2f} | "
        f"{run.peak_rss_mb:.0f} MB | {smaller} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=6000)
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--child", nargs=2, metavar=("WHAT", "NAME"), help=argparse.SUPPRESS)
    parser.add_argument("--var-dir", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        settings = Settings(env="test", var_dir=Path(args.var_dir), database_url=args.database_url)
        what, name = args.child
        print(json.dumps({**child(what, name, settings), "peak_rss_mb": peak_rss_mb()}))
        return
    print("\n".join(rebuild_section(args.cases, postgres=not args.sqlite_only)))


if __name__ == "__main__":
    main()
