"""Per-thread nameko RPC proxies for the gateway's sync endpoints, signing the caller of each call.

A standalone ``ClusterRpcProxy`` is single-threaded (one connection, one reply queue polled by the
calling thread), so every threadpool worker gets its own, started on first use. A proxy whose
connection broke is dropped so the next call from that thread reconnects instead of failing forever.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu.exceptions import OperationalError

from contracts.identity import sign_arguments
from contracts.keys import Signer
from infra.keys import load_signer
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

    def __init__(self, config: dict[str, Any], signer: Signer, timeout: float | None = None) -> None:
        self._config = config
        self._signer = signer  # the gateway's key: it vouches for the signed-in person on each call
        self._timeout = timeout
        self._lock = threading.Lock()
        self._runners: dict[threading.Thread, tuple[PartRpcProxy, Any]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> RpcClients:
        return cls(settings.amqp_config(), load_signer(settings, "gateway"), settings.rpc_timeout_seconds)

    def service(self, name: str) -> Any:
        return _ServiceHandle(self, name)

    def call(self, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """``service.method(*args)``; a Caller among the arguments goes signed for this call alone."""
        args, kwargs = sign_arguments(self._signer, service, method, args, kwargs)
        proxy = self._proxy()
        try:
            return getattr(proxy[service], method)(*args, **kwargs)
        except _BROKEN as error:
            self._discard(threading.current_thread())
            raise ServiceUnavailable(f"lost the broker connection calling {service}") from error

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
        runner = PartRpcProxy(self._config, "gateway", timeout=self._timeout)
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

    def __init__(self, clients: RpcClients, name: str) -> None:
        self._clients = clients
        self._name = name

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._clients.call(self._name, method, *args, **kwargs)

        return call


def _stop_quietly(runner: PartRpcProxy) -> None:
    try:
        runner.stop()
    except Exception:  # a dead connection cannot be closed politely; it is gone either way
        log.debug("RPC proxy did not stop cleanly", exc_info=True)
