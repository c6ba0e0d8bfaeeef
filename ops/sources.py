"""Composition root for operations: which event stores exist and how their events map outward.

Only ops code (relay, rebuild, CLI, benchmarks) may see several services at once; services never
import each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from eventsourcing.application import Application

from contracts.events import IntegrationEvent
from infra.settings import Settings
from infra.storage import ddl_lock, event_store_env
from infra.topology import EVENT_STORE_NAMES
from services.registry import publishing as registry_publishing
from services.registry.application import RegistryApplication
from services.submissions.application import build_application
from services.submissions.publishing import mapper_for

ToIntegration = Callable[[object], IntegrationEvent | None]


@dataclass
class EventSource:
    name: str
    application: Application
    to_integration: ToIntegration

    def last_position(self) -> int:
        return self.application.recorder.max_notification_id() or 0

    def integration_events(
        self, start: int = 0, stop: int | None = None, page: int = 500
    ) -> Iterator[tuple[int, IntegrationEvent]]:
        """(position, event) for every stored event after ``start`` up to ``stop``, in log order."""
        position = start
        while True:
            notifications = self.application.recorder.select_notifications(
                start=position, limit=page, stop=stop, inclusive_of_start=False
            )
            if not notifications:
                return
            for notification in notifications:
                event = self.to_integration(self.application.mapper.to_domain_event(notification))
                if event is not None:
                    yield notification.id, event
            position = notifications[-1].id

    def close(self) -> None:
        self.application.close()


def open_source(name: str, settings: Settings) -> EventSource:
    env = event_store_env(settings, name)
    with ddl_lock(settings):
        return _open(name, env, settings)


def _open(name: str, env: dict[str, str], settings: Settings) -> EventSource:
    if name == "registry":
        return EventSource(name, RegistryApplication(env=env), registry_publishing.to_integration)
    if name == "submissions":
        application = build_application(env, settings)
        return EventSource(name, application, mapper_for(application))
    raise ValueError(f"unknown event source '{name}' (known: {', '.join(EVENT_STORE_NAMES)})")
