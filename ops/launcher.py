"""Start the whole system as separate processes: four services, two relays, the gateway."""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from amqp.exceptions import AccessRefused
from nameko.exceptions import RpcTimeout, UnknownService

from infra.nameko_support import PartRpcProxy
from infra.outages import Outage
from infra.settings import PUBLIC_BASE_URL_VARIABLE, amqp_config, local_url, resolve_public_base_url
from infra.topology import EVENT_STORES, SERVICE_NAMES
from ops.supervisor import Part, Supervisor

log = logging.getLogger(__name__)

# A ping that timed out leaves late replies on a closing channel; py-amqp warns about each one.
logging.getLogger("amqp").setLevel(logging.ERROR)


def service_command(name: str) -> list[str]:
    return [sys.executable, "-m", "ops.service", name]


def relay_command(name: str) -> list[str]:
    return [sys.executable, "-m", "ops.cli", "relay", name]


# uvloop's event loop, named so that a missing one stops the start instead of uvicorn falling back silently to
# asyncio's. h11 parses HTTP: httptools was a little cheaper, but it puts no limit on a request's headers (h11
# refuses more than 16 KB), and the gateway faces the internet.
GATEWAY_SERVER = ("--loop", "uvloop", "--http", "h11")


def gateway_command(host: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "--factory", "gateway.app:create_app",
        "--host", host, "--port", str(port), "--no-access-log", *GATEWAY_SERVER,
    ]  # fmt: skip


def wait_for_services(
    amqp: dict[str, object],
    names: tuple[str, ...],
    seconds: float | None = 60,
    on_wait: Callable[[], None] | None = None,
    part: str = "satu-run",
) -> None:
    """Block until every named service answers ``ping`` (its queues exist); ``None`` waits forever.
    ``amqp``: the nameko configuration of the broker (``Settings.amqp_config``).
    ``part`` names the waiting part (its broker user may consume only reply queues of its name).

    A connection the broker drops meanwhile (a restart) is opened again, not polled while dead; while the
    broker is away, one log line and growing pauses."""
    deadline = None if seconds is None else time.monotonic() + seconds
    pending = list(names)
    runner: PartRpcProxy | None = None
    broker = Outage(f"{part}: RabbitMQ", log)
    try:
        while pending:
            if on_wait is not None:
                on_wait()
            if deadline is not None and time.monotonic() > deadline:
                raise RuntimeError(f"services did not start in {seconds:.0f}s: {', '.join(pending)}")
            try:
                if runner is None:
                    runner = PartRpcProxy(amqp, part, timeout=2)
                    rpc = runner.start()
                getattr(rpc, pending[0]).ping()
                broker.succeeded()
                pending.pop(0)
            except AccessRefused as error:  # the credentials: waiting will not change them
                raise RuntimeError(
                    f"RabbitMQ refused the connection in SATU_AMQP_URI ({error.__class__.__name__})"
                ) from None
            except (RpcTimeout, UnknownService) as error:
                broker.succeeded()  # the broker answered; the service has no queue, or is not consuming, yet
                if isinstance(error, UnknownService):  # a returned request may leave the client unusable
                    _stop_quietly(runner)
                    runner = None
                time.sleep(0.5)
            except Exception as error:  # noqa: BLE001 - the broker is unreachable or dropped us: connect again
                _stop_quietly(runner)
                runner = None
                left = float("inf") if deadline is None else max(0.0, deadline - time.monotonic())
                time.sleep(min(broker.failed(error), left))
    finally:
        _stop_quietly(runner)


def _stop_quietly(runner: PartRpcProxy | None) -> None:
    if runner is None:
        return
    # A dead connection cannot be closed politely; it is gone either way.
    with contextlib.suppress(Exception):
        runner.stop()


