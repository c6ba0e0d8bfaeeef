"""(h) National scale on PostgreSQL: generate organisations and cases through the applications (`satu
demo-data`) into a fresh database, then time every list query over many random filters and page depths.

    .venv/bin/python -m bench.national [--sizes 1500:20000,15000:200000] [--samples 300] [--keep]
    .venv/bin/python -m bench.national --database postgresql+psycopg://…/satu_national_… [--samples 300]

Per size, side by side in the same run: the generator's rate (events written through the applications per
second, split into commands, storing and read models); each list query's p50/p99 — the first page and
random deep pages (a cursor made from a random row), per filter — against two raw baselines of the same
database: one case read by its primary key (the floor), and the same deep pages read with OFFSET (what
keyset paging replaces); and the first pages again with this release's list indexes dropped (as on main
before them). With ``--http``, the gateway's list endpoints too, the whole system running on the dataset
(RabbitMQ needed). Each size gets its own database, dropped afterwards unless ``--keep``; ``--database``
times the queries again on a database kept so (no generation, no rebuild: minutes instead of an hour).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench.measure import percentile
from contracts.identity import Caller, Role
from contracts.paging import encode_cursor
from infra.catalogue import load_catalogue
from infra.settings import Settings
from infra.storage import read_model_engine
from ops.demo_data.generator import Summary, generate
from ops.sources import open_source
from services.registry.projections import DirectoryProjection
from services.registry.queries import list_organisations
from services.submissions.case_counts import CaseCounts
from services.submissions.dashboard import figures
from services.submissions.projections import RUNNING_NOT_ANNOUNCED, CaseProjection
from services.submissions.readmodels import list_cases, queue_states, running_cases, work_queue
from tests.support.broker import private_vhost
from tests.support.postgres import scratch_database
from tests.support.system import running_system

UNTIL = dt.datetime(2026, 6, 30, 8, 0, tzinfo=dt.UTC)  # the datasets' present moment (16:00 WITA)
PASSWORD = "bench-national-password"
LIST_INDEXES = ("ix_cases_newest", "ix_cases_status_newest", "ix_cases_organisation_newest", "ix_cases_waiting")


@dataclass
class Timed:
    name: str
    samples: list[float]
    plan: str = ""

    def explained(self, engine: sa.Engine, sql: str) -> Timed:
        """Note the first node of the plan PostgreSQL chose for ``sql``: which index (or scan) answers it."""
        with engine.connect() as connection:
            lines = [str(row[0]) for row in connection.execute(sa.text(f"EXPLAIN {sql}"))]
        nodes = [line.split("->")[-1].strip() for line in lines if "Scan" in line]
        self.plan = (nodes[0] if nodes else lines[0].strip()).split("  (")[0]
        return self

    def row(self) -> str:
        p50, p99 = percentile(self.samples, 0.5) * 1000, percentile(self.samples, 0.99) * 1000
        return f"| {self.name} | {len(self.samples)} | {p50:.1f} | {p99:.1f} | {self.plan} |"


def timed(name: str, samples: int, query: Callable[[random.Random], object], seed: int = 7) -> Timed:
    rng = random.Random(f"{seed}:{name}")
    query(rng)  # warm the connection and the statement cache
    durations = []
    for _ in range(samples):
        started = time.perf_counter()
        query(rng)
        durations.append(time.perf_counter() - started)
    return Timed(name, durations)


class Lists:
    """The read side of one generated database: its engines, the projections' tables, random starting rows."""

    def __init__(self, settings: Settings) -> None:
        self.cases_engine = read_model_engine(settings, "submissions")
        self.registry_engine = read_model_engine(settings, "registry")
        self.projection, self.directory = CaseProjection(), DirectoryProjection()
        self.catalogue = load_catalogue()
        for engine in (self.cases_engine, self.registry_engine):
            with engine.begin() as connection:
                connection.execute(sa.text("ANALYZE"))
        cases = self.projection.cases
        with self.cases_engine.connect() as connection:
            self.total = connection.execute(sa.select(sa.func.count()).select_from(cases)).scalar_one()
            # A few thousand random rows to start pages from (TABLESAMPLE reads only some of the table's pages).
            picked = connection.execute(sa.text("SELECT * FROM cases TABLESAMPLE SYSTEM (2) LIMIT 5000")).mappings()
            self.rows = [dict(row) for row in picked]
            if not self.rows:  # a table of a few pages: 2% of them may be none
                self.rows = [
                    dict(row) for row in connection.execute(sa.text("SELECT * FROM cases LIMIT 5000")).mappings()
                ]
            self.waiting = {
                role: [
                    dict(row)
                    for row in connection.execute(
                        sa.select(cases).where(
                            sa.tuple_(cases.c.service, cases.c.status).in_(queue_states(self.catalogue, role))
                        )
                    ).mappings()
                ]
                for role in (Role.VERIFIER, Role.APPROVER)
            }
        with self.registry_engine.connect() as connection:
            self.organisation_ids = list(connection.scalars(sa.text("SELECT organisation_id FROM organisations")))
        self.statuses = sorted({row["status"] for row in self.rows})

    def staff(self, role: Role = Role.VERIFIER) -> Caller:
        return Caller(user_id="bench", role=role)

    @staticmethod
    def newest_cursor(row: dict[str, Any]) -> str:
        return encode_cursor([row["submitted_at"].isoformat(), row["case_id"]])

    @staticmethod
    def waiting_cursor(row: dict[str, Any]) -> str:
        return encode_cursor([row["updated_at"].isoformat(), row["case_id"]])

    def measurements(self, samples: int) -> list[Timed]:
        cases, engine, projection = self.projection.cases, self.cases_engine, self.projection
        rows, waiting, catalogue = self.rows, self.waiting, self.catalogue
        registry, directory, few = self.registry_engine, self.directory, max(samples // 10, 5)

        def one_case(rng: random.Random) -> object:
            with engine.connect() as connection:
                return connection.execute(sa.select(cases).where(cases.c.case_id == rng.choice(rows)["case_id"])).all()

        def by_status(rng: random.Random) -> object:
            row = rng.choice(rows)
            return list_cases(engine, projection, self.staff(), row["status"], self.newest_cursor(row))

        def applicants(rng: random.Random) -> object:
            caller = Caller(user_id="bench", role=Role.APPLICANT, organisation_id=rng.choice(rows)["organisation_id"])
            return list_cases(engine, projection, caller, None)

        def queue_page(role: Role) -> Callable[[random.Random], object]:
            def page(rng: random.Random) -> object:
                start = self.waiting_cursor(rng.choice(waiting[role])) if waiting[role] else None
                return work_queue(engine, projection, self.staff(role), catalogue, start)

            return page

        def by_offset(rng: random.Random) -> object:
            depth = rng.randrange(self.total)
            return _all(engine, f"{NEWEST} OFFSET {depth} LIMIT 100")

        sweep = next(workflow for workflow in catalogue.workflows.values() if workflow.sla_days)
        counts = CaseCounts(engine)
        counts.refresh()

        def dashboard() -> object:
            return figures(catalogue, counts.read(), 60)

        newest = self.newest_cursor
        return [
            timed("raw: one case by its primary key (baseline)", samples, one_case),
            timed(
                "case list, staff, first page", samples, lambda _r: list_cases(engine, projection, self.staff(), None)
            ).explained(engine, f"{NEWEST} LIMIT 101"),
            timed(
                "case list, staff, a random page",
                samples,
                lambda r: list_cases(engine, projection, self.staff(), None, newest(r.choice(rows))),
            ),
            timed("before: a random page by OFFSET (baseline)", few, by_offset),
            timed("case list, one status, a random page", samples, by_status).explained(
                engine,
                "SELECT * FROM cases WHERE status = 'approved' ORDER BY submitted_at DESC, case_id DESC LIMIT 101",
            ),
            timed("case list, an applicant's own", samples, applicants).explained(
                engine,
                "SELECT * FROM cases WHERE organisation_id = 'x' ORDER BY submitted_at DESC, case_id DESC LIMIT 101",
            ),
            timed(
                "work queue, verifier, first page",
                samples,
                lambda _r: work_queue(engine, projection, self.staff(), catalogue),
            ).explained(
                engine,
                "SELECT * FROM cases WHERE service = 'skm' AND status = 'submitted' "
                "ORDER BY updated_at, case_id LIMIT 101",
            ),
            timed("work queue, verifier, a random page", samples, queue_page(Role.VERIFIER)),
            timed("work queue, approver, a random page", samples, queue_page(Role.APPROVER)),
            timed("directory, first page", samples, lambda _r: list_organisations(registry, directory)),
            timed(
                "directory, one reporting status, a random page",
                samples,
                lambda r: list_organisations(
                    registry, directory, r.choice(STATUSES), encode_cursor([r.choice(self.organisation_ids)])
                ),
            ).explained(
                registry,
                "SELECT * FROM organisations WHERE reporting_status = 'late' AND organisation_id > 'x' "
                "ORDER BY organisation_id LIMIT 101",
            ),
            timed(
                "deadlines' sweep: a page of running cases",
                samples,
                lambda _r: running_cases(engine, projection, sweep, UNTIL, None),
            ).explained(
                engine,
                f"SELECT case_id FROM cases WHERE service = 'skm' AND {RUNNING_NOT_ANNOUNCED} "
                "ORDER BY case_id LIMIT 1000",
            ),
            timed(
                "before: the dashboard counted per request (GROUP BY, baseline)",
                few,
                lambda _r: _all(engine, "SELECT service, status, count(*) FROM cases GROUP BY 1, 2"),
            ),
            timed("dashboard: counting the case list again (each replica's timer)", few, lambda _r: counts.refresh()),
            timed("dashboard: the figures, as the service answers them", samples, lambda _r: dashboard()),
        ]

    def without_list_indexes(self, samples: int) -> list[Timed]:
        """The first pages again once the list indexes are dropped (as before this release)."""
        engine, projection, catalogue = self.cases_engine, self.projection, self.catalogue
        with engine.begin() as connection:
            for name in LIST_INDEXES:
                connection.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
        few = max(samples // 10, 5)
        return [
            timed(
                "without the indexes: case list, staff, first page",
                few,
                lambda _r: list_cases(engine, projection, self.staff(), None),
            ).explained(engine, f"{NEWEST} LIMIT 101"),
            timed(
                "without the indexes: work queue, verifier, first page",
                few,
                lambda _r: work_queue(engine, projection, self.staff(), catalogue),
            ),
        ]

    def restore_list_indexes(self) -> None:
        with self.cases_engine.begin() as connection:
            for index in self.projection.cases.indexes:
                if index.name in LIST_INDEXES:
                    index.create(connection, checkfirst=True)

    def close(self) -> None:
        self.cases_engine.dispose()
        self.registry_engine.dispose()


NEWEST = "SELECT * FROM cases ORDER BY submitted_at DESC, case_id DESC"
STATUSES = ("up_to_date", "late", "inactive")


def _all(engine: sa.Engine, sql: str) -> object:
    with engine.connect() as connection:
        return connection.execute(sa.text(sql)).all()


def through_http(settings: Settings, summary: Summary, lists: Lists, samples: int) -> list[Timed]:
    """The gateway's list endpoints on the generated dataset, the whole system running (its own vhost)."""
    with private_vhost("satu_national") as amqp_uri:
        running = settings.model_copy(update={"amqp_uri": amqp_uri})
        with (
            running_system(running, amqp_uri) as system,
            httpx.Client(base_url=f"http://127.0.0.1:{system.port}", timeout=60) as client,
        ):

            def bearer(role: str) -> dict[str, str]:
                answer = client.post("/api/session", json={"email": summary.sign_in[role], "password": PASSWORD})
                answer.raise_for_status()
                return {"Authorization": f"Bearer {answer.json()['token']}"}

            verifier, applicant = bearer("verifier"), bearer("applicant")

            def get(path: str, headers: dict[str, str], **params: str) -> Callable[[random.Random], object]:
                return lambda _r: client.get(path, headers=headers, params=params).raise_for_status()

            def deep(path: str, rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], str], **params: str):
                return lambda r: client.get(
                    path, headers=verifier, params={**params, "cursor": key(r.choice(rows))}
                ).raise_for_status()

            waiting = lists.waiting[Role.VERIFIER] or lists.rows
            ids = [{"organisation_id": organisation_id} for organisation_id in lists.organisation_ids]
            return [
                timed("HTTP GET /api/cases, staff, first page", samples, get("/api/cases", verifier)),
                timed(
                    "HTTP GET /api/cases, staff, a random page",
                    samples,
                    deep("/api/cases", lists.rows, Lists.newest_cursor),
                ),
                timed("HTTP GET /api/cases, an applicant's own", samples, get("/api/cases", applicant)),
                timed("HTTP GET /api/queue, verifier, first page", samples, get("/api/queue", verifier)),
                timed(
                    "HTTP GET /api/queue, verifier, a random page",
                    samples,
                    deep("/api/queue", waiting, Lists.waiting_cursor),
                ),
                timed(
                    "HTTP GET /api/organisations, a random page",
                    samples,
                    deep("/api/organisations", ids, lambda row: encode_cursor([row["organisation_id"]])),
                ),
                timed("HTTP GET /api/me (baseline: one RPC, no list)", samples, get("/api/me", verifier)),
            ]


