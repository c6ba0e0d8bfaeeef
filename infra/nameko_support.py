"""Dependency providers shared by the nameko services: built once in setup(), handed to workers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from eventsourcing.application import Application
from nameko.extensions import DependencyProvider

from contracts.identity import Caller, sign_caller, system_caller, verify_caller
from infra.green import check_psycopg_is_green
from infra.readmodel import Projection, ReadModel
from infra.settings import Settings, load_settings
from infra.storage import ddl_lock, event_store_env, read_model_engine

log = logging.getLogger(__name__)


class SettingsProvider(DependencyProvider):
    def setup(self) -> None:
        self.settings = load_settings()

    def get_dependency(self, worker_ctx: Any) -> Settings:
        return self.settings


class EventSourcedApplication(DependencyProvider):
    """One eventsourcing Application per service process (it is thread- and greenlet-safe)."""

    def __init__(self, factory: Callable[[dict[str, str], Settings], Application], service: str) -> None:
        self.factory = factory
        self.service = service

    def setup(self) -> None:
        settings = load_settings()
        if settings.uses_postgres:
            check_psycopg_is_green()
        env = event_store_env(settings, self.service)
        with ddl_lock(settings):
            self.application = self.factory(env, settings)

    def stop(self) -> None:
        self.application.close()

    def get_dependency(self, worker_ctx: Any) -> Application:
        return self.application


class ReadModelProvider(DependencyProvider):
    def __init__(self, projection_factory: Callable[[], Projection], service: str) -> None:
        self.projection_factory = projection_factory
        self.service = service

    def setup(self) -> None:
        self.engine: sa.Engine = read_model_engine(load_settings(), self.service)
        self.read_model = ReadModel(self.projection_factory(), self.engine)

    def stop(self) -> None:
        self.engine.dispose()

    def get_dependency(self, worker_ctx: Any) -> ReadModel:
        return self.read_model


class Identity(DependencyProvider):
    """Verifies the signed caller every RPC receives, and signs this service's own calls."""

    def __init__(self, service: str) -> None:
        self.service = service

    def setup(self) -> None:
        self.secret = load_settings().secret_key

    def get_dependency(self, worker_ctx: Any) -> IdentityTools:
        return IdentityTools(self.secret, self.service)


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
