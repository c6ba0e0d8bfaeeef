"""A PostgreSQL server of a test's own, which the test may crash (immediate stop) and start again (test
support; no tests here).

The machine's PostgreSQL serves everyone else, so a test that restarts "the database" makes a cluster of
its own with the installed server binaries: a temporary data directory, its own port and socket, trust
authentication on loopback, run as the `postgres` user. Its data survives the crash, as a real server's
does (WAL recovery on the next start).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.system import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed under /usr/lib/postgresql")
    return found[-1]


def available() -> bool:
    return bool(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")) and shutil.which("runuser") is not None


class OwnPostgres:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.data = base / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, cwd="/")

    def create(self) -> None:
        self._as_postgres(_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            _bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.base / "log"), "-w", "start"
        )

    def crash(self) -> None:
        """Stop at once, as a crash would: every connection dropped, no checkpoint."""
        self._as_postgres(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", _bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True, cwd="/",
        )  # fmt: skip


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """A started server; stopped and its files removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="satu-pg-"))
    os.chmod(base, 0o755)  # noqa: S103 - the server runs as the `postgres` user and keeps its socket here
    shutil.chown(base, "postgres", "postgres")
    server = OwnPostgres(base)
    try:
        server.create()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
