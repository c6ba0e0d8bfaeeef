"""The request path side by side with its ceilings, at one concurrency, on SQLite and on PostgreSQL:

- direct: ``SubmissionsApplication.submit_case`` in-process (the raw ceiling of the application);
- an empty nameko RPC hop (``submissions.ping``): the ceiling of this design for anything over the broker;
- filings over RPC, then through the gateway with only the services running (the synchronous part: the
  relays delivered what was recorded before, then stopped);
- filings through the gateway with the whole system running (relays, consumers, mail), and the CPU each
  filing costs summed over every process of the system (RabbitMQ's own share reported apart: the broker is
  shared with whatever else runs on this machine).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.measure import Rate
from bench.scenarios import UNLIMITED, GatewaySession, gateway_session
from contracts.identity import Caller, Role
from gateway.rpc import RpcClients
from infra.settings import Settings
from infra.storage import event_store_env
from ops.launcher import System
from services.submissions.application import build_application
from tests.support.factories import attachment
from tests.support.scenario import submit
from tests.support.system import running_system

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class PathRates:
    direct: Rate
    hop: Rate
    rpc: Rate
    gateway_sync: Rate
    gateway_whole: Rate
    cpu_ms_per_filing: float  # every process of the system, RabbitMQ excluded
    broker_cpu_ms_per_filing: float


def concurrently(clients: int, count: int, make: Callable[[], Iterator[Callable[[], object]]]) -> Rate:
    """``count`` calls spread over ``clients`` threads, each with its own client made by ``make``."""
    barrier = threading.Barrier(clients + 1)
    per_client = count // clients

    def work() -> None:
        with contextmanager(make)() as call:
            call()  # warm: connected, caches filled
            barrier.wait()
            for _ in range(per_client):
                call()

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(work) for _ in range(clients)]
        barrier.wait()
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


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def broker_pids() -> list[int]:
    found = []
    for process in Path("/proc").glob("[0-9]*"):
        try:
            if (process / "comm").read_text().strip() == "beam.smp":
                found.append(int(process.name))
        except OSError:
            continue
    return found


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
        system.start_relays()
        drain(system)
        whole, cpu, broker_cpu = whole_system(system, session, clients, count)
    return PathRates(direct, hop, rpc, gateway_sync, whole, cpu, broker_cpu)


def settle(system: System) -> None:
    """What a running system has before anyone files: the organisations recorded are in submissions' own
    copy (fed by the relays; until it arrives a filing asks the registry), then the relays stop again so
    that the synchronous part runs without them."""
    system.start_relays()
    drain(system)
    system.stop_relays()


def drain(system: System, quiet_seconds: float = 2.0) -> None:
    """Wait until the relays and consumers have caught up with what the synchronous runs stored."""
    pids = [process.pid for process in system.processes.values()]
    last = cpu_seconds(pids)
    while True:
        time.sleep(quiet_seconds)
        now = cpu_seconds(pids)
        if now - last < 0.25 * quiet_seconds:  # idle: the relays' polls and timers only (well under a core)
            return
        last = now


def whole_system(system: System, session: GatewaySession, clients: int, count: int) -> tuple[Rate, float, float]:
    pids = [process.pid for process in system.processes.values()]
    broker = broker_pids()
    before, broker_before = cpu_seconds(pids), cpu_seconds(broker)
    rate = concurrently(clients, count, gateway_clients(session))
    drain(system)  # the filings' mails and projections are part of their cost
    used, broker_used = cpu_seconds(pids) - before, cpu_seconds(broker) - broker_before
    return rate, used / rate.count * 1000, broker_used / rate.count * 1000


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
            f"| {rate.cpu_ms_per_filing:.1f} (+ {rate.broker_cpu_ms_per_filing:.1f}) |"
        )
    return [*lines, ""]
