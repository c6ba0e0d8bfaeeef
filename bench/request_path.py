"""The request path side by side with its ceilings, at one concurrency, on SQLite and on PostgreSQL:

- direct: ``SubmissionsApplication.submit_case`` in-process (the raw ceiling of the application);
- an empty nameko RPC hop (``submissions.ping``): the ceiling of this design for anything over the broker;
- filings over RPC, then through the gateway with only the services running (the synchronous part: the
  relays delivered what was recorded before, then stopped);
- filings through the gateway with the whole system running (relays, consumers, mail), and the CPU each
  filing costs summed over every process of the system (RabbitMQ's own share reported apart: the broker is
  shared with whatever else runs on this machine).

Alone (section (g) of ``python -m bench``; prints its table):

    python -m bench.request_path [--clients 8] [--filings 400] [--storage SQLite --storage PostgreSQL]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.measure import BROKER, Rate, cpu_by_part, parts_and_broker
from bench.scenarios import UNLIMITED, GatewaySession, gateway_session, start_relays
from contracts.identity import Caller, Role
from gateway.rpc import RpcClients
from infra.settings import Settings
from infra.storage import event_store_env
from ops.launcher import System
from services.submissions.application import build_application
from tests.support.broker import private_vhost
from tests.support.factories import attachment
from tests.support.postgres import scratch_database
from tests.support.scenario import submit
from tests.support.system import running_system


@dataclass
class PathRates:
    direct: Rate
    hop: Rate
    rpc: Rate
    gateway_sync: Rate
    gateway_whole: Rate
    cpu_ms_by_part: dict[str, float]  # each process of the system while the whole system files, and RabbitMQ

    @property
    def cpu_ms_per_filing(self) -> float:  # every process of the system, RabbitMQ excluded
        return sum(ms for part, ms in self.cpu_ms_by_part.items() if part != BROKER)


def concurrently(clients: int, count: int, make: Callable[[], Iterator[Callable[[], object]]]) -> Rate:
    """``count`` calls spread over ``clients`` threads, each with its own client made by ``make``."""
    barrier = threading.Barrier(clients + 1)
    per_client = count // clients

    def work() -> None:
        try:
            with contextmanager(make)() as call:
                call()  # warm: connected, caches filled
                barrier.wait()
                for _ in range(per_client):
                    call()
        except BaseException:
            barrier.abort()  # the others stop waiting; the error surfaces from its future
            raise

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(work) for _ in range(clients)]
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            for future in futures:
                if not isinstance(future.exception(), threading.BrokenBarrierError):
                    future.result()  # raises the client's own error
            raise
        started = time.perf_counter()
        for future in futures:
            future.result()
    return Rate(per_client * clients, time.perf_counter() - started)


def rpc_clients(
    settings: Settings, session: GatewaySession, method: str
) -> Callable[[], Iterator[Callable[[], object]]]:
    """The gateway's own RPC client (gateway/rpc.py: signs the caller for each call, as the gateway does)."""
    me = session.client.get("/api/me", headers=session.applicant).json()
    caller = Caller(user_id=me["id"], role=Role.APPLICANT, organisation_id=me["organisation_id"])
    body = {"service": "skm", "attachments": [attachment()]}

    def make() -> Iterator[Callable[[], object]]:
        clients = RpcClients.from_settings(settings)
        try:
            submissions = clients.service("submissions")
            yield submissions.ping if method == "ping" else lambda: submissions.submit_case(caller, body)
        finally:
            clients.close()

    return make


def gateway_clients(session: GatewaySession) -> Callable[[], Iterator[Callable[[], object]]]:
    def make() -> Iterator[Callable[[], object]]:
        yield session.submit

    return make


def direct_rate(settings: Settings, count: int) -> Rate:
    app = build_application(event_store_env(settings, "submissions"), settings)
    submit(app)
    started = time.perf_counter()
    for _ in range(count):
        submit(app)
    rate = Rate(count, time.perf_counter() - started)
    app.close()
    return rate


def measure(settings: Settings, direct_settings: Settings, amqp_uri: str, clients: int, count: int) -> PathRates:
    """``direct_settings``: stores of their own for the direct baseline (same kind as ``settings``)."""
    direct = direct_rate(direct_settings, count)
    with running_system(settings, amqp_uri, relays=False, env=UNLIMITED) as system:
        session = gateway_session(settings, system)
        settle(system)
        hop = concurrently(clients, count, rpc_clients(settings, session, "ping"))
        rpc = concurrently(clients, count, rpc_clients(settings, session, "submit_case"))
        gateway_sync = concurrently(clients, count, gateway_clients(session))
        start_relays(system)
        drain(system)
        whole, cpu = whole_system(system, session, clients, count)
    return PathRates(direct, hop, rpc, gateway_sync, whole, cpu)


