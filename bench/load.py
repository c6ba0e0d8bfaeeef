"""A load test of the whole system through HTTP: applicants and staff on their journeys at once, bounded
in time, reporting throughput and p50/p99 per endpoint; then the same load with one part killed -9
midway (the supervisor starts it again, as `satu run` does), and a check that nothing was lost.

    .venv/bin/python -m bench.load [--seconds 60] [--applicants 4] [--kill submissions] [--postgres]

Journeys (each a thread looping until the time is up):
- applicant: upload a PDF, file an SKM case, read it, list their cases;
- verifier: read the work queue, take the oldest case, record the field visit (with its berita acara),
  forward it;
- approver: read the work queue, approve the oldest forwarded case.
Nothing lost: every acknowledged filing is in the store and in the case list, every acknowledged approval
has its letter in the documents' register.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.measure import percentile
from bench.scenarios import UNLIMITED
from infra.part_status import STATUS_FILE
from infra.settings import Settings
from ops.seed import APPLICANT, seed
from tests.support.broker import private_vhost
from tests.support.factories import pdf_bytes
from tests.support.field_visit import FIELD_VISIT_FORM
from tests.support.load import filed_case_ids, read_model_count
from tests.support.postgres import scratch_database
from tests.support.system import eventually, running_system, supervised

VERIFIER = "verifikator@kesbangpol.balikpapan.go.id"
APPROVER = "kabid@kesbangpol.balikpapan.go.id"
UUID_IN_PATH = re.compile(r"/[0-9a-f]{8}-[0-9a-f-]{27}|/[0-9a-f]{32}")


@dataclass
class Record:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    # Per endpoint, refusals (4xx: e.g. a colleague took or moved the case first) and failures (5xx, no answer).
    refused: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    filed: list[str] = field(default_factory=list)
    approved: list[str] = field(default_factory=list)
    broken: list[BaseException] = field(default_factory=list)  # journeys that stopped on an error of the bench
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    """An HTTP client that times each request under its endpoint's name (ids replaced by {id})."""

    def __init__(self, base: str, token: str, record: Record) -> None:
        self.http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        self.record = record

    def request(self, method: str, path: str, **options: object) -> httpx.Response | None:
        endpoint = f"{method} {UUID_IN_PATH.sub('/{id}', path)}"
        started = time.perf_counter()
        try:
            response = self.http.request(method, path, **options)  # type: ignore[arg-type]
        except httpx.HTTPError:
            response = None
        elapsed = time.perf_counter() - started
        with self.record.lock:
            if response is not None and response.status_code < 400:
                self.record.latencies[endpoint].append(elapsed)
            elif response is not None and response.status_code < 500:
                self.record.refused[endpoint] += 1
            else:
                self.record.failures[endpoint] += 1
        return response if response is not None and response.status_code < 400 else None


def applicant(client: Client, record: Record) -> None:
    upload = client.request("POST", "/api/files", files={"file": ("surat.pdf", pdf_bytes(), "application/pdf")})
    if upload is None:
        return
    body = {"service": "skm", "attachments": [{"file_id": upload.json()["file_id"], "kind": "cover_letter"}]}
    filed = client.request("POST", "/api/cases", json=body)
    if filed is None:
        return
    case_id = filed.json()["id"]
    with record.lock:
        record.filed.append(case_id)
    client.request("GET", f"/api/cases/{case_id}")
    client.request("GET", "/api/cases")


def waiting_in_queue(client: Client, status: str) -> list[str]:
    """The cases in the caller's work queue's first page that are in ``status``, longest waiting first."""
    queue = client.request("GET", "/api/queue")
    return [row["case_id"] for row in queue.json()["items"] if row["status"] == status] if queue is not None else []


def verifier(client: Client, record: Record) -> None:
    waiting = waiting_in_queue(client, "submitted")
    if not waiting:
        time.sleep(0.2)
        return
    case_id = waiting[0]
    if client.request("POST", f"/api/cases/{case_id}/actions/take", json={}) is None:
        return  # a colleague took it first
    report = client.request("POST", "/api/files", files={"file": ("ba.pdf", pdf_bytes(), "application/pdf")})
    if report is None:
        return
    attachments = [{"file_id": report.json()["file_id"], "kind": "field_report"}]
    visit = {"form": FIELD_VISIT_FORM, "attachments": attachments}
    if client.request("POST", f"/api/cases/{case_id}/actions/record_field_visit", json=visit) is not None:
        client.request("POST", f"/api/cases/{case_id}/actions/forward", json={})


def approver(client: Client, record: Record) -> None:
    waiting = waiting_in_queue(client, "forwarded")
    if not waiting:
        time.sleep(0.2)
        return
    if client.request("POST", f"/api/cases/{waiting[0]}/actions/approve", json={}) is not None:
        with record.lock:
            record.approved.append(waiting[0])


