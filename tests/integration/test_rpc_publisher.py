"""RPC replies and the gateway's requests go out without waiting for a confirm, on pooled connections
(infra/rpc_publisher.py): a message after the broker dropped the pooled connection (a restart) must go out on
a new one, not vanish into the dead one. Through a forwarder whose connections the test cuts, as a broker
restart does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import kombu
import pytest

from infra.rpc_publisher import RpcPublisher
from infra.settings import amqp_config
from tests.support.tls import Forwarder


@pytest.fixture
def inbox(amqp_uri: str) -> Iterator[tuple[str, kombu.SimpleQueue]]:
    """A queue on the RPC exchange receiving one routing key, read on a connection of its own."""
    key = f"inbox-{uuid.uuid4().hex}"
    exchange = kombu.Exchange("nameko-rpc", type="topic", durable=True)
    with kombu.Connection(amqp_uri) as connection:
        queue = kombu.Queue(key, exchange=exchange, routing_key=key, auto_delete=True)
        with connection.SimpleQueue(queue) as simple:
            yield key, simple


def next_body(simple: kombu.SimpleQueue) -> object:
    message = simple.get(timeout=5)  # Empty if nothing came
    message.ack()
    return message.payload


@pytest.mark.parametrize("confirms", [False, True], ids=["without confirm", "with confirm"])
def test_a_message_after_the_broker_dropped_the_connection_still_arrives(
    amqp_uri: str, inbox: tuple[str, kombu.SimpleQueue], confirms: bool
) -> None:
    key, simple = inbox
    forwarder = Forwarder()
    try:
        through_forwarder = amqp_uri.replace("127.0.0.1:5672", f"127.0.0.1:{forwarder.port}")
        publisher = RpcPublisher(amqp_config(through_forwarder), confirms)
        publisher.publish({"reply": 1}, routing_key=key)
        assert next_body(simple) == {"reply": 1}
        assert forwarder.cut() >= 1  # the broker restarts: the pooled connection is dead

        publisher.publish({"reply": 2}, routing_key=key)

        assert next_body(simple) == {"reply": 2}
    finally:
        forwarder.close()
