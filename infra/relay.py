"""Outbox relay: follows an event store's notification log and publishes integration events.

Order of work per batch: read notifications after the saved position, publish each mapped event
with publisher confirms and persistent delivery, and only then save the new position. A crash
between publishing and saving republishes the batch; consumers skip what they have seen.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable

import amqp.exceptions
import kombu
import kombu.exceptions
import sqlalchemy as sa
from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol

from contracts.events import IntegrationEvent
from contracts.keys import Signer
from infra.locks import SingleInstanceLock
from infra.storage import create_tables

log = logging.getLogger(__name__)

ToIntegration = Callable[[DomainEventProtocol], IntegrationEvent | None]

_metadata = sa.MetaData()
relay_positions = sa.Table(
    "relay_positions",
    _metadata,
    sa.Column("source", sa.String(40), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)

# Fault injection for the crash tests: SIGKILL this process after publishing N events, before the
# position is saved. Unset in normal runs.
KILL_AFTER_PUBLISH_ENV = "SATU_RELAY_FAULT_KILL_AFTER_PUBLISH"


# What a relay survives by waiting: broker and database outages.
TRANSIENT = (OSError, kombu.exceptions.OperationalError, amqp.exceptions.ConnectionError, sa.exc.OperationalError)


def event_exchange(source: str) -> kombu.Exchange:
    # Same declaration as nameko's event dispatcher, so nameko @event_handler consumers bind to it.
    return kombu.Exchange(f"{source}.events", type="topic", durable=True, auto_delete=False)


def prepare_positions(engine: sa.Engine) -> None:
    """The table of the relays' positions, in the database a relay keeps its position in."""
    create_tables(_metadata, engine)


def published_position(engine: sa.Engine, source: str) -> int:
    """The log position up to which ``source``'s events have been published (0: none yet)."""
    with engine.connect() as connection:
        value = connection.execute(
            sa.select(relay_positions.c.position).where(relay_positions.c.source == source)
        ).scalar()
    return int(value or 0)


def save_position(engine: sa.Engine, source: str, position: int) -> None:
    """Record that ``source``'s events up to ``position`` are published (by the relay, or deliberately never:
    the demo-data generator builds the read models of what it writes itself)."""
    with engine.begin() as connection:
        updated = connection.execute(
            relay_positions.update().where(relay_positions.c.source == source).values(position=position)
        ).rowcount
        if not updated:
            connection.execute(relay_positions.insert().values(source=source, position=position))


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
        self.exchange = event_exchange(source)
        self.published = 0
        self._kill_after = int(os.environ.get(KILL_AFTER_PUBLISH_ENV, "0") or 0)
        prepare_positions(position_engine)

    def position(self) -> int:
        return published_position(self.position_engine, self.source)

    def _save_position(self, position: int) -> None:
        save_position(self.position_engine, self.source, position)

    def pump_once(self, producer: kombu.messaging.Producer) -> int:
        """Publish the next batch; returns how many notifications were consumed from the log."""
        start = self.position()
        notifications = self.application.recorder.select_notifications(
            start=start, limit=self.batch_size, inclusive_of_start=False
        )
        for notification in notifications:
            domain_event = self.application.mapper.to_domain_event(notification)
            integration_event = self.to_integration(domain_event)
            if integration_event is not None:
                self._publish(producer, integration_event.signed(self.signer))
        if notifications:
            self._save_position(notifications[-1].id)
        return len(notifications)

    def _publish(self, producer: kombu.messaging.Producer, event: IntegrationEvent) -> None:
        producer.publish(
            event.model_dump(mode="json"),
            exchange=self.exchange,
            routing_key=event.event_type,
            serializer="json",
            delivery_mode=2,
            declare=[self.exchange],
            retry=True,
            retry_policy={"max_retries": 5, "interval_start": 0.2, "interval_step": 0.5},
            message_id=event.event_id,
        )
        self.published += 1
        if self._kill_after and self.published >= self._kill_after:
            log.warning("fault injection: killing relay after %d published events", self.published)
            os.kill(os.getpid(), signal.SIGKILL)

    def run(self, stop: threading.Event, poll_seconds: float) -> None:
        self.lock.acquire()
        log.info("relay %s started at position %d", self.source, self.position())
        backoff = 0.5
        try:
            while not stop.is_set():
                try:
                    self._pump_until(stop, poll_seconds)
                except TRANSIENT as error:
                    # A broker or database outage: nothing after the saved position is lost, so wait
                    # and carry on from there once it is back.
                    log.warning("relay %s: %s; retrying in %.1fs", self.source, error.__class__.__name__, backoff)
                    stop.wait(backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                backoff = 0.5
        finally:
            self.lock.release()

    def _pump_until(self, stop: threading.Event, poll_seconds: float) -> None:
        options = {"confirm_publish": True}
        with kombu.Connection(self.amqp_uri, ssl=self.amqp_ssl, transport_options=options) as connection:
            connection.ensure_connection(max_retries=3)
            producer = connection.Producer()
            while not stop.is_set():
                self.lock.check()
                if self.pump_once(producer) == 0:
                    stop.wait(poll_seconds)
