"""The system's parts, listed once: services, event stores (each with its relay), read models.

The launcher, the relays' readiness waits, rebuild/check/upgrade, the services' read-model providers and
the docker-compose test all read these lists; a part added here is started, waited for, rebuilt and
checked everywhere. Only names and import paths live here, so any process may read it without importing
the services it does not run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Service:
    """A nameko service: ``python -m ops.service <name>`` runs ``services.<name>.service``."""

    name: str
    consumes: tuple[str, ...]  # the event stores whose events its handlers receive (their relays wait for it)
    calls: tuple[str, ...] = ()  # the services it calls over RPC

    @property
    def module(self) -> str:
        return f"services.{self.name}.service"


@dataclass(frozen=True)
class EventStore:
    """An event-sourced store, written by the service of the same name and published by one relay."""

    name: str

    @property
    def relay(self) -> str:
        return f"relay-{self.name}"


@dataclass(frozen=True)
class ReadModelPart:
    """A read model: which service's database holds it, which store feeds it, which projection builds it."""

    name: str
    service: str
    source: str
    projection: str  # "module:Class"
    rebuildable: bool = True  # False where applying an event has an effect outside the rows (mail)

    def new_projection(self) -> Any:
        """A fresh projection object (an ``infra.readmodel.Projection``)."""
        module, _, attribute = self.projection.partition(":")
        factory: Callable[[], Any] = getattr(importlib.import_module(module), attribute)
        return factory()


SERVICES = (
    Service("registry", consumes=("registry", "submissions")),
    # Submissions hears the registry's recordings: its own copy of what a filing needs (no RPC per filing).
    Service("submissions", consumes=("submissions", "registry"), calls=("registry",)),
    Service("documents", consumes=("submissions",)),
    # Notifications hears the registry too: the mails that confirm an address, or warn its owner.
    Service("notifications", consumes=("submissions", "registry"), calls=("registry",)),
)

# The parts that call services without being one: whose RPC calls go where (broker permissions follow).
GATEWAY_CALLS = ("registry", "submissions", "documents")
CLI_CALLS = ("submissions",)  # `satu remind`

EVENT_STORES = (EventStore("registry"), EventStore("submissions"))

READ_MODELS = (
    ReadModelPart("submissions.cases", "submissions", "submissions", "services.submissions.projections:CaseProjection"),
    ReadModelPart(
        "submissions.organisations",
        "submissions",
        "registry",
        "services.submissions.organisations:OrganisationProjection",
    ),
    ReadModelPart("documents.letters", "documents", "submissions", "services.documents.projections:LetterProjection"),
    ReadModelPart(
        "registry.organisations", "registry", "registry", "services.registry.projections:DirectoryProjection"
    ),
    # The mail outbox records each mail once per event through the same runner; a rebuild would re-send.
    ReadModelPart(
        "notifications.outbox",
        "notifications",
        "submissions",
        "services.notifications.outbox:OutboxProjection",
        rebuildable=False,
    ),
)

SERVICE_NAMES = tuple(service.name for service in SERVICES)
EVENT_STORE_NAMES = tuple(store.name for store in EVENT_STORES)
REBUILDABLE = tuple(part for part in READ_MODELS if part.rebuildable)


def consumers_of(store: str) -> tuple[str, ...]:
    """The services that must be consuming before ``store``'s relay publishes (RabbitMQ drops a message no
    queue is bound to yet, so publishing earlier would lose events for them)."""
    if store not in EVENT_STORE_NAMES:
        raise ValueError(f"unknown event store '{store}' (known: {', '.join(EVENT_STORE_NAMES)})")
    return tuple(service.name for service in SERVICES if store in service.consumes)


def read_model(name: str) -> ReadModelPart:
    for part in READ_MODELS:
        if part.name == name:
            return part
    raise ValueError(f"unknown read model '{name}' (known: {', '.join(part.name for part in READ_MODELS)})")
