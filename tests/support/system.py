"""Start real service, relay and gateway processes for a test, and wait for what they do."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from infra.settings import Settings
from ops.broker_users import provision
from ops.launcher import System
from tests.support.smtp import SmtpSink


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def system_env(settings: Settings, amqp_uri: str, smtp: SmtpSink | None, port: int) -> dict[str, str]:
    env = {
        "SATU_ENV": "test",
        "SATU_VAR_DIR": str(settings.var_dir),
        "SATU_DATABASE_URL": settings.database_url,
        "SATU_SECRET_KEY": settings.secret_key,
        "SATU_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    if smtp is not None:
        env |= {"SATU_SMTP_HOST": smtp.host, "SATU_SMTP_PORT": str(smtp.port)}
    return env


@contextmanager
def running_system(
    settings: Settings,
    amqp_uri: str,
    smtp: SmtpSink | None = None,
    relays: bool = True,
    gateway: bool = True,
    env: dict[str, str] | None = None,
) -> Iterator[System]:
    """Every part as its own broker user, as `satu run` starts them. ``env``: more variables for every process
    (e.g. SATU_TODAY: the system's date, moved by configuration)."""
    port = free_port()
    part_uris = provision(amqp_uri, settings.var_dir / "broker-users.json")
    system = System(amqp_uri, settings.var_dir / "logs", port=port, part_uris=part_uris)
    system.env.update(system_env(settings, amqp_uri, smtp, port) | (env or {}))
    try:
        system.start_services()
        if relays:
            system.start_relays()
        if gateway:
            system.start_gateway()
        yield system
    except BaseException:
        print_logs(system)
        raise
    finally:
        system.stop()


def print_logs(system: System, lines: int = 30) -> None:
    for path in sorted(system.log_dir.glob("*.log")):
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        print(f"----- {path.name} -----", *tail, sep="\n")


def eventually(check: Callable[[], object], timeout: float = 20.0, interval: float = 0.1) -> object:
    """Wait until ``check()`` returns something truthy (read models are eventually consistent)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value: {result!r})")
        time.sleep(interval)


def queue_rows(client: httpx.Client) -> list[dict[str, Any]]:
    """The first page of the caller's work queue; none while the gateway answers 503 (a part is starting or
    busy past its timeout: a client tries again), any other answer fails the test with what it said."""
    answer = client.get("/api/queue")
    if answer.status_code == 503:
        return []
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def in_queue(client: httpx.Client, case_id: str) -> bool:
    return any(row["case_id"] == case_id for row in queue_rows(client))


@contextmanager
def supervised(system: System, status_file: Path) -> Iterator[list[str]]:
    """The supervisor `satu run` runs, in a thread: a part that exits is started again; yields what it says."""
    said: list[str] = []
    stop = threading.Event()
    system.status_file = status_file

    def supervise() -> None:
        while not stop.is_set():
            system.supervise(said.append)
            time.sleep(0.2)

    thread = threading.Thread(target=supervise, daemon=True)
    thread.start()
    try:
        yield said
    finally:
        stop.set()
        thread.join(10)
