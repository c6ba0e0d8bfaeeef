"""A dependency (the database) that stopped answering: one line when the outage starts, one when it ends,
and pauses that double while it lasts, instead of a retry loop that fills the log.

A consumer that cannot reach its database must give its message back to the broker (it is redelivered),
but not at once: it waits ``pause()`` first, so a long outage costs a few lines and little CPU.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable

import amqp.exceptions
import eventsourcing.persistence
import kombu.exceptions
import psycopg
import sqlalchemy.exc

# How the two dependencies every part waits for show that they went away (one list, read by the relays,
# the services' reply path and the one-line log filter).
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    eventsourcing.persistence.OperationalError,
    eventsourcing.persistence.InterfaceError,
)
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # the socket underneath
    kombu.exceptions.OperationalError,
    amqp.exceptions.ConnectionError,
    amqp.exceptions.RecoverableConnectionError,
    amqp.exceptions.RecoverableChannelError,
    amqp.exceptions.MessageNacked,
)

# What says the database is away, not that a statement failed (a deadlock, a lock or statement timeout, a schema
# error): PostgreSQL's SQLSTATEs of a lost or refused connection (class 08), of a server shutting down or starting
# (57P01-57P03), of too many connections (53300); none at all where the client library saw the connection fail
# or go (psycopg sets none, nor does its pool's wait for a connection: so a connection refused for a bad password
# or a missing database counts as away too, and psycopg's pool logs why); the event store library's own wait for
# a pooled connection (SQLite's writer); SQLite's file held by a writer too long ("database is locked").
_AWAY_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` (one of DATABASE_ERRORS) says the database did not answer, following its causes (an
    SQLAlchemy error's driver error, a library's wrapped one)."""
    seen: BaseException | None = error
    for _depth in range(5):
        if seen is None:
            return False
        sqlstate = getattr(seen, "sqlstate", None)
        if sqlstate:
            return sqlstate.startswith(_AWAY_SQLSTATES)
        if isinstance(seen, eventsourcing.persistence.ConnectionUnavailableError):
            return True
        if isinstance(seen, sqlite3.OperationalError):
            return "database is locked" in str(seen)
        if isinstance(seen, psycopg.OperationalError):
            return True  # no SQLSTATE: the connection failed, was lost, or none came from the pool in time
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


FIRST_PAUSE_SECONDS = 0.5
LONGEST_PAUSE_SECONDS = 30.0


def doubling_pause(failures: int, first: float, longest: float) -> float:
    """The pause after the ``failures``-th failure in a row: ``first``, doubling, at most ``longest``. The exponent
    is capped, so however long the row (a service's requests through a long outage) it never overflows."""
    return min(longest, first * 2 ** min(max(failures, 1) - 1, 16))


class Outage:
    def __init__(
        self,
        what: str,
        log: logging.Logger,
        clock: Callable[[], float] = time.monotonic,
        then: str = "retrying with growing pauses",
    ) -> None:
        self.what = what
        self.then = then  # what the part does meanwhile, said with the first line
        self.log = log
        self.clock = clock
        self._failures = 0
        self._since: float | None = None
        self._last_error: BaseException | None = None
        self._lock = threading.Lock()

    def failed(self, error: BaseException) -> float:
        """Record a failure; returns how long to wait before trying again (0 for a failure recorded
        already: the same error passing through an outer guard)."""
        with self._lock:
            if error is self._last_error:
                return 0.0
            self._last_error = error
            if self._since is None:
                self._since = self.clock()
                self.log.warning("%s is unreachable (%s); %s", self.what, type(error).__name__, self.then)
            self._failures += 1
            return doubling_pause(self._failures, FIRST_PAUSE_SECONDS, LONGEST_PAUSE_SECONDS)

    def succeeded(self) -> None:
        with self._lock:
            if self._since is not None:
                self.log.warning("%s answers again after %.0f s", self.what, self.clock() - self._since)
            self._since, self._failures = None, 0
