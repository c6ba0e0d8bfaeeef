"""Composition root for operations: which event stores exist and how their events map outward.

Only ops code (relay, rebuild, CLI, benchmarks) may see several services at once; services never
import each other.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from eventsourcing.application import Application

from contracts.events import IntegrationEvent
from infra.settings import Settings
from infra.storage import ONE_THREAD, ddl_lock, event_store_env
from infra.topology import EVENT_STORE_NAMES
from services.registry import publishing as registry_publishing
from services.registry.application import RegistryApplication
from services.submissions.application import build_application
from services.submissions.publishing import mapper_for

ToIntegration = Callable[..., IntegrationEvent | None]  # (domain event, wanted types) -> its integration event


@dataclass
class EventSource:
    name: str
    application: Application
    to_integration: ToIntegration

    def last_position(self) -> int:
        return self.application.recorder.max_notification_id() or 0

    def integration_events(
        self, start: int = 0, stop: int | None = None, page: int = 1000, wanted: Callable[[str], bool] | None = None
    ) -> Iterator[tuple[int, IntegrationEvent]]:
        """(position, event) for every stored event after ``start`` up to ``stop``, in log order; only of the
        ``wanted`` types if given (the others are not made at all)."""
        position = start
        while True:
            notifications = self.application.recorder.select_notifications(
                start=position, limit=page, stop=stop, inclusive_of_start=False
            )
            if not notifications:
                return
            for notification in notifications:
                event = self.to_integration(self.application.mapper.to_domain_event(notification), wanted)
                if event is not None:
                    yield notification.id, event
            position = notifications[-1].id

    def as_published(self, start: int = 0) -> Iterator[IntegrationEvent]:
        """Every event after ``start`` as its relay publishes it: with its position, which a read model rebuilt
        through a position compares (the events of ``integration_events`` carry none: a replay needs none)."""
        for position, event in self.integration_events(start=start):
            yield event.at(position)

    def close(self) -> None:
        self.application.close()


def open_source(name: str, settings: Settings, replay: bool = False) -> EventSource:
    """The event store ``name`` with its mapping to integration events: checked as the relay publishes them,
    or, with ``replay`` (a rebuild reading its own store), built without the checks (IntegrationEvent.replayed)."""
    env = event_store_env(settings, name, ONE_THREAD)  # a relay, a rebuild, a command: one call at a time
    make = IntegrationEvent.replayed if replay else IntegrationEvent
    with ddl_lock(settings):
        return _open(name, env, settings, make)


def _open(name: str, env: dict[str, str], settings: Settings, make: Callable[..., IntegrationEvent]) -> EventSource:
    if name == "registry":
        to_integration = functools.partial(registry_publishing.to_integration, make=make)
        return EventSource(name, RegistryApplication(env=env), to_integration)
    if name == "submissions":
        application = build_application(env, settings)
        return EventSource(name, application, mapper_for(application, make))
    raise ValueError(f"unknown event source '{name}' (known: {', '.join(EVENT_STORE_NAMES)})")
