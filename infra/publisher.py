"""Publish a batch of integration events and wait once for the broker to confirm all of it.

A confirm per message (kombu's ``confirm_publish``) costs a round-trip each; in confirm mode RabbitMQ
numbers a channel's messages 1, 2, … and acknowledges them as they are safely queued, often several in
one ``multiple`` ack. So the relay publishes its whole batch, then ``confirm()`` waits until every
number is acknowledged, and only then saves its position.
"""

from __future__ import annotations

from typing import Protocol

import kombu
from amqp.exceptions import MessageNacked

from contracts.events import IntegrationEvent


class Publisher(Protocol):
    def publish(self, event: IntegrationEvent) -> None: ...

    def confirm(self) -> None:
        """Return once everything published so far is safely with the broker; raise if it refused any."""


def event_exchange(source: str) -> kombu.Exchange:
    # Same declaration as nameko's event dispatcher, so nameko @event_handler consumers bind to it.
    return kombu.Exchange(f"{source}.events", type="topic", durable=True, auto_delete=False)


class ConfirmedPublisher:
    """Publishes ``source``'s events on a channel of ``connection`` in confirm mode."""

    def __init__(self, connection: kombu.Connection, source: str, timeout: float = 30.0) -> None:
        self.exchange = event_exchange(source)
        self.timeout = timeout
        self.channel = connection.channel()
        self.channel.confirm_select()
        self.channel.events["basic_ack"].add(self._acked)
        self.channel.events["basic_nack"].add(self._nacked)
        self.producer = kombu.Producer(self.channel, exchange=self.exchange)
        self.producer.declare()
        self._published = 0  # the channel's delivery tags so far: 1 … _published
        self._unconfirmed: set[int] = set()
        self._refused = 0

    def publish(self, event: IntegrationEvent) -> None:
        self.producer.publish(
            event.model_dump(mode="json"),
            routing_key=event.event_type,
            serializer="json",
            delivery_mode=2,
            message_id=event.event_id,
        )
        self._published += 1
        self._unconfirmed.add(self._published)

    def confirm(self) -> None:
        connection = self.channel.connection
        while self._unconfirmed:
            connection.drain_events(timeout=self.timeout)  # socket.timeout (an OSError) if the broker is silent
        if self._refused:
            refused, self._refused = self._refused, 0
            raise MessageNacked(f"the broker refused {refused} message(s)")

    def _acked(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple)

    def _nacked(self, delivery_tag: int, multiple: bool) -> None:
        self._refused += self._settle(delivery_tag, multiple)

    def _settle(self, delivery_tag: int, multiple: bool) -> int:
        settled = {tag for tag in self._unconfirmed if tag <= delivery_tag} if multiple else {delivery_tag}
        settled &= self._unconfirmed
        self._unconfirmed -= settled
        return len(settled)
