"""The services in this process, as nameko runs them, with nothing running (test support; no tests here).

Every call builds a worker of the real service class with nameko's ``worker_factory`` (a fresh instance per
call, as a container does); its dependencies are the real objects the service's providers would give,
made once from the provider declarations on the class: the real application on the in-memory event store,
real read models on SQLite files under the test's directory, the identity tools with the test secret,
and, for an ``RpcProxy``, a proxy into this same cluster.

What crosses a service boundary travels the way nameko sends it: arguments and results through kombu's
JSON serializer, the method looked up among the class's ``@rpc`` entrypoints and the call checked
against its signature, an exception through ``nameko.exceptions.serialize``/``deserialize`` (a
``contracts.errors`` error arrives as itself with its field and Bahasa text, anything else as a
``RemoteError``). After each outermost call the real outbox relay (infra/relay.py) publishes what the
call stored, and every event goes to each ``@event_handler`` whose own binding matches it, routed by
kombu's topic exchange. Read models are therefore up to date when a call returns, unless a test holds
the events back to see what a lagging consumer looks like.
"""

from __future__ import annotations

import inspect
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

import kombu.exceptions
import kombu.serialization
from eventsourcing.application import Application
from kombu.transport.virtual.exchange import TopicExchange
from nameko.events import EventHandler
from nameko.exceptions import (
    IncorrectSignature,
    MethodNotFound,
    UnknownService,
    UnserializableValueError,
    deserialize,
    serialize,
)
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from nameko.testing.services import worker_factory

from contracts.errors import DatabaseUnavailable
from contracts.events import IntegrationEvent
from contracts.identity import Caller, sign_arguments, vouched
from contracts.keys import Keyring, Signer
from infra.keys import load_keyring, load_signer
from infra.locks import SingleInstanceLock
from infra.nameko_support import Call as ServedCall
from infra.nameko_support import Identity, IdentityTools
from infra.relay import Relay
from infra.settings import Settings
from services.documents.service import DocumentsService
from services.registry import publishing as registry_publishing
from services.registry.service import RegistryService
from services.submissions.publishing import mapper_for
from services.submissions.service import SubmissionsService
from tests.support.dependencies import Dependencies

GATEWAY_SERVICES = (RegistryService, SubmissionsService, DocumentsService)

# How each event store's domain events become integration events (as ops/sources.py wires the relays).
TO_INTEGRATION: dict[str, Callable[[Application], Callable[[Any], Any]]] = {
    "registry": lambda _application: registry_publishing.to_integration,
    "submissions": mapper_for,
}


def over_the_wire(value: Any) -> Any:
    """``value`` as the other side receives it: through kombu's JSON serializer, as nameko sends it."""
    content_type, encoding, body = kombu.serialization.dumps(value, serializer="json")
    return kombu.serialization.loads(body, content_type, encoding)


class Call(NamedTuple):
    """One RPC request that reached a service, as the service received it."""

    service: str
    method: str
    args: list[Any]
    kwargs: dict[str, Any]


@dataclass
class Fault:
    error: BaseException
    in_transport: bool  # raised where the caller is (a timeout, a broken connection), not by the service


class Hosted:
    """One service class with its dependencies, made once (as the providers' setup() would)."""

    def __init__(self, service_cls: type, cluster: Cluster) -> None:
        self.service_cls = service_cls
        self.name: str = service_cls.name  # type: ignore[attr-defined]
        providers = inspect.getmembers(service_cls, lambda member: isinstance(member, DependencyProvider))
        self.dependencies = {
            name: cluster.dependencies.for_provider(provider, self.name) for name, provider in providers
        }
        self._identities = [name for name, provider in providers if isinstance(provider, Identity)]

    def worker(self, call: ServedCall | None = None) -> Any:
        """A worker serving ``call``: its identity checks callers against that call, as in a container."""
        identities = {name: IdentityTools(self.dependencies[name], call) for name in self._identities}
        # Every dependency is given, so worker_factory leaves no MagicMock standing in for one.
        return worker_factory(self.service_cls, **{**self.dependencies, **identities})

    def rpc_method(self, method: str) -> Callable[..., Any]:
        function = getattr(self.service_cls, method, None)
        entrypoints = getattr(function, "nameko_entrypoints", ())
        if function is None or not any(isinstance(entrypoint, Rpc) for entrypoint in entrypoints):
            raise MethodNotFound(method)
        return function

    def event_handlers(self) -> Iterator[tuple[str, EventHandler]]:
        for name, function in inspect.getmembers(self.service_cls, inspect.isfunction):
            for entrypoint in getattr(function, "nameko_entrypoints", ()):
                if isinstance(entrypoint, EventHandler):
                    yield name, entrypoint


