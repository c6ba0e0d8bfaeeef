"""Outbox relay: follows an event store's notification log and publishes integration events.

Order of work per batch: read notifications after the saved position, publish each mapped event
(persistent delivery), wait once for the broker's confirms of the whole batch, and only then save the new
position. A crash between publishing and saving republishes the batch; consumers skip what they have seen.

Between batches the relay sleeps until the store commits (infra/wake.py: LISTEN/NOTIFY on PostgreSQL, a
datagram from the writer on SQLite), or at the latest ``poll_seconds``: the slow poll is the safety net.

Outages are waited out, one log line each (infra/outages.py): a database or broker that goes away, and
the single-instance lock lost with its database session, which is taken again (infra/locks.py).

A store that no longer holds the event the relay published last (restored from a backup, or replaced) is
refused, with one line at error level, until `satu relay-reset` has dealt with it (infra/published.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable

import kombu
import kombu.exceptions
import psycopg
import sqlalchemy as sa
from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol

from contracts.events import IntegrationEvent
from contracts.keys import Signer
from infra import outages
from infra.locks import LEASE_SECONDS, AlreadyRunningError, LockLostError, SingleInstanceLock
from infra.outages import Outage
from infra.published import (
    EventName,
    PublishedMark,
    Publishing,
    StoreReplacedError,
    note_refusal,
    prepare_positions,
    published_mark,
    verify_store,
)
from infra.publisher import ConfirmedPublisher, Publisher, event_exchange
from infra.wake import CommitSignal, Polling

__all__ = ["DATABASE_ERRORS", "KILL_AFTER_PUBLISH_ENV", "Relay", "event_exchange"]

log = logging.getLogger(__name__)

ToIntegration = Callable[[DomainEventProtocol], IntegrationEvent | None]

# Fault injection for the crash tests: SIGKILL this process after publishing N events (confirmed by the
# broker), before the position is saved. Unset in normal runs.
KILL_AFTER_PUBLISH_ENV = "SATU_RELAY_FAULT_KILL_AFTER_PUBLISH"

# What a relay survives by waiting: the database (positions, the event store, LISTEN, and the lock on its
# own psycopg connection) and the broker going away.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (*outages.DATABASE_ERRORS, psycopg.OperationalError)
BROKER_ERRORS = outages.BROKER_ERRORS


class Relay:
    def __init__(
        self,
        source: str,
        application: Application,
        to_integration: ToIntegration,
        position_engine: sa.Engine,
        amqp_uri: str,
        lock: SingleInstanceLock,
        signer: Signer,
        amqp_ssl: dict[str, object] | None = None,
        batch_size: int = 200,
        commits: CommitSignal | None = None,
    ) -> None:
        self.source = source
        self.application = application
        self.to_integration = to_integration
        self.position_engine = position_engine
        self.amqp_uri = amqp_uri
        self.lock = lock
        self.signer = signer
        self.amqp_ssl = amqp_ssl
        self.batch_size = batch_size
        self.commits = commits or Polling()
        self.published = 0
        self.database = Outage(f"relay {source}: the database", log)
        self.broker = Outage(f"relay {source}: the broker", log)
        self._refusing = False  # its store: said once, at error level
        self._kill_after = int(os.environ.get(KILL_AFTER_PUBLISH_ENV, "0") or 0)
        # The saved position as this relay last read or saved it. Only the holder of the lock saves it (the
        # demo-data generator holds the lock too), so it is read, and checked against the store, once per
        # holding, after a database error (a save that failed may have been committed), and at every poll while
        # the store is refused; not once per batch.
        self._position: int | None = None
        prepare_positions(position_engine)
        self.publishing = Publishing(position_engine, source, application.recorder)
        self._checked = PublishedMark(0)  # the mark as last read and checked against the store

    def position(self) -> int:
        """The saved position, checked against the store when read (StoreReplacedError: restored or replaced)."""
        if self._position is None:
            mark = self._checked = published_mark(self.position_engine, self.source)
            verify_store(self.application.recorder, self.source, mark)
            if self._refusing:
                log.warning("relay %s: its position was reset to %d; publishing", self.source, mark.position)
                self._refusing = False
            self.publishing.checkpoint_held(mark)
            self._position = mark.position
        return self._position

    def pump_once(self, publisher: Publisher) -> int:
        """Publish the next batch; returns how many notifications were consumed from the log."""
        start = self.position()
        notifications = self.application.recorder.select_notifications(
            start=start, limit=self.batch_size, inclusive_of_start=False
        )
        for notification in notifications:
            domain_event = self.application.mapper.to_domain_event(notification)
            integration_event = self.to_integration(domain_event)
            if integration_event is not None:
                self.lock.confirm_if_due()  # never publish on a lock another relay may hold by now
                publisher.publish(integration_event.at(notification.id).signed(self.signer))
                self._count_published(publisher)
        if notifications:
            publisher.confirm()
            last = notifications[-1]
            self.publishing.save(last.id, EventName.of(last))
            self._position = last.id
        return len(notifications)

    def _count_published(self, publisher: Publisher) -> None:
        self.published += 1
        if self._kill_after and self.published >= self._kill_after:
            publisher.confirm()
            log.warning("fault injection: killing relay after %d published events", self.published)
            os.kill(os.getpid(), signal.SIGKILL)

    def run(self, stop: threading.Event, poll_seconds: float) -> None:
        """Publish until ``stop`` is set. Takes the lock first (AlreadyRunningError if another relay has
        it); ``poll_seconds``: the longest sleep without a commit signal (the safety net)."""
        try:
            self._take_lock(stop, wait_for_another=False)
            started = False
            while not stop.is_set():
                try:
                    position = self.position()  # checked before the broker is asked for anything
                    if not started:
                        log.info("relay %s started at position %d", self.source, position)
                        started = True
                    self._pump_until(stop, poll_seconds)
                except LockLostError as error:
                    log.warning("relay %s: %s; taking it again", self.source, error)
                    self._position = None  # another relay may have published and saved meanwhile
                    self._take_lock(stop, wait_for_another=True)
                except DATABASE_ERRORS as error:
                    # Nothing after the saved position is lost: wait, and carry on from there once it is back.
                    self._position = None
                    stop.wait(self.database.failed(error))
                except BROKER_ERRORS as error:
                    stop.wait(self.broker.failed(error))
                except StoreReplacedError as error:
                    self._refuse(error)
                    stop.wait(poll_seconds)  # looked at again at every poll: an operator resets it meanwhile
        finally:
            self.commits.close()
            self.lock.release()

    def _refuse(self, error: StoreReplacedError) -> None:
        """Say once why the store is refused, and note where it ended then; its position is read and checked
        again at the next try (an operator resets it meanwhile)."""
        self._position = None
        self.database.succeeded()  # it answered: the refusal is what it said
        if not self._refusing:  # once: a store written to meanwhile changes the details, not the refusal
            log.error("relay %s: %s", self.source, error)
            self._refusing = True
        with contextlib.suppress(*DATABASE_ERRORS):  # noted at the next try (kept once noted)
            end = self.application.recorder.max_notification_id() or 0
            note_refusal(self.position_engine, self.source, self._checked, end)

    def _pump_until(self, stop: threading.Event, poll_seconds: float) -> None:
        with kombu.Connection(self.amqp_uri, ssl=self.amqp_ssl, connect_timeout=10) as connection:
            connection.connect()  # fails at once when the broker is away: the pauses are run()'s
            publisher = ConfirmedPublisher(connection, self.source)
            while not stop.is_set():
                self.lock.confirm_if_due()
                moved = self.pump_once(publisher)
                self.database.succeeded()
                self.broker.succeeded()
                if moved < self.batch_size:  # caught up
                    self._sleep_until_commit(stop, poll_seconds)

    def _sleep_until_commit(self, stop: threading.Event, poll_seconds: float) -> None:
        """Until the store commits or ``poll_seconds`` pass; looks at ``stop`` every second meanwhile."""
        deadline = time.monotonic() + poll_seconds
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self.commits.wait(min(left, 1.0)):
                return

    def _take_lock(self, stop: threading.Event, wait_for_another: bool) -> None:
        """Return holding the lock, through database outages. Another relay holding it: AlreadyRunningError
        at start; after this relay lost it (the other took it meanwhile), wait until it is free."""
        said_waiting = False
        while not stop.is_set():
            try:
                taken = self.lock.try_acquire()
            except DATABASE_ERRORS as error:
                stop.wait(self.database.failed(error))
                continue
            self.database.succeeded()
            if taken:
                # A relay that lost this lock may not know yet: give it time to stop (infra/locks.py).
                stop.wait(self.lock.takeover_seconds)
                if wait_for_another:
                    log.warning("relay %s: holds its lock again", self.source)
                return
            if not wait_for_another:
                raise AlreadyRunningError(f"another process holds the lock '{self.lock.name}'")
            if not said_waiting:
                log.warning("relay %s: another relay holds the lock; waiting", self.source)
                said_waiting = True
            stop.wait(LEASE_SECONDS)
