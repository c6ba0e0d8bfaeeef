"""What each dependency provider of the services gives a worker, made as its setup() makes it but on a
test's settings and the in-memory event store (test support for tests/support/in_process.py).

The providers read load_settings() in setup(), so they cannot be pointed at a test's directory; these
are the same objects built from the same parts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from eventsourcing.application import Application
from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy

from infra.catalogue import load_catalogue
from infra.nameko_support import EventSourcedApplication, Identity, IdentityTools, ReadModelProvider, SettingsProvider
from infra.readmodel import ReadModel
from infra.settings import Settings
from infra.storage import read_model_engine
from services.documents.archive import LetterArchive
from services.documents.projections import LetterProjection
from services.documents.service import LetterOffice
from services.notifications.outbox import MailOutbox
from services.notifications.service import Postbox, mailer_from

IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


class Dependencies:
    """Builds dependencies once per service (as a container's providers do) and closes them at the end."""

    def __init__(self, settings: Settings, proxy: Callable[[str], Any]) -> None:
        self.settings = settings
        self.proxy = proxy  # an RpcProxy's stand-in: calls into the same cluster
        self.applications: dict[str, Application] = {}  # by event store (the provider's service name)
        self._engines: list[sa.Engine] = []

    def for_provider(self, provider: DependencyProvider) -> Any:
        settings = self.settings
        if isinstance(provider, SettingsProvider):
            return settings
        if isinstance(provider, Identity):
            return IdentityTools(settings.secret_key, provider.service)
        if isinstance(provider, RpcProxy):
            return self.proxy(provider.target_service)
        if isinstance(provider, EventSourcedApplication):
            application = provider.factory(IN_MEMORY, settings)
            self.applications[provider.service] = application
            return application
        if isinstance(provider, ReadModelProvider):
            return ReadModel(provider.projection_factory(), self.engine(provider.service))
        if isinstance(provider, LetterOffice):
            return self._letter_office()
        if isinstance(provider, Postbox):
            return self._postbox()
        raise TypeError(f"no in-process stand-in for the provider {type(provider).__name__}: add one here")

    def engine(self, service: str) -> sa.Engine:
        """The service's read-model database: a SQLite file under the settings' var_dir."""
        engine = read_model_engine(self.settings, service)
        self._engines.append(engine)
        return engine

    def _letter_office(self) -> LetterOffice:
        office = LetterOffice()
        office.engine = self.engine("documents")
        projection = LetterProjection()
        office.read_model = ReadModel(projection, office.engine)
        catalogue = load_catalogue(self.settings.region_dir)
        letters = self.settings.var_dir / "letters"
        office.archive = LetterArchive(office.engine, projection, letters, self.settings, catalogue)
        return office

    def _postbox(self) -> Postbox:
        postbox = Postbox()
        postbox.engine = self.engine("notifications")
        postbox.outbox = MailOutbox(postbox.engine)
        postbox.mailer = mailer_from(self.settings)  # no SMTP host in a test: .eml files under var_dir/mail
        postbox.catalogue = load_catalogue(self.settings.region_dir)
        return postbox

    def close(self) -> None:
        for application in self.applications.values():
            application.close()
        for engine in self._engines:
            engine.dispose()
