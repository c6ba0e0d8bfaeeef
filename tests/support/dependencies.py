"""What each dependency provider of the services gives a worker, made as its setup() makes it but on a
test's settings and the in-memory event store (test support for tests/support/in_process.py).

The providers read load_settings() in setup(), so they cannot be pointed at a test's directory: each is
asked to ``build`` its dependency from the test's settings instead, the one place a provider makes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from eventsourcing.application import Application
from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy

from infra.nameko_support import Built, EventSourcedApplication
from infra.settings import Settings
from infra.storage import read_model_engine

IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


class Dependencies:
    """Builds dependencies once per service (as a container's providers do) and closes them at the end."""

    def __init__(self, settings: Settings, proxy: Callable[[str], Any]) -> None:
        self.settings = settings
        self.proxy = proxy  # an RpcProxy's stand-in, (target, calling service) -> calls into the same cluster
        self.applications: dict[str, Application] = {}  # by event store (the provider's service name)
        self._built: list[Any] = []  # read models, offices, postboxes: closed at the end
        self._engines: list[sa.Engine] = []

    def for_provider(self, provider: DependencyProvider, service: str) -> Any:
        """What ``provider`` of ``service`` gives its workers (an RPC proxy signs as that service)."""
        if isinstance(provider, RpcProxy):
            return self.proxy(provider.target_service, service)
        if isinstance(provider, EventSourcedApplication):
            application = provider.build(self.settings, env=IN_MEMORY)
            self.applications[provider.service] = application
            return application
        if isinstance(provider, Built):
            built = provider.build(self.settings)
            self._built.append(built)
            return built
        raise TypeError(f"no in-process stand-in for the provider {type(provider).__name__}: add one here")

    def engine(self, service: str) -> sa.Engine:
        """A database of the service beside its read models (the relay keeps its position there)."""
        engine = read_model_engine(self.settings, service)
        self._engines.append(engine)
        return engine

    def close(self) -> None:
        for application in self.applications.values():
            application.close()
        for built in self._built:
            close = getattr(built, "close", None)
            if callable(close):
                close()
        for engine in self._engines:
            engine.dispose()
