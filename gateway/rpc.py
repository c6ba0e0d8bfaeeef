"""Per-thread nameko RPC proxies for the gateway's sync endpoints, signing the caller of each call.

A standalone ``ClusterRpcProxy`` is single-threaded (one connection, one reply queue polled by the
calling thread), so every threadpool worker gets its own, started on first use. A proxy whose
connection broke, or whose call went unanswered, is dropped so the next call from that thread reconnects
instead of failing forever.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu.exceptions import OperationalError
from nameko.exceptions import RpcTimeout

from contracts.identity import UntrustedReply, sign_arguments, vouched
from contracts.keys import Keyring, Signer
from infra.keys import load_keyring, load_signer
from infra.nameko_support import PartRpcProxy
from infra.settings import Settings

log = logging.getLogger(__name__)

# RuntimeError is how nameko's polling consumer says "disconnected, can no longer be used"; errors
# raised inside a service never arrive as RuntimeError (they come back as RemoteError or a contract error).
_BROKEN = (OSError, OperationalError, AmqpConnectionError, RuntimeError)


class ServiceUnavailable(Exception):
    """The message broker could not be reached, or the connection broke during a call."""


class RpcClients:
    """``rpc.service("submissions").get_case(caller, case_id)`` from any threadpool thread."""

    def __init__(self, config: dict[str, Any], signer: Signer, keyring: Keyring, timeout: float | None = None) -> None:
        self._config = config
        self._signer = signer  # the gateway's key: it vouches for the signed-in person on each call
        self._keyring = keyring  # the services' public keys: answers with authority must carry their proof
        self._timeout = timeout
        self._lock = threading.Lock()
        self._runners: dict[threading.Thread, tuple[PartRpcProxy, Any]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> RpcClients:
        signer, keyring = load_signer(settings, "gateway"), load_keyring(settings)
        return cls(settings.amqp_config(), signer, keyring, settings.rpc_timeout_seconds)

    def service(self, name: str) -> Any:
        return _ServiceHandle(self, name, self.call)

    def vouched(self, name: str) -> Any:
        """``rpc.vouched("registry").authenticate(...)``: for answers the gateway acts on with authority
        (a session, a letter called genuine, a letter's content), which must carry the service's proof."""
        return _ServiceHandle(self, name, self.call_vouched)

    def call(self, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """``service.method(*args)``; a Caller among the arguments goes signed for this call alone."""
        args, kwargs = sign_arguments(self._signer, service, method, args, kwargs)
        return self._send(service, method, args, kwargs)

    def call_vouched(self, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        args, kwargs = sign_arguments(self._signer, service, method, args, kwargs)
        reply = self._send(service, method, args, kwargs)
        try:
            return vouched(reply, self._keyring, service, method, args, kwargs)
        except UntrustedReply as error:
            log.error("refused an answer: %s", error)
            raise ServiceUnavailable(str(error)) from None

    def _send(self, service: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        proxy = self._proxy()
        try:
            return getattr(proxy[service], method)(*args, **kwargs)
        except _BROKEN as error:
            self._discard(threading.current_thread())
            raise ServiceUnavailable(f"lost the broker connection calling {service}") from error
        except RpcTimeout:
            # No answer: the service is busy or gone, or the broker restarted and took this proxy's reply
            # queue with it (its publisher reconnects by itself, its reply consumer does not). Start afresh.
            self._discard(threading.current_thread())
            raise

    def close(self) -> None:
        with self._lock:
            runners, self._runners = list(self._runners.values()), {}
        for runner, _proxy in runners:
            _stop_quietly(runner)

    def _proxy(self) -> Any:
        thread = threading.current_thread()
        with self._lock:
            started = self._runners.get(thread)
        if started is not None:
            return started[1]
        # Every call waits for its answer at most ``timeout``, and every command carries a command id: a request
        # or reply lost is an unanswered call (a 503, retried under the same id), so neither waits for a confirm.
        runner = PartRpcProxy(self._config, "gateway", timeout=self._timeout, confirms=self._timeout is None)
        try:
            proxy = runner.start()
        except _BROKEN as error:
            _stop_quietly(runner)
            raise ServiceUnavailable("cannot reach the message broker") from error
        with self._lock:
            self._runners[thread] = (runner, proxy)
            # Idle threadpool threads exit; close what they left behind.
            dead = [t for t in self._runners if not t.is_alive()]
            stale = [self._runners.pop(t)[0] for t in dead]
        for old in stale:
            _stop_quietly(old)
        return proxy

    def _discard(self, thread: threading.Thread) -> None:
        with self._lock:
            started = self._runners.pop(thread, None)
        if started is not None:
            _stop_quietly(started[0])


class _ServiceHandle:
    """Stands in for the proxy's service attribute; the proxy is picked in the calling thread."""

    def __init__(self, clients: RpcClients, name: str, send: Callable[..., Any]) -> None:
        self._clients = clients
        self._name = name
        self._send = send

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._send(self._name, method, *args, **kwargs)

        return call


def _stop_quietly(runner: PartRpcProxy) -> None:
    try:
        runner.stop()
    except Exception:  # a dead connection cannot be closed politely; it is gone either way
        log.debug("RPC proxy did not stop cleanly", exc_info=True)
