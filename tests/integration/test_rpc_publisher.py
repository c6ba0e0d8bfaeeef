"""RPC replies, the gateway's requests and the services' own questions go out without waiting for a confirm,
on pooled connections (infra/rpc_publisher.py): a message after the broker dropped the pooled connection (a
restart) must go out on a new one, not vanish into the dead one (through a forwarder whose connections the
test cuts, as a broker restart does); and a question nobody answers gives up after its timeout instead of
holding its worker forever."""

from __future__ import annotations

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
    key = f"inbox-{uuid.uuid4().hex}.ask"  # "<service>.<method>", as an RPC's routing key
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


def test_a_question_nobody_answers_gives_up_after_its_timeout_and_forgets_its_answer(
    amqp_uri: str, inbox: tuple[str, kombu.SimpleQueue]
) -> None:
    """A service's nested call (SignedRpcProxy): the request reaches the broker, marked so that its answer goes
    without a confirm too, and the caller waits no longer than its timeout (nameko's own would wait forever:
    an answer lost in a broker restart held a mail's worker until the process was killed)."""
    key, simple = inbox  # the "service" is this queue: it receives the question and never answers
    config = amqp_config(amqp_uri)
    asker = WorkerContext(StandaloneProxyBase.ServiceContainer(config), None, StandaloneProxyBase.Dummy())
    listener = ReplyListener()  # nameko's, keeping each pending call's event until its answer comes
    listener.routing_key = f"replies-{uuid.uuid4().hex}"
    service = PooledServiceProxy(asker, "ignored", listener, RpcPublisher(config, confirms=False), timeout=0.5)
    service.service_name = key.split(".")[0]

    with pytest.raises(RpcTimeout, match="gave no answer in 0.5 s"):
        getattr(service, key.split(".", 1)[1])("a question")

    request = simple.get(timeout=5)
    request.ack()
    assert request.payload == {"args": ["a question"], "kwargs": {}}
    assert request.headers[REPLY_WITHOUT_CONFIRM] is True
    assert request.properties["delivery_mode"] == TRANSIENT
    assert listener._reply_events == {}  # an answer coming late is dropped, not kept for ever
