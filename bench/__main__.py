"""Measure the walking skeleton side by side with raw baselines in the same run.

    .venv/bin/python -m bench [--cases 200] [--latency-cases 40] [--letters 200] [--register-letters 10000]

(a) SKM submissions/s through the gateway vs. the same command on the application directly;
(b) commit-to-visible latency of each read model; (c) rebuilds and checks vs. raw log read+decode, with peak
memory, on SQLite and PostgreSQL (bench/rebuilds.py, `--rebuild-cases`);
(d) letters rendered per second vs. a raw typst compile of the same letters (bench/letters.py);
(e) the reminders' sweep over 150,000 organisations × 2 periods vs. the raw read of the same directory
rows (`--organisations`); (f) approval latency with `--register-letters` already in the year's letter
register vs. with 100, SQLite and PostgreSQL (bench/approvals.py; national scale: 100000); (g) the
request path against its ceilings (an empty RPC hop, direct calls) at `--clients` concurrency, with CPU
per filing (bench/request_path.py); (h) national scale with `--national`; (i) a mail's own work in the
notifications service vs. the same rows and file written with the driver alone (bench/mail.py). Needs
RabbitMQ on 127.0.0.1 (or SATU_AMQP_URI) and PostgreSQL (SATU_TEST_PG_ADMIN_URL) for (c), (f), (g) and (i).
Writes docs/benchmarks.md. The load test: `python -m bench.load`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import approvals, lag, mail, national, request_path
from bench.letters import letter_rates
from bench.letters import report as letters_report
from bench.measure import Rate, summary_ms, timed
from bench.rebuilds import rebuild_section
from bench.reminders import reminder_rates
from bench.scenarios import (
    gateway_session,
    read_model_latency,
    rpc_submitter,
    start_system,
)
from infra.settings import Settings
from infra.storage import event_store_env
from services.submissions.application import build_application
from tests.support.scenario import submit

OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory_kb = int(
        next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line)
    )
    return f"{os.cpu_count()} cores ({cpu}), {memory_kb / 1024 / 1024:.0f} GiB, Python {platform.python_version()}"


def rate_row(label: str, rate: Rate, digits: int = 0) -> str:
    return f"| {label} | {rate.count} | {rate.seconds:.2f} | {rate.per_second:.{digits}f} |"


def direct_submissions(settings: Settings, count: int) -> Rate:
    app = build_application(event_store_env(settings, "submissions"), settings)
    submit(app)  # warm up
    rate = timed(count, lambda _i: submit(app))
    app.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--latency-cases", type=int, default=40)
    parser.add_argument("--letters", type=int, default=200)
    parser.add_argument("--organisations", type=int, default=150_000)
    parser.add_argument("--register-letters", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8, help="concurrency of the request-path section (g)")
    parser.add_argument("--path-filings", type=int, default=400, help="filings per measurement in (g)")
    parser.add_argument("--rebuild-cases", type=int, default=6000)
    parser.add_argument("--lag-seconds", type=float, default=15.0, help="(b) steady load per backend and mode")
    parser.add_argument("--national", default="", help="(h) organisations:cases sizes, e.g. 1500:20000 (default: skip)")
    args = parser.parse_args()
    amqp_uri = os.environ.get("SATU_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="satu-bench-") as scratch:
        direct_dir = Path(scratch, "direct")
        direct_dir.mkdir()
        print("(a) direct application calls …", flush=True)
        direct = direct_submissions(Settings(env="test", var_dir=direct_dir), args.cases)
        settings = Settings(env="test", var_dir=Path(scratch, "system"), amqp_uri=amqp_uri)
        settings.var_dir.mkdir()
        with start_system(settings, amqp_uri) as system:
            session = gateway_session(settings, system)
            print("(a) nameko RPC, one client …", flush=True)
            with rpc_submitter(settings, session) as rpc_submit:
                rpc_submit(0)
                via_rpc = timed(args.cases, rpc_submit)
            print("(a) gateway, one client …", flush=True)
            gateway_one = timed(args.cases, lambda _i: session.submit())
            print("(a) gateway, four clients …", flush=True)
            with ThreadPoolExecutor(max_workers=4) as pool:
                started = dt.datetime.now()
                list(pool.map(lambda _i: session.submit(), range(args.cases)))
                gateway_four = Rate(args.cases, (dt.datetime.now() - started).total_seconds())
            print("(b) commit-to-visible latency …", flush=True)
            latencies = read_model_latency(settings, session, args.latency_cases)
        print("(b) lag at a steady 100 events/s, relays polling vs woken on commit …", flush=True)
        steady_lag = lag.run(amqp_uri, 100, args.lag_seconds, 10, ["sqlite", "postgres"])
        rebuilds = rebuild_section(args.rebuild_cases)
        print("(d) letters …", flush=True)
        letters = letter_rates(args.letters)
        print(f"(e) reminders' sweep over {args.organisations} organisations …", flush=True)
        sweep_dir = Path(scratch, "sweep")
        sweep_dir.mkdir()
        directory_read, sweep, reminders_due = reminder_rates(
            Settings(env="test", var_dir=sweep_dir), args.organisations
        )
        print(f"(f) approvals with 100 and {args.register_letters} letters in the register …", flush=True)
        registers = approvals.register_latencies(Path(scratch), (100, args.register_letters), approvals=200)

    lines += [
        "# Benchmarks",
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine()}; commit "
        f"{subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()}.",
        "Storage: SQLite files (the embedded default); RabbitMQ on loopback; relays woken on commit (1 s safety poll).",
        "This machine is shared and noisy: compare numbers within one run, not across runs.",
        "Re-run: `.venv/bin/python -m bench` (options: `--cases`, `--latency-cases`, `--letters`).",
        "",
        "## (a) SKM submissions per second",
        "",
        "| path | submissions | seconds | per second |",
        "|---|---:|---:|---:|",
        rate_row("direct: `SubmissionsApplication.submit_case` (baseline)", direct),
        rate_row("nameko RPC `submissions.submit_case`, 1 client", via_rpc),
        rate_row("gateway: `POST /api/cases`, 1 client", gateway_one),
        rate_row("gateway: `POST /api/cases`, 4 clients", gateway_four),
        "",
        f"Gateway (1 client) reaches {gateway_one.per_second / direct.per_second:.0%} of the direct rate and "
        f"{gateway_one.per_second / via_rpc.per_second:.0%} of the RPC rate. Each submission through the system "
        "is an RPC to submissions plus its RPC to the registry (the organisation snapshot), and it wakes the relay and "
        "three consumers (case read model, mail, registry look-up for the recipient), all sharing the 2 cores; the "
        "direct baseline does none of that.",
        "",
        "## (b) From a command's commit to its effect in each read model",
        "",
        "Time from the approval's HTTP response (the events are committed) until the row is visible.",
        "",
        "| read model | latency |",
        "|---|---|",
        *[f"| {name} | {summary_ms(samples)} |" for name, samples in latencies.items()],
        "",
        *steady_lag,
        *rebuilds,
        "## (d) Letters generated per second",
        "",
        *letters_report(*letters),
        "",
        "## (e) The reminders' sweep at national scale",
        "",
        "Half-yearly reports of every organisation on 1 February 2027 (2026-S2 one day overdue; a third filed):",
        "the sweep pages through the registry's directory, asks the case list which reports are filed, and finds",
        "the reminders due. SQLite read models; recording the reminders (one event each) is not included.",
        "",
        "| what | organisations | seconds | per second |",
        "|---|---:|---:|---:|",
        rate_row("raw: read the directory in keyset pages (baseline)", directory_read),
        rate_row("evaluate the due reminders (2 periods each, plus the run of missed ones)", sweep),
        "",
        f"The sweep runs at {sweep.per_second / directory_read.per_second:.0%} of the raw read and finds "
        f"{reminders_due} reminders due.",
        "",
        "## (f) Approvals as letters accumulate",
        "",
        *approvals.report(registers),
        "",
    ]
    lines += request_path.section(amqp_uri, args.clients, args.path_filings)
    lines += national.section(args.national, http=True) if args.national else []
    lines += mail.section()
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
