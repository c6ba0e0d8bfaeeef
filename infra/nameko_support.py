"""Dependency providers shared by the nameko services: built once in setup(), handed to workers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from eventsourcing.application import Application
from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy
from nameko.standalone.rpc import ClusterRpcProxy, StandaloneProxyBase

from contracts.errors import NotAuthenticated
from contracts.identity import Caller, CallVerifier, sign_arguments, system_caller, vouch
from contracts.keys import Keyring, Signer
from infra import topology
from infra.keys import load_keyring, load_signer
from infra.readmodel import ReadModel
from infra.rpc_publisher import PooledClusterProxy, PooledServiceProxy, RpcPublisher
from infra.settings import Settings, load_settings
from infra.storage import ddl_lock, event_store_env, read_model_engine

log = logging.getLogger(__name__)


class Built(DependencyProvider):
    """A provider whose dependency is built from the settings once, in ``setup()``, and shared by every
    worker. ``build`` is the one place it is made: a test builds the same object on its own settings."""

    def build(self, settings: Settings) -> Any:
        raise NotImplementedError

    def setup(self) -> None:
        self.built = self.build(load_settings())

    def stop(self) -> None:
        close = getattr(self.built, "close", None)
        if callable(close):
            close()

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self.built


class SettingsProvider(Built):
    def build(self, settings: Settings) -> Settings:
        return settings


class EventSourcedApplication(Built):
    """One eventsourcing Application per service process (it is thread- and greenlet-safe)."""

    def __init__(self, factory: Callable[[dict[str, str], Settings], Application], service: str) -> None:
        self.factory = factory
        self.service = service

    def build(self, settings: Settings, env: dict[str, str] | None = None) -> Application:
        if env is None:
            env = event_store_env(settings, self.service)
        with ddl_lock(settings):
            return self.factory(env, settings)


_service_engines: dict[tuple[str, str], sa.Engine] = {}
_service_engines_lock = threading.Lock()


def service_engine(settings: Settings, service: str) -> sa.Engine:
    """The engine of ``service``'s read models in this process. On PostgreSQL one for all of them: its pool keeps a
    connection per worker open (infra/storage.py), and with an engine per read model submissions (three of them)
    held three times as many. On SQLite one per read model, as before: a connection there is no server process,
    and sharing showed no gain in the request-path bench."""
    if not settings.uses_postgres:
        return read_model_engine(settings, service)
    with _service_engines_lock:
        key = (settings.database_url, service)
        if key not in _service_engines:
            _service_engines[key] = read_model_engine(settings, service)
        return _service_engines[key]


class ReadModelProvider(Built):
    """A read model of the topology (infra/topology.py), on its service's database."""

    def __init__(self, name: str) -> None:
        self.part = topology.read_model(name)

    def build(self, settings: Settings) -> ReadModel:
        return ReadModel(self.part.new_projection(), service_engine(settings, self.part.service))


@dataclass(frozen=True)
class ServiceKeys:
    """A service's own signing key, everyone's public keys, and the checker of the calls it receives."""

    service: str
    signer: Signer
    keyring: Keyring
    verifier: CallVerifier

    @classmethod
    def load(cls, settings: Settings, service: str) -> ServiceKeys:
        keyring = load_keyring(settings)
        return cls(service, load_signer(settings, service), keyring, CallVerifier(keyring, service))


@dataclass(frozen=True)
class Call:
    """The call a worker serves: what a signed caller must have been signed for."""

    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


class Identity(Built):
    """Verifies the signed caller of the call each worker serves; gives the service's own system caller."""

    def __init__(self, service: str) -> None:
        self.service = service

    def build(self, settings: Settings) -> ServiceKeys:
        return ServiceKeys.load(settings, self.service)

    def get_dependency(self, worker_ctx: Any) -> IdentityTools:
        call = Call(worker_ctx.entrypoint.method_name, tuple(worker_ctx.args), dict(worker_ctx.kwargs))
        return IdentityTools(self.built, call)


