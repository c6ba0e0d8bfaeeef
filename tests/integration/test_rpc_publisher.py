"""RPC replies, the gateway's requests and the services' own questions go out without waiting for a confirm,
on pooled connections (infra/rpc_publisher.py): a message after the broker dropped the pooled connection (a
restart) must go out on a new one, not vanish into the dead one (through a forwarder whose connections the
test cuts, as a broker restart does); and a question nobody answers gives up after its timeout instead of
holding its worker forever."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import kombu
import pytest
from nameko.containers import WorkerContext
from nameko.exceptions import RpcTimeout
from nameko.rpc import ReplyListener
from nameko.standalone.rpc import StandaloneProxyBase

from infra.rpc_publisher import REPLY_WITHOUT_CONFIRM, TRANSIENT, PooledServiceProxy, RpcPublisher
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


@pytest.fixture
def unread(amqp_uri: str) -> Iterator[tuple[str, kombu.Queue]]:
    """A queue on the RPC exchange receiving one routing key, that nobody consumes (messages stay in it)."""
    key = f"unread-{uuid.uuid4().hex}.ask"
    exchange = kombu.Exchange("nameko-rpc", type="topic", durable=True)
    queue = kombu.Queue(key, exchange=exchange, routing_key=key)
    with kombu.Connection(amqp_uri) as connection:
        queue.bind(connection.default_channel).declare()
        try:
            yield key, queue
        finally:
            queue.bind(connection.default_channel).delete()


def test_a_question_nobody_answers_gives_up_after_its_timeout_and_expires_unanswered(
    amqp_uri: str, unread: tuple[str, kombu.Queue]
) -> None:
    """A service's nested call (SignedRpcProxy): the request reaches the broker, marked so that its answer goes
    without a confirm too, and the caller waits no longer than its timeout (nameko's own would wait forever:
    an answer lost in a broker restart held a mail's worker until the process was killed). A question still
    queued when its caller gave up expires there, instead of piling up for a service that is down."""
    key, service_queue = unread  # the "service" is this queue: it never answers
    service_name, method = key.split(".")
    config = amqp_config(amqp_uri)
    asker = WorkerContext(StandaloneProxyBase.ServiceContainer(config), None, StandaloneProxyBase.Dummy())
    listener = ReplyListener()  # nameko's, keeping each pending call's event until its answer comes
    listener.routing_key = f"replies-{uuid.uuid4().hex}"

    def ask(timeout: float) -> None:
        publisher = RpcPublisher(config, confirms=False, expires_after=timeout)
        service = PooledServiceProxy(asker, service_name, listener, publisher, timeout=timeout)
        getattr(service, method)("a question")

    received: list[kombu.Message] = []
    reader = threading.Thread(target=lambda: received.append(_taken(amqp_uri, service_queue)))
    reader.start()  # the "service" takes the first question at once, and does not answer it
    with pytest.raises(RpcTimeout, match="gave no answer in 2 s"):
        ask(2.0)
    reader.join()
    [request] = received
    assert request.payload == {"args": ["a question"], "kwargs": {}}
    assert request.headers[REPLY_WITHOUT_CONFIRM] is True
    assert request.properties["delivery_mode"] == TRANSIENT
    assert request.properties["expiration"] == "2000"
    assert listener._reply_events == {}  # an answer coming late is dropped, not kept for ever

    with pytest.raises(RpcTimeout):
        ask(0.3)  # nobody takes this one
    time.sleep(0.5)  # well past its expiry, however late the broker queued it
    assert _taken(amqp_uri, service_queue, within=0.5) is None  # it expired in the queue


def _taken(amqp_uri: str, queue: kombu.Queue, within: float = 5.0) -> kombu.Message | None:
    """The next message in ``queue``, fetched one at a time (a consumer would have the broker push messages to
    it, and a message already pushed no longer expires), or None if none comes ``within`` seconds."""
    with kombu.Connection(amqp_uri) as connection:
        bound = queue.bind(connection.default_channel)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            message = bound.get(no_ack=True)
            if message is not None:
                return message
            time.sleep(0.05)
    return None
