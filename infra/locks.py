"""Exactly one holder at a time (one relay per event store): a PostgreSQL advisory lock, or a file lock."""

from __future__ import annotations

import fcntl
import hashlib
from pathlib import Path
from typing import IO

import sqlalchemy as sa


class AlreadyRunningError(RuntimeError):
    pass


class SingleInstanceLock:
    def __init__(self, name: str, engine: sa.Engine | None, lock_dir: Path) -> None:
        self.name = name
        self.engine = engine
        self.lock_dir = lock_dir
        self._connection: sa.Connection | None = None
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        if self.engine is not None and self.engine.dialect.name == "postgresql":
            key = int.from_bytes(hashlib.sha256(self.name.encode()).digest()[:8], "big", signed=True)
            self._connection = self.engine.connect()
            got = self._connection.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            self._connection.commit()
            if not got:
                self._connection.close()
                raise AlreadyRunningError(f"another process holds the lock '{self.name}'")
            return
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        self._file = open(self.lock_dir / f"{self.name}.lock", "w")  # noqa: SIM115 - held for the process life
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise AlreadyRunningError(f"another process holds the lock '{self.name}'") from None

    def check(self) -> None:
        """Stop if a PostgreSQL advisory lock was lost with its connection (another relay may own it now)."""
        if self._connection is None:
            return
        try:
            self._connection.execute(sa.text("SELECT 1"))
            self._connection.commit()
        except sa.exc.DBAPIError:
            raise AlreadyRunningError(f"lost the lock '{self.name}' with its database connection") from None

    def release(self) -> None:
        if self._connection is not None:
            self._connection.close()
        if self._file is not None:
            self._file.close()