@dataclass
class System:
    amqp_uri: str
    log_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    # Each part's own broker URI (its own user, ops/broker_users.py); empty: every part uses amqp_uri.
    part_uris: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env["SATU_AMQP_URI"] = self.amqp_uri
        # Letters' QR codes and mail links must point at the gateway this system actually serves, so with
        # `--port N` alone every child gets the matching base; an explicit SATU_PUBLIC_BASE_URL still wins.
        public_base_url = resolve_public_base_url(self.env, self.host, self.port)
        for name in [name for name in self.env if name.upper() == PUBLIC_BASE_URL_VARIABLE]:
            del self.env[name]  # a blank or differently cased copy must not shadow the resolved one
        self.env[PUBLIC_BASE_URL_VARIABLE] = public_base_url

    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    commands: dict[str, list[str]] = field(default_factory=dict)
    status_file: Path | None = None  # where the supervisor writes the parts' states (for /health)
    supervisor: Supervisor | None = None

    def spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        """Start the part ``name`` (a service, ``relay-<store>`` or ``gateway``) as its own broker user."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child for its life
        env = {**self.env, "SATU_AMQP_URI": self.part_uris.get(name, self.amqp_uri)}
        if name != "gateway":
            env.pop("SATU_SECRET_KEY", None)  # the session key is the gateway's alone
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=Path.cwd())
        self.processes[name], self.commands[name] = process, command
        return process

    def supervise(self, say: Callable[[str], object]) -> None:
        """Once started: start again any part that exited (ops/supervisor.py); call it every second."""
        if self.supervisor is None:
            self.supervisor = Supervisor(self.spawn, say, self.status_file)
            for name, process in self.processes.items():
                self.supervisor.parts[name] = Part(name, self.commands[name], process, time.monotonic())
            self.supervisor.write_status()
        self.supervisor.tick()

    def start_services(self) -> None:
        for name in SERVICE_NAMES:
            self.spawn(name, service_command(name))
        self.wait_for_services()

    def start_relays(self) -> None:
        for store in EVENT_STORES:
            self.spawn(store.relay, relay_command(store.name))

    def stop_relays(self, timeout: float = 10) -> None:
        relays = [self.processes.pop(store.relay) for store in EVENT_STORES if store.relay in self.processes]
        terminate(relays, timeout)

    def start_gateway(self) -> None:
        self.spawn("gateway", gateway_command(self.host, self.port))
        self.wait_for_gateway()

    def start(self) -> None:
        # Services first: their queues must exist before the relays publish into them.
        self.start_services()
        self.start_relays()
        self.start_gateway()

    def wait_for_services(self, seconds: float = 60) -> None:
        ca_file = self.env.get("SATU_AMQP_CA_FILE")
        amqp = amqp_config(self.amqp_uri, Path(ca_file) if ca_file else None)
        wait_for_services(amqp, SERVICE_NAMES, seconds, on_wait=self.check_alive)

    def wait_for_gateway(self, seconds: float = 30) -> None:
        # The stdlib client: the running system may import nothing outside requirements.lock (httpx is a
        # test tool only), and `scripts/run` installs that lock alone.
        url = f"{local_url(self.host, self.port)}/health"
        # No proxy: an http_proxy in the environment must not route a loopback check elsewhere.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                with opener.open(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except (OSError, http.client.HTTPException):
                pass  # not listening yet (refused, reset, timeout, or an error status while it starts)
            time.sleep(0.3)
        raise RuntimeError(f"gateway did not answer on {self.host}:{self.port} in {seconds:.0f}s")

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with code {process.returncode}; see {self.log_dir / (name + '.log')}"
                )

    def stop(self, timeout: float = 10) -> None:
        if self.status_file is not None:
            self.status_file.unlink(missing_ok=True)  # no supervisor answers for the parts any more
        terminate(list(self.processes.values()), timeout)


def terminate(processes: list[subprocess.Popen[bytes]], timeout: float) -> None:
    """SIGTERM to each process still running; whichever has not exited within ``timeout`` is killed."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