def settle(system: System) -> None:
    """What a running system has before anyone files: the organisations recorded are in submissions' own
    copy (fed by the relays; until it arrives a filing asks the registry), then the relays stop again so
    that the synchronous part runs without them."""
    start_relays(system)
    drain(system)
    system.stop_relays()


def drain(system: System, quiet_seconds: float = 2.0) -> None:
    """Wait until the relays and consumers have caught up with what the synchronous runs stored."""
    pids = {name: [process.pid] for name, process in system.processes.items()}
    last = sum(cpu_by_part(pids).values())
    while True:
        time.sleep(quiet_seconds)
        now = sum(cpu_by_part(pids).values())
        if now - last < 0.25 * quiet_seconds:  # idle: the relays' polls and timers only (well under a core)
            return
        last = now


def whole_system(system: System, session: GatewaySession, clients: int, count: int) -> tuple[Rate, dict[str, float]]:
    """Filings through the gateway with every part running; the CPU each process spent per filing, until
    the relays and consumers caught up (the filings' mails and projections are part of their cost)."""
    pids = parts_and_broker(system.processes)
    before = cpu_by_part(pids)
    rate = concurrently(clients, count, gateway_clients(session))
    drain(system)
    after = cpu_by_part(pids)
    return rate, {part: (after[part] - before[part]) / rate.count * 1000 for part in pids}


def report(rates: dict[str, PathRates], clients: int) -> list[str]:
    lines = [
        f"## (g) The request path against its ceilings ({clients} clients)",
        "",
        'Filings per second side by side in one run per storage. "Synchronous part": only the services and',
        'the gateway run (no relays, so no consumer work); "whole system": relays, projections and mail too.',
        "CPU per filing is summed over every process of the system while the whole system files and catches",
        "up; RabbitMQ's share is apart (the broker is shared with other work on this machine).",
        "",
        "| storage | direct | empty RPC hop | RPC filing | gateway, synchronous part | gateway, whole system |"
        " gateway / hop | whole / direct | CPU ms per filing (+ RabbitMQ) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for storage, rate in rates.items():
        lines.append(
            f"| {storage} | {rate.direct.per_second:.0f} | {rate.hop.per_second:.0f} | {rate.rpc.per_second:.0f} "
            f"| {rate.gateway_sync.per_second:.0f} | {rate.gateway_whole.per_second:.0f} "
            f"| {rate.gateway_sync.per_second / rate.hop.per_second:.2f} "
            f"| {rate.gateway_whole.per_second / rate.direct.per_second:.3f} "
            f"| {rate.cpu_ms_per_filing:.1f} (+ {rate.cpu_ms_by_part[BROKER]:.1f}) |"
        )
    parts = list(next(iter(rates.values())).cpu_ms_by_part) if rates else []
    lines += ["", "CPU ms per filing by process (whole system):", ""]
    lines += [f"| storage | {' | '.join(parts)} |", f"|---|{'---:|' * len(parts)}"]
    for storage, rate in rates.items():
        lines.append(f"| {storage} | {' | '.join(f'{rate.cpu_ms_by_part[part]:.1f}' for part in parts)} |")
    return [*lines, ""]


STORAGES = ("SQLite", "PostgreSQL")


def section(amqp_uri: str, clients: int, filings: int, storages: tuple[str, ...] = STORAGES) -> list[str]:
    rates = {}
    for storage in storages:
        print(f"(g) the request path against its ceilings, {storage} …", flush=True)
        with tempfile.TemporaryDirectory(prefix="satu-bench-path-") as scratch, ExitStack() as stack:
            urls = [
                stack.enter_context(scratch_database("satu_bench")) if storage == "PostgreSQL" else "" for _ in range(2)
            ]
            system, direct = (Path(scratch, name) for name in ("system", "direct"))
            system.mkdir()
            direct.mkdir()
            # A vhost of its own: queues left over by an earlier system must not feed this one.
            vhost_uri = stack.enter_context(private_vhost("satu_bench"))
            settings = Settings(env="test", var_dir=system, amqp_uri=vhost_uri, database_url=urls[0])
            direct_settings = Settings(env="test", var_dir=direct, database_url=urls[1])
            rates[storage] = measure(settings, direct_settings, vhost_uri, clients, filings)
    return report(rates, clients)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--filings", type=int, default=400, help="filings per measurement")
    parser.add_argument("--storage", action="append", choices=STORAGES, help="default: both")
    args = parser.parse_args()
    amqp_uri = os.environ.get("SATU_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
    print("\n".join(section(amqp_uri, args.clients, args.filings, tuple(args.storage or STORAGES))))


if __name__ == "__main__":
    main()