class ServiceProxy:
    """``proxy.method(*args)``: what nameko's RpcProxy and the standalone cluster proxy hand out, with a
    Caller argument signed for the call by ``holder`` (the gateway, or the calling service)."""

    def __init__(self, cluster: Cluster, service: str, holder: str = "gateway", unwrap: bool = True) -> None:
        self._cluster = cluster
        self._service = service
        self._holder = holder
        self._unwrap = unwrap  # take a vouched answer as the gateway does (False: hand it on as it came)

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("__"):  # Python's own protocols, never an RPC
            raise AttributeError(method)

        def call(*args: Any, **kwargs: Any) -> Any:
            signer = self._cluster.signer(self._holder)
            args, kwargs = sign_arguments(signer, self._service, method, args, kwargs)
            reply = self._cluster.call(self._service, method, *args, **kwargs)
            if self._unwrap and isinstance(reply, dict) and set(reply) == {"result", "proof"}:
                return vouched(reply, self._cluster.keyring(), self._service, method, args, kwargs)
            return reply

        return call


class _Publisher:
    """Where the real relay publishes: straight to the cluster's handlers instead of RabbitMQ."""

    def __init__(self, cluster: Cluster, source: str) -> None:
        self.cluster = cluster
        self.source = source

    def publish(self, event: IntegrationEvent) -> None:
        self.cluster.deliver(self.source, event.event_type, event.model_dump(mode="json"))

    def confirm(self) -> None:
        pass  # delivered synchronously