class IdentityTools:
    def __init__(self, keys: ServiceKeys, call: Call | None) -> None:
        self.keys = keys
        self.call = call

    @property
    def keyring(self) -> Keyring:
        """The public keys that authenticate integration events (and calls)."""
        return self.keys.keyring

    def verify(self, payload: object) -> Caller:
        """The caller of this call, if ``payload`` was signed for exactly this call, by a holder that may
        vouch for it, recently, and never used before."""
        if self.call is None:
            raise NotAuthenticated("no call to verify a caller for")
        args, kwargs = self.call.args, self.call.kwargs
        if kwargs.get("caller") is payload:
            kwargs = {name: value for name, value in kwargs.items() if name != "caller"}
        else:
            args = args[1:]
        return self.keys.verifier.verify(payload, self.call.method, args, kwargs)

    def vouch(self, result: Any) -> dict[str, object]:
        """``result`` with this service's proof that it answers this very call (replies with authority)."""
        if self.call is None:
            raise RuntimeError("no call to vouch for")
        return vouch(result, self.keys.signer, self.call.method, self.call.args, self.call.kwargs)

    def system(self) -> Caller:
        """This service as a caller, for its own calls (SignedRpcProxy signs it for each call)."""
        return system_caller(self.keys.service)


NESTED_SHARE_OF_TIMEOUT = 0.5  # of SATU_RPC_TIMEOUT_SECONDS: a service's question to another waits this long


class SignedRpcProxy(RpcProxy):
    """nameko's RpcProxy whose calls carry their Caller signed by this service for that call alone."""

    def setup(self) -> None:
        super().setup()
        settings = load_settings()
        self.signer = load_signer(settings, self.container.service_name)
        # A nested call is a question: it waits for its answer at most half the RPC timeout (a command asking it
        # then answers before its own caller gives up), and neither it nor its answer waits for the broker's
        # confirm (infra/rpc_publisher.py says why either may go unanswered).
        self.timeout = settings.rpc_timeout_seconds * NESTED_SHARE_OF_TIMEOUT
        self.publisher = RpcPublisher(self.container.config, confirms=False, expires_after=self.timeout)

    def get_dependency(self, worker_ctx: Any) -> Any:
        proxy = PooledServiceProxy(
            worker_ctx, self.target_service, self.rpc_reply_listener, self.publisher, self.timeout
        )
        return SigningProxy(proxy, self.target_service, self.signer)


class SigningProxy:
    """``proxy.method(caller, *args)``: the Caller argument signed for ``service.method`` with these args."""

    def __init__(self, proxy: Any, service: str, signer: Signer) -> None:
        self._proxy = proxy
        self._service = service
        self._signer = signer

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)
        remote = getattr(self._proxy, method)

        def call(*args: Any, **kwargs: Any) -> Any:
            args, kwargs = sign_arguments(self._signer, self._service, method, args, kwargs)
            return remote(*args, **kwargs)

        return call


class PartRpcProxy(ClusterRpcProxy):
    """nameko's standalone cluster proxy whose reply queues carry the calling part's name
    (``rpc.reply-<part>-<uuid>``), so the broker can let each part consume only its own replies.

    Its requests go out through the process's pooled publisher (infra/rpc_publisher.py); with ``confirms``
    (nameko's way) each, and its reply, waits for the broker's confirm, so that a service with no queue yet
    answers ``UnknownService`` at once. A caller that waits for replies at most a ``timeout`` and whose
    commands carry command ids (the gateway) needs neither: a lost request or reply is an unanswered call."""

    def __init__(self, config: dict[str, Any], part: str, timeout: float | None = None, confirms: bool = True) -> None:
        base = StandaloneProxyBase.ServiceContainer
        self.ServiceContainer = type("PartContainer", (base,), {"service_name": part})
        super().__init__(config, timeout=timeout)
        publisher = RpcPublisher(config, confirms, expires_after=timeout)
        self._proxy = PooledClusterProxy(self._worker_ctx, self._reply_listener, publisher)
