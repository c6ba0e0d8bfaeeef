"""Wake a relay when its event store commits, instead of polling the store often.

PostgreSQL: the eventsourcing recorder sends ``NOTIFY <events table>`` inside the transaction that inserts
the events (``PostgresApplicationRecorder._insert_stored_events``), so PostgreSQL delivers it when, and
only when, the events are committed; the relay LISTENs on its own connection. Nothing to add on the
writer's side.

SQLite: the writers are other processes on this machine. After each commit the recorder below sends an
empty datagram to a UNIX socket in Linux's abstract namespace named after the database file; the relay is
bound to it. Chosen over a FIFO, a wake file or watching the ``-wal`` file because: nothing exists on disk
to go stale after a kill -9 (the name goes with the process), the name is a hash so no path is too long,
a send never blocks a writer (non-blocking; a full buffer already means "wake up"), a send with no relay
listening fails at once and is ignored, and watching the WAL's mtime would still be a poll.

Neither signal is relied on alone: the relay also polls slowly (``Settings.relay_poll_seconds``), so a
lost signal (a host without abstract sockets, a LISTEN connection being re-opened) costs at most one poll.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import select
import socket
import time
from collections.abc import Sequence
from typing import Any, Protocol

import psycopg
from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg import sql

from infra.storage import postgres_session

log = logging.getLogger(__name__)


class CommitSignal(Protocol):
    def wait(self, seconds: float) -> bool:
        """Block until the store may have committed something new, at most ``seconds``; False: nothing heard."""

    def close(self) -> None: ...


class Polling:
    """No signal: the relay looks again after ``seconds`` (the in-memory store, or wake-ups turned off)."""

    def wait(self, seconds: float) -> bool:
        time.sleep(seconds)
        return False

    def close(self) -> None:
        pass


class PostgresCommits:
    """LISTEN on the store's channel. A connection that dies (a database restart, a killed backend) is
    noticed at once, closed, and opened again on the next wait; that wait reports a wake-up, since commits
    made while nobody listened went unheard. Opening raises ``psycopg.OperationalError`` while the
    database is down: the relay backs off as for any database outage."""

    def __init__(self, conninfo: str, channel: str) -> None:
        self.conninfo = conninfo
        self.channel = channel
        self._connection: psycopg.Connection[Any] | None = None

    @property
    def backend_pid(self) -> int | None:
        return None if self._connection is None else self._connection.info.backend_pid

    def listen(self) -> None:
        connection = postgres_session(self.conninfo)
        try:
            connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        except psycopg.Error:
            connection.close()
            raise
        self._connection = connection

    def wait(self, seconds: float) -> bool:
        if self._connection is None:
            self.listen()
            return True
        try:
            heard = any(True for _ in self._connection.notifies(timeout=seconds, stop_after=1))
            if heard:  # several commits since the last look need one look, not one each
                for _ in self._connection.notifies(timeout=0):
                    pass
            return heard
        except psycopg.OperationalError as error:
            log.warning("LISTEN %s: connection lost (%s); listening again", self.channel, type(error).__name__)
            self.close()
            return True

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(psycopg.Error):
                self._connection.close()
            self._connection = None


def commit_address(db_name: str) -> bytes:
    """The abstract UNIX socket name for the SQLite file ``db_name`` (writers and relay agree on it)."""
    digest = hashlib.sha256(os.path.realpath(db_name).encode()).hexdigest()[:40]
    return b"\0satu-commits-" + digest.encode()


class SqliteCommits:
    """Bound to the store's commit address; each datagram a writer sends is a wake-up."""

    def __init__(self, db_name: str) -> None:
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(commit_address(db_name))
        self._socket.setblocking(False)

    def wait(self, seconds: float) -> bool:
        readable, _, _ = select.select([self._socket], [], [], seconds)
        if not readable:
            return False
        with contextlib.suppress(BlockingIOError):
            while True:  # many commits, one look
                self._socket.recv(16)
        return True

    def close(self) -> None:
        self._socket.close()


class WakingSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """The SQLite recorder that, after each commit of events, tells a relay listening on this file
    (chosen by ``infra.storage.event_store_env`` through ``APPLICATION_RECORDER_TOPIC``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        db_name = self.datastore.pool.db_name
        self.address = None if self.datastore.pool.is_sqlite_memory_mode else commit_address(db_name)
        self._socket: socket.socket | None = None

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        notification_ids = super().insert_events(stored_events, **kwargs)  # committed on return
        self._announce()
        return notification_ids

    def _announce(self) -> None:
        if self.address is None:
            return
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._socket.setblocking(False)
            self._socket.sendto(b"", self.address)
        except OSError:
            pass  # no relay listening, or its buffer is full (it will look anyway): nothing to do


def commit_signal(recorder: ApplicationRecorder, database_url: str) -> CommitSignal:
    """The wake-up for a relay following ``recorder``'s store (polling where the store has none)."""
    if isinstance(recorder, PostgresApplicationRecorder):
        return PostgresCommits(database_url, recorder.channel_name)
    if isinstance(recorder, WakingSQLiteApplicationRecorder) and recorder.address is not None:
        try:
            return SqliteCommits(recorder.datastore.pool.db_name)
        except OSError as error:  # no abstract sockets here: the slow poll alone
            log.warning("no commit wake-ups for %s (%s); polling only", recorder.datastore.pool.db_name, error)
    return Polling()