class Cluster:
    """The given service classes on one Settings; ``cluster["submissions"].get_case(caller, case_id)``."""

    def __init__(self, settings: Settings, services: tuple[type, ...] = GATEWAY_SERVICES) -> None:
        self.settings = settings
        self.calls: list[Call] = []
        self.published: list[dict[str, Any]] = []  # every event the relays published, as delivered
        self._faults: dict[tuple[str, str], Fault] = {}
        self.dependencies = Dependencies(settings, self.proxy)
        self._local = threading.local()
        self._relay_lock = threading.RLock()
        self._held = False
        self.services = {hosted.name: hosted for hosted in (Hosted(cls, self) for cls in services)}
        self._relays = [self._relay_for(source, app) for source, app in self.dependencies.applications.items()]
        self._caught_up: dict[str, int] = {}  # per store: its newest notification when its relay had no more
        # One topic exchange per publishing service, as nameko declares them ("<source>.events").
        self._bindings: dict[str, list[tuple[str, str, tuple[str, str]]]] = defaultdict(list)
        for hosted in self.services.values():
            for method, handler in hosted.event_handlers():
                queue = (hosted.name, method)
                binding = TopicExchange(None).prepare_bind(queue, None, handler.event_type, None)
                self._bindings[handler.source_service].append(binding)

    def _relay_for(self, source: str, application: Application) -> Relay:
        lock = SingleInstanceLock(f"relay-{source}", None, self.settings.var_dir)  # pump_once never takes it
        to_integration = TO_INTEGRATION[source](application)
        engine = self.dependencies.engine(source)
        return Relay(source, application, to_integration, engine, "memory://", lock, self.signer(f"relay-{source}"))

    # --- RPC --------------------------------------------------------------------------------------

    def __getitem__(self, service: str) -> ServiceProxy:
        """``service`` called as the gateway calls it (a Caller argument is signed by the gateway's key)."""
        return ServiceProxy(self, service)

    def proxy(self, service: str, holder: str, unwrap: bool = True) -> ServiceProxy:
        return ServiceProxy(self, service, holder, unwrap)

    def signer(self, holder: str) -> Signer:
        return load_signer(self.settings, holder)

    def keyring(self) -> Keyring:
        return load_keyring(self.settings)

    def call(self, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """An RPC as nameko makes it; the outermost call then relays the events it stored."""
        hosted = self.services.get(service)
        if hosted is None:
            raise UnknownService(service)
        fault = self._faults.get((service, method))
        if fault is not None and fault.in_transport:
            raise fault.error
        request = over_the_wire({"args": args, "kwargs": kwargs})
        with self._nesting() as outermost:
            reply = over_the_wire(self._respond(hosted, method, request["args"], request["kwargs"], fault))
        if outermost and not self._held:
            self.relay()
        if reply["error"] is not None:
            raise deserialize(reply["error"])
        return reply["result"]

    def _respond(
        self, hosted: Hosted, method: str, args: list[Any], kwargs: dict[str, Any], fault: Fault | None
    ) -> dict[str, Any]:
        """What nameko's RPC entrypoint and responder send back for one request."""
        try:
            function = hosted.rpc_method(method)
            try:
                inspect.getcallargs(function, None, *args, **kwargs)
            except TypeError as error:
                raise IncorrectSignature(str(error)) from None
            self.calls.append(Call(hosted.name, method, args, kwargs))
            if fault is not None:
                raise fault.error
            result = getattr(hosted.worker(ServedCall(method, tuple(args), kwargs)), method)(*args, **kwargs)
        except Exception as error:
            return {"result": None, "error": serialize(error)}
        try:
            kombu.serialization.dumps(result, serializer="json")
        except Exception:
            return {"result": None, "error": serialize(UnserializableValueError(result))}
        return {"result": result, "error": None}

    @contextmanager
    def _nesting(self) -> Iterator[bool]:
        """Yields whether this is the thread's outermost call: a call one service makes to another, or an
        event handler makes while the relay delivers, must not start a relay of its own."""
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        try:
            yield depth == 0
        finally:
            self._local.depth = depth

    # --- events -----------------------------------------------------------------------------------

    def relay(self) -> int:
        """Publish everything stored since the last relay, until handlers store nothing more; returns how
        many stored events were relayed."""
        relayed = 0
        with self._relay_lock, self._nesting():
            while moved := sum(self._pump(relay) for relay in self._relays):
                relayed += moved
        return relayed

    def _pump(self, relay: Relay) -> int:
        # A store that has recorded nothing since its relay last caught up is skipped: most calls store
        # nothing, and reading the relay's position for them would only slow every test down.
        newest = relay.application.recorder.max_notification_id() or 0
        if self._caught_up.get(relay.source) == newest:
            return 0
        moved = relay.pump_once(_Publisher(self, relay.source))
        if moved == 0:
            self._caught_up[relay.source] = newest
        return moved

    def deliver(self, source: str, event_type: str, body: dict[str, Any]) -> None:
        """One published event to every handler bound to it; a handler's error propagates (in production
        the message would be requeued, again and again)."""
        payload = over_the_wire(body)
        self.published.append(payload)
        queues = TopicExchange(None).lookup(self._bindings[source], None, event_type, None)
        for service, method in sorted(queues):
            getattr(self.services[service].worker(ServedCall(method, (payload,), {})), method)(payload)

    @contextmanager
    def events_held(self) -> Iterator[None]:
        """Consumers lag: nothing is relayed inside the block; everything is on leaving it."""
        self._held = True
        try:
            yield
        finally:
            self._held = False
            self.relay()

    # --- faults, identities, set-up -----------------------------------------------------------------

    def fail_in_transport(self, service: str, method: str, error: BaseException) -> None:
        """Calls of ``service.method`` raise ``error`` where the caller is, as nameko's proxy raises a
        timeout or a broken connection; the service never sees them."""
        self._faults[(service, method)] = Fault(error, in_transport=True)

    def fail_in_service(self, service: str, method: str, error: BaseException) -> None:
        """The service raises ``error`` for calls of ``method``; it travels back as nameko sends errors."""
        self._faults[(service, method)] = Fault(error, in_transport=False)

    def fail_as_away(self, service: str, method: str, away: str) -> None:
        """Calls of ``service.method`` fail as when ``away`` ("the broker" or "the database") is away: the
        broker's connection lost where the caller is, or the service answering DatabaseUnavailable."""
        if away == "the broker":
            self.fail_in_transport(service, method, kombu.exceptions.OperationalError("connection to the broker lost"))
        else:
            self.fail_in_service(service, method, DatabaseUnavailable("the database did not answer"))

    def sign(self, caller: Caller) -> Caller:
        """The caller as a test hands it to a proxy, which signs it for the one call it goes with."""
        return caller

    def application(self, source: str) -> Application:
        return self.dependencies.applications[source]

    def worker(self, service: str) -> Any:
        """A worker of ``service`` called directly, without the trip over the wire (event handlers)."""
        return self.services[service].worker()

    def close(self) -> None:
        self.dependencies.close()


@contextmanager
def cluster_on(settings: Settings, services: tuple[type, ...] = GATEWAY_SERVICES) -> Iterator[Cluster]:
    cluster = Cluster(settings, services)
    try:
        yield cluster
    finally:
        cluster.close()
