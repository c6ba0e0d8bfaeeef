"""A RabbitMQ node of a test's own, which the test may kill -9 and start again (test support; no tests here).

The machine's shared broker must stay up for everyone else, so a test that restarts "the broker" starts a
second node of the installed RabbitMQ: its own name, port, data and log directories, no plugins, run as
the `rabbitmq` user as the packaged script does. Its data survives a kill, as a real broker's does.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.system import free_port


class OwnBroker:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.node = f"satutest{os.getpid()}x{self.port}@localhost"
        self.uri = f"amqp://guest:guest@127.0.0.1:{self.port}"
        self.dist_port = free_port()
        (base / "mnesia").mkdir(parents=True)
        (base / "log").mkdir()
        (base / "enabled_plugins").write_text("")
        (base / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\nloopback_users = none\n")
        shutil.chown(base, "rabbitmq", "rabbitmq")
        for path in base.rglob("*"):
            shutil.chown(path, "rabbitmq", "rabbitmq")

    @property
    def env(self) -> dict[str, str]:
        """What `rabbitmqctl` (and `rabbitmq-server`) need to address this node instead of the shared one."""
        return {
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
        }

    def start(self, timeout: float = 90) -> None:
        subprocess.run(["rabbitmq-server", "-detached"], env={**os.environ, **self.env}, check=True)
        deadline = time.monotonic() + timeout
        while not self.listening():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the test's RabbitMQ node did not listen in {timeout:.0f}s; see {self.base}/log")
            time.sleep(0.3)
        # Listening is not yet booted: `rabbitmqctl` commands fail until the node says it has started.
        subprocess.run(
            ["rabbitmqctl", "await_startup", "--timeout", str(int(timeout))],
            env={**os.environ, **self.env}, check=True, capture_output=True,
        )  # fmt: skip

    def listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def kill(self) -> None:
        """kill -9 the node, as a crash would: no goodbye to any client."""
        for pid in self._pids():
            os.kill(pid, signal.SIGKILL)
        while self.listening():
            time.sleep(0.1)

    def _pids(self) -> list[int]:
        # The node's name is not on the Erlang VM's command line, but in its environment (which the test's
        # own processes may share: only the VM is the broker).
        marker = f"RABBITMQ_NODENAME={self.node}".encode()
        pids = []
        for process in Path("/proc").glob("[0-9]*"):
            try:
                if (process / "comm").read_text().strip() == "beam.smp" and marker in (
                    process / "environ"
                ).read_bytes().split(b"\0"):
                    pids.append(int(process.name))
            except OSError:
                continue  # gone meanwhile, or not ours to read
        return pids


def available() -> bool:
    return shutil.which("rabbitmq-server") is not None and _has_user("rabbitmq")


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@contextmanager
def own_broker() -> Iterator[OwnBroker]:
    """A started node; killed and its files removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="satu-broker-"))
    os.chmod(base, 0o755)  # noqa: S103 - the broker runs as the `rabbitmq` user and must reach its files
    broker = OwnBroker(base / "node")
    try:
        broker.start()
        yield broker
    finally:
        broker.kill()
        shutil.rmtree(base, ignore_errors=True)
