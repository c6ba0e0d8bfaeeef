"""Dependency providers shared by the nameko services: built once in setup(), handed to workers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from eventsourcing.application import Application
from nameko.extensions import DependencyProvider

from contracts.identity import Caller, sign_caller, system_caller, verify_caller
from infra import topology
from infra.green import check_psycopg_is_green
from infra.readmodel import ReadModel
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
            if settings.uses_postgres:
                check_psycopg_is_green()
            env = event_store_env(settings, self.service)
        with ddl_lock(settings):
            return self.factory(env, settings)


class ReadModelProvider(Built):
    """A read model of the topology (infra/topology.py), on its service's database."""

    def __init__(self, name: str) -> None:
        self.part = topology.read_model(name)

    def build(self, settings: Settings) -> ReadModel:
        engine = read_model_engine(settings, self.part.service)
        return ReadModel(self.part.new_projection(), engine)


class Identity(Built):
    """Verifies the signed caller every RPC receives, and signs this service's own calls."""

    def __init__(self, service: str) -> None:
        self.service = service

    def build(self, settings: Settings) -> IdentityTools:
        return IdentityTools(settings.secret_key, self.service)


class IdentityTools:
    """Caller signatures for RPC, and the key that authenticates integration events."""

    def __init__(self, secret: str, service: str) -> None:
        self.secret = secret
        self.service = service

    def verify(self, payload: object) -> Caller:
        return verify_caller(payload, self.secret)

    def sign(self, caller: Caller) -> dict[str, object]:
        return sign_caller(caller, self.secret)

    def system(self) -> dict[str, object]:
        return sign_caller(system_caller(self.service), self.secret)