@dataclass
class Rebuilt:
    """`satu rebuild` of every rebuildable read model on the generated database (those of one log in one pass)."""

    seconds: float
    events: int  # events replayed, summed over the read models (each reads the events it handles)
    log: int  # stored events in the logs the read models are built from
    workers: int  # processes replaying each log's position ranges (SATU_REBUILD_WORKERS)

    @property
    def log_events_per_second(self) -> float:
        return self.log / self.seconds


def rebuild_everything(settings: Settings) -> Rebuilt:
    from ops.rebuild import READ_MODELS, run_all

    began = time.perf_counter()
    outcomes = run_all(list(READ_MODELS), settings, True, _tenths)
    seconds = time.perf_counter() - began
    for outcome in outcomes:
        print(f"  {outcome.name}: {outcome.events} events", flush=True)
    log = 0
    for name in sorted({spec.source for spec in READ_MODELS}):
        source = open_source(name, settings, replay=True)
        try:
            log += source.last_position()
        finally:
            source.close()
    return Rebuilt(seconds, sum(outcome.events for outcome in outcomes), log, settings.rebuild_workers)


def _tenths(name: str, total: int) -> Callable[[int], None]:
    """Progress of one rebuild: a line each tenth of the log."""
    next_tenth = [total // 10]

    def progress(position: int) -> None:
        if position >= next_tenth[0] > 0:
            print(f"  {name}: {position}/{total}", flush=True)
            next_tenth[0] = position + total // 10

    return progress


def run_size(
    organisations: int, cases: int, samples: int, keep: bool, http: bool
) -> tuple[Summary, list[Timed], int, Rebuilt]:
    with (
        scratch_database("satu_national", keep) as url,
        tempfile.TemporaryDirectory(prefix="satu-national-") as scratch,
    ):
        settings = Settings(env="test", var_dir=Path(scratch), database_url=url)
        print(f"generating {organisations} organisations / {cases} cases …", flush=True)
        summary = generate(
            settings, organisations, cases, seed=1, until=UNTIL, password=PASSWORD,
            progress=lambda done: print(f"  {done} organisations", flush=True),
        )  # fmt: skip
        print(f"  {sum(summary.events.values())} events in {summary.seconds:.0f} s ({summary.phases})", flush=True)
        lists = Lists(settings)
        try:
            print("timing the list queries …", flush=True)
            measured = lists.measurements(samples)
            if http:
                print("timing the list endpoints through HTTP …", flush=True)
                measured += through_http(settings, summary, lists, samples)
            measured += lists.without_list_indexes(samples)
            lists.restore_list_indexes()  # the rebuild then copies into the tables as they are in use
        finally:
            lists.close()
        print("\n".join(query_lines(organisations, cases, lists.total, measured)), flush=True)  # before the long part
        print("rebuilding every read model …", flush=True)
        return summary, measured, lists.total, rebuild_everything(settings)


def report(sizes: list[tuple[int, int]], results: list[tuple[Summary, list[Timed], int, Rebuilt]]) -> list[str]:
    lines = [
        "## (h) National scale (PostgreSQL)",
        "",
        "Generated by `satu demo-data` through the registry's and submissions' applications (every command with",
        "its checks), stored in batches, read models built by their projections' batch driver, both by a writer",
        "process while the next batch is made (its store and read-model seconds overlap the commands'; CPU is",
        "both processes'). Query times are",
        "one query each from Python unless marked HTTP, p50/p99 over random filters and random page depths (a",
        "cursor from a random row).",
        "",
        "| organisations | cases | events | seconds | events/s | CPU s | commands s | store s | read models s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (organisations, cases), (summary, _measured, _total, _rebuilt) in zip(sizes, results, strict=True):
        phases = summary.phases
        lines.append(
            f"| {organisations} | {cases} | {sum(summary.events.values())} | {summary.seconds:.0f} | "
            f"{summary.events_per_second:.0f} | {summary.cpu_seconds:.0f} | {phases['commands']:.0f} | "
            f"{phases['store']:.0f} | {phases['read models']:.0f} |"
        )
    lines += [
        "",
        "`satu rebuild` of every rebuildable read model on the generated database (those of one log in one pass):",
        "",
        "| organisations | cases | stored events | events replayed | processes | seconds | stored events/s |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {organisations} | {cases} | {rebuilt.log} | {rebuilt.events} | {rebuilt.workers} | "
            f"{rebuilt.seconds:.0f} | {rebuilt.log_events_per_second:.0f} |"
            for (organisations, cases), (_s, _m, _t, rebuilt) in zip(sizes, results, strict=True)
        ],
    ]
    for (organisations, cases), (_summary, measured, total, _rebuilt) in zip(sizes, results, strict=True):
        lines += query_lines(organisations, cases, total, measured)
    return lines


def query_lines(organisations: int, cases: int, total: int, measured: list[Timed]) -> list[str]:
    return [
        "",
        f"### {organisations} organisations, {cases} cases ({total} case rows)",
        "",
        "| query | n | p50 ms | p99 ms | plan (first node) |",
        "|---|---:|---:|---:|---|",
        *[entry.row() for entry in measured],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="200:1000", help="organisations:cases, comma-separated")
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the generated databases")
    parser.add_argument("--http", action="store_true", help="also through the gateway, the system running")
    parser.add_argument("--database", help="time the list queries again on a database an earlier --keep left")
    args = parser.parse_args()
    if args.database:
        print("\n".join(queries_again(args.database, args.samples)))
    else:
        print("\n".join(section(args.sizes, args.samples, args.keep, args.http)))


def queries_again(url: str, samples: int) -> list[str]:
    """The list queries' table for a kept dataset, timed anew (after a change to a query or an index)."""
    with tempfile.TemporaryDirectory(prefix="satu-national-") as scratch:
        lists = Lists(Settings(env="test", var_dir=Path(scratch), database_url=url))
        try:
            measured = lists.measurements(samples)
        finally:
            lists.close()
    return query_lines(len(lists.organisation_ids), lists.total, lists.total, measured)


def section(sizes_text: str, samples: int = 300, keep: bool = False, http: bool = False) -> list[str]:
    """The report's lines for sizes given as "organisations:cases,…" (e.g. "200:1000")."""
    sizes = [(int(n), int(m)) for n, m in (size.split(":") for size in sizes_text.split(","))]
    results = []
    for size in sizes:
        results.append(run_size(*size, samples, keep, http))
        print("\n".join(report([size], results[-1:])), flush=True)  # kept if a later, larger size fails
    return report(sizes, results)


if __name__ == "__main__":
    main()
