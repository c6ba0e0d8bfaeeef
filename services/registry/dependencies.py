"""What the registry's workers are given: its event store and the organisations directory."""

from __future__ import annotations

from infra.nameko_support import EventSourcedApplication, ReadModelProvider
from services.registry.application import build_application


class RegistryStore(EventSourcedApplication):
    def __init__(self) -> None:
        super().__init__(build_application, "registry")


class Directory(ReadModelProvider):
    """The staff directory of organisations with their reporting status (keyset-paged lists)."""

    def __init__(self) -> None:
        super().__init__("registry.organisations")
