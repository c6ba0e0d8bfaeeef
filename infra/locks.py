"""Exactly one holder at a time (one relay per event store): a PostgreSQL advisory lock, or a file lock.

A file lock lasts as long as its process. A PostgreSQL advisory lock lasts as long as the database session
that took it: a database restart or a killed backend ends it without the holder hearing of it, and another
relay may take it at once. So, on PostgreSQL, a holder
- confirms on the server that its session lives at least every LEASE_SECONDS while it acts
  (``confirm_if_due``, before each publish), and stops acting when it cannot (LockLostError);
- takes the lock again after losing it (``try_acquire``), and waits while another holder has it;
- after taking the lock waits ``takeover_seconds`` before it acts: longer than a holder that lost the lock
  can go on acting unaware (one lease, plus a confirmation's round trip). Two holders therefore never act
  at once, unless a process or its network stalls for TAKEOVER_SECONDS - LEASE_SECONDS after a
  confirmation.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import psycopg

from infra.storage import postgres_session

LEASE_SECONDS = 1.0
TAKEOVER_SECONDS = 3.0


class AlreadyRunningError(RuntimeError):
    pass


class LockLostError(RuntimeError):
    pass


class SingleInstanceLock:
    """``database_url``: a PostgreSQL advisory lock in that database; None: a file lock in ``lock_dir``."""

    def __init__(
        self,
        name: str,
        database_url: str | None,
        lock_dir: Path,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.database_url = database_url or None
        self.lock_dir = lock_dir
        self.clock = clock
        self.key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        self._connection: psycopg.Connection[Any] | None = None
        self._confirmed_at = 0.0
        self._file: IO[str] | None = None

    @property
    def takeover_seconds(self) -> float:
        """How long a new holder waits before acting (a file lock is never lost, so never taken over)."""
        return TAKEOVER_SECONDS if self.database_url else 0.0

    @property
    def backend_pid(self) -> int | None:
        """The PostgreSQL session holding the lock (None: not held, or a file lock)."""
        return None if self._connection is None else self._connection.info.backend_pid

    def acquire(self) -> None:
        """Take the lock, or raise AlreadyRunningError when another process holds it."""
        if not self.try_acquire():
            raise AlreadyRunningError(f"another process holds the lock '{self.name}'")

    def try_acquire(self) -> bool:
        """Take the lock if it is free; False if another process holds it. On PostgreSQL raises
        ``psycopg.OperationalError`` while the database is unreachable."""
        if self.database_url is None:
            return self._lock_file()
        self.release()
        started = self.clock()
        connection = postgres_session(self.database_url)
        try:
            row = connection.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        except psycopg.Error:
            connection.close()
            raise
        if not (row and row[0]):
            connection.close()
            return False
        self._connection, self._confirmed_at = connection, started
        return True

    def confirm_if_due(self) -> None:
        """Raise LockLostError unless the lock was confirmed held less than LEASE_SECONDS ago (asking the
        server again when it is older)."""
        if self.database_url is None:
            return
        if self._connection is None:
            raise LockLostError(f"the lock '{self.name}' is not held")
        asked = self.clock()
        if asked - self._confirmed_at < LEASE_SECONDS:
            return
        try:
            # The session is the lock: it answers, so the lock is still ours.
            self._connection.execute("SELECT 1")
        except psycopg.Error:
            self.release()
            raise LockLostError(f"lost the lock '{self.name}' with its database session") from None
        self._confirmed_at = asked  # counted from the question, not the answer: the safe side

    def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(psycopg.Error):
                # Let go at once: a closed session's lock is freed only once its server process has ended,
                # a moment later, and the next holder (often this process again) would find it taken.
                self._connection.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            with contextlib.suppress(psycopg.Error):
                self._connection.close()  # ends the session, and the lock with it
            self._connection = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def _lock_file(self) -> bool:
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        lock_file = open(self.lock_dir / f"{self.name}.lock", "w")  # noqa: SIM115 - held for the process life
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            return False
        self._file = lock_file
        return True
