"""A dependency (the database) that stopped answering: one line when the outage starts, one when it ends,
and pauses that double while it lasts, instead of a retry loop that fills the log.

A consumer that cannot reach its database must give its message back to the broker (it is redelivered),
but not at once: it waits ``pause()`` first, so a long outage costs a few lines and little CPU.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import amqp.exceptions
import eventsourcing.persistence
import kombu.exceptions
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

FIRST_PAUSE_SECONDS = 0.5
LONGEST_PAUSE_SECONDS = 30.0


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
            return min(LONGEST_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2 ** (self._failures - 1))

    def succeeded(self) -> None:
        with self._lock:
            if self._since is not None:
                self.log.warning("%s answers again after %.0f s", self.what, self.clock() - self._since)
            self._since, self._failures = None, 0
