"""How RPC requests and replies leave a process: through one kombu producer pool per broker and mode,
made once, instead of nameko's kombu ``Connection`` built per message (17% of a service's CPU went there).

Whether a message waits for the broker's confirm is the sender's choice (``confirms``):

- A caller that waits for its reply at most a timeout, and whose commands carry command ids (the gateway),
  needs no confirm on either: a request or reply lost in a broker restart is an unanswered call, retried
  under the same command id, which returns the first result and changes nothing (contracts/commands.py).
  Its requests go without, and say so in a header (``REPLY_WITHOUT_CONFIRM``), so their replies go without.
- A service's nested call is a question (the services ask the registry; none commands another service), and
  it waits for its answer at most half the RPC timeout (``PooledMethodProxy``; half, so that a command asking
  it still answers before the gateway gives up): unanswered, it raises ``RpcTimeout`` and what asked is retried
  (an event handler's event is requeued; a command's caller gets a 503 and retries under the same command id).
  So it goes without confirms as well: with them, each question waited for two of the broker's disk writes, on
  the path of every mail. A question to a service with no queue yet is not refused at once (no ``mandatory``
  without a confirm): it goes unanswered.
- The CLI and the launcher's readiness pings keep both (nameko's way): a request's confirm (with
  ``mandatory``) is how one that nobody can receive fails at once (``UnknownService``: "not started yet"), and
  a reply's is how a reply the broker lost leaves the request unacknowledged, to be delivered again.

Every request whose caller waits at most a timeout expires in its queue after it (``expires_after``).

A message without a confirm is written and not waited for, so the connection it goes out on must be alive
at that moment. It is: before each publish py-amqp reads what the broker said meanwhile (it looks for a
``connection.blocked``), so a pooled connection the broker closed (a restart) fails there and kombu's retry
sends the message on a new one (tests/integration/test_rpc_publisher.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import eventlet
from kombu import Connection
from kombu.exceptions import ChannelError
from kombu.pools import producers
from nameko.amqp.publish import UndeliverableMessage
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_RETRY_POLICY,
    DEFAULT_SERIALIZER,
    DEFAULT_TRANSPORT_OPTIONS,
    LOGIN_METHOD_CONFIG_KEY,
    PERSISTENT,
    SERIALIZER_CONFIG_KEY,
)
from nameko.exceptions import RpcTimeout
from nameko.rpc import MethodProxy, Responder, RpcConsumer, ServiceProxy, get_rpc_exchange
from nameko.standalone.rpc import ClusterProxy

TRANSIENT = 1
REPLY_WITHOUT_CONFIRM = "satu-reply-without-confirm"  # a request's header: its caller waits at most a timeout


class RpcPublisher:
    """Publishes RPC messages of one process to the broker of ``config`` (nameko's configuration).

    ``expires_after``: the caller's timeout. A request still queued that long after it was sent is dropped by the
    broker: its caller has given up (a service down or busy), and answering it later would be work for nobody, or
    a command done after its client was told to retry."""

    def __init__(self, config: Mapping[str, Any], confirms: bool, expires_after: float | None = None) -> None:
        connection = Connection(
            config[AMQP_URI_CONFIG_KEY],
            transport_options={**DEFAULT_TRANSPORT_OPTIONS, "confirm_publish": confirms},
            ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )
        self.producers = producers[connection]  # kombu's pool for this broker and mode, shared in the process
        self.confirms = confirms
        # A message whose sender waits for no confirm has a caller that gives up after its timeout: worth nothing
        # after a broker restart, so not written to disk.
        self.delivery_mode = PERSISTENT if confirms else TRANSIENT
        self.expires_after = expires_after
        self.exchange = get_rpc_exchange(config)
        self.serializer = config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER)

    def __call__(self, *_args: Any, **_kwargs: Any) -> RpcPublisher:
        """Stands in for nameko's ``publisher_cls``: its users make "a publisher" per message; they get this one."""
        return self

    def publish(
        self,
        payload: Any,
        routing_key: str,
        exchange: Any = None,
        serializer: str | None = None,
        mandatory: bool = False,
        extra_headers: dict[str, Any] | None = None,
        **properties: Any,
    ) -> None:
        """nameko's ``Publisher.publish`` as its RPC proxies and responder call it."""
        headers = extra_headers or {}
        if not self.confirms:
            headers = {**headers, REPLY_WITHOUT_CONFIRM: True}  # (on a reply: read by nobody)
        with self.producers.acquire(block=True) as producer:
            try:
                producer.publish(
                    payload,
                    exchange=exchange or self.exchange,
                    routing_key=routing_key,
                    serializer=serializer or self.serializer,
                    headers=headers,
                    delivery_mode=self.delivery_mode,
                    mandatory=mandatory and self.confirms,  # a return is only seen while waiting for the confirm
                    retry=True,
                    retry_policy=DEFAULT_RETRY_POLICY,
                    expiration=self.expires_after,
                    **properties,
                )
            except ChannelError as error:
                if "NO_ROUTE" in str(error):
                    raise UndeliverableMessage() from error
                raise


class PooledRpcConsumer(RpcConsumer):
    """nameko's RPC consumer whose replies go out through the process's pools, with a confirm unless the
    request said its caller needs none."""

    def setup(self) -> None:
        super().setup()
        config = self.container.config
        self.replies = {confirms: RpcPublisher(config, confirms) for confirms in (True, False)}

    def handle_result(self, message: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
        replies = self.replies[not (message.headers or {}).get(REPLY_WITHOUT_CONFIRM)]
        responder = Responder(None, replies.exchange, None, message)
        responder.publisher_cls = replies
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)  # after the reply went out: lost before, the request comes again
        return result, exc_info


class PooledMethodProxy(MethodProxy):
    """nameko's proxy to one method whose requests go out through ``publisher``; with a ``timeout``, a call
    waits for its answer at most that long, then raises ``RpcTimeout`` (nameko's waits forever)."""

    def __init__(
        self,
        worker_ctx: Any,
        service: str,
        method: str,
        replies: Any,
        publisher: RpcPublisher,
        timeout: float | None = None,
    ) -> None:
        self.publisher_cls = publisher
        self.timeout = timeout
        super().__init__(worker_ctx, service, method, replies)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        reply = self._call(*args, **kwargs)
        if self.timeout is None:
            return reply.result()
        with eventlet.Timeout(self.timeout, False):  # on timeout the block is left, and the line after it runs
            return reply.result()
        _forget(self.reply_listener, reply.reply_event)  # a late answer is then dropped as unknown
        raise RpcTimeout(f"{self.service_name}.{self.method_name} gave no answer in {self.timeout:g} s")


def _forget(listener: Any, reply_event: Any) -> None:
    """Stop waiting for an answer: nameko's reply listener keeps each pending call's event until its reply."""
    pending = listener._reply_events
    for correlation_id, event in list(pending.items()):
        if event is reply_event:
            pending.pop(correlation_id, None)


class PooledServiceProxy(ServiceProxy):
    """nameko's proxy to one service whose requests go out through ``publisher`` (each call waiting at most
    ``timeout`` for its answer, if given)."""

    def __init__(
        self, worker_ctx: Any, service: str, reply_listener: Any, publisher: RpcPublisher, timeout: float | None = None
    ) -> None:
        super().__init__(worker_ctx, service, reply_listener)
        self.publisher = publisher
        self.timeout = timeout

    def __getattr__(self, method: str) -> PooledMethodProxy:
        if method.startswith("_"):
            raise AttributeError(method)
        return PooledMethodProxy(
            self.worker_ctx, self.service_name, method, self.reply_listener, self.publisher, self.timeout
        )


class PooledClusterProxy(ClusterProxy):
    """The standalone cluster proxy (``proxy["service"].method(...)``) whose requests go out through ``publisher``."""

    def __init__(self, worker_ctx: Any, reply_listener: Any, publisher: RpcPublisher) -> None:
        super().__init__(worker_ctx, reply_listener)
        self._publisher = publisher

    def __getattr__(self, service: str) -> PooledServiceProxy:
        if service.startswith("_"):
            raise AttributeError(service)
        if service not in self._proxies:
            proxy = PooledServiceProxy(self._worker_ctx, service, self._reply_listener, self._publisher)
            self._proxies[service] = proxy
        return self._proxies[service]