def run_load(
    base: str, tokens: dict[str, str], applicants: int, seconds: float, midway: Callable[[], None] | None = None
) -> Record:
    record = Record()
    stop = threading.Event()
    journeys = [(applicant, tokens["applicant"])] * applicants + [(verifier, tokens["verifier"])] * 2
    journeys += [(approver, tokens["approver"])]

    def loop(journey: Callable[[Client, Record], None], token: str) -> None:
        client = Client(base, token, record)
        try:
            while not stop.is_set():
                journey(client, record)
        except Exception as error:  # a journey that cannot go on would silently leave its load out
            record.broken.append(error)
            raise

    threads = [threading.Thread(target=loop, args=journey, daemon=True) for journey in journeys]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(seconds / 2)
    if midway is not None:
        midway()
    time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    stop.set()
    for thread in threads:
        thread.join(60)
    if record.broken:
        raise RuntimeError(f"{len(record.broken)} journeys stopped early: {record.broken[0]!r}")
    return record


def nothing_lost(settings: Settings, record: Record) -> str:
    stored = filed_case_ids(settings)
    lost = set(record.filed) - set(stored)
    twice = len(stored) - len(set(stored))
    eventually(
        lambda: read_model_count(settings, "submissions", "SELECT count(*) FROM cases") >= len(set(stored)), 180, 1
    )
    approved = set(record.approved)
    eventually(lambda: read_model_count(settings, "documents", "SELECT count(*) FROM letters") >= len(approved), 180, 1)
    if lost or twice:
        return f"LOST {len(lost)} acknowledged filings, {twice} cases opened twice"
    return (
        f"nothing lost: {len(record.filed)} acknowledged filings all stored ({len(stored)} cases) and in the case "
        f"list; {len(approved)} approvals all with their letter"
    )


def report(title: str, record: Record, seconds: float) -> list[str]:
    lines = [
        f"### {title}",
        "",
        "| endpoint | answered | per second | p50 | p99 | refused (4xx) | failed (5xx, none) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    endpoints = sorted(set(record.latencies) | set(record.refused) | set(record.failures))
    for endpoint in endpoints:
        samples = record.latencies.get(endpoint, [])
        p50 = f"{percentile(samples, 0.5) * 1000:.0f} ms" if samples else "-"
        p99 = f"{percentile(samples, 0.99) * 1000:.0f} ms" if samples else "-"
        lines.append(
            f"| `{endpoint}` | {len(samples)} | {len(samples) / seconds:.1f} | {p50} | {p99} "
            f"| {record.refused.get(endpoint, 0)} | {record.failures.get(endpoint, 0)} |"
        )
    total = sum(len(samples) for samples in record.latencies.values())
    lines += [
        "",
        f"{total / seconds:.0f} requests/s in all; {len(record.filed)} filings, {len(record.approved)} approvals.",
        "",
    ]
    return lines


def sessions(base: str, passwords: dict[str, str]) -> dict[str, str]:
    tokens = {}
    for role, email in (("applicant", APPLICANT[0]), ("verifier", VERIFIER), ("approver", APPROVER)):
        response = httpx.post(f"{base}/api/session", json={"email": email, "password": passwords[email]}, timeout=30)
        response.raise_for_status()
        tokens[role] = response.json()["token"]
    return tokens


def one_run(amqp_uri: str, database_url: str, seconds: float, applicants: int, kill: str | None) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="satu-load-") as scratch:
        settings = Settings(env="test", var_dir=Path(scratch), amqp_uri=amqp_uri, database_url=database_url)
        with (
            running_system(settings, amqp_uri, env=UNLIMITED) as system,
            supervised(system, settings.var_dir / STATUS_FILE) as said,
        ):
            base = f"http://127.0.0.1:{system.port}"
            tokens = sessions(base, seed(settings))

            def kill_part() -> None:
                if kill is not None:
                    print(f"  killing {kill} (pid {system.processes[kill].pid}) …", flush=True)
                    system.processes[kill].kill()

            record = run_load(base, tokens, applicants, seconds, kill_part if kill else None)
            verdict = nothing_lost(settings, record)
        title = f"{kill} killed -9 midway" if kill else "all parts up"
        lines = report(title, record, seconds)
        restarts = [line for line in said if "started again" in line]
        return [*lines, f"{verdict}.{' Supervisor: ' + '; '.join(restarts) + '.' if restarts else ''}", ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--applicants", type=int, default=4)
    parser.add_argument("--kill", default="submissions", help="the part killed midway in the second run")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL stores (default: SQLite)")
    args = parser.parse_args()
    lines = [
        f"## Load test through HTTP ({args.seconds:.0f} s each, {'PostgreSQL' if args.postgres else 'SQLite'})",
        "",
    ]
    for kill in (None, args.kill):
        with ExitStack() as stack:
            database_url = stack.enter_context(scratch_database("satu_bench")) if args.postgres else ""
            vhost_uri = stack.enter_context(private_vhost("satu_load"))  # no queues left by another system
            print(f"load run, {kill or 'all parts up'} …", flush=True)
            lines += one_run(vhost_uri, database_url, args.seconds, args.applicants, kill)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
