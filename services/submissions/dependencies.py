"""What the submissions workers are given: the cases' event store and the case list read model."""

from __future__ import annotations

from infra.nameko_support import EventSourcedApplication, ReadModelProvider
from services.submissions.application import build_application


class CaseStore(EventSourcedApplication):
    def __init__(self) -> None:
        super().__init__(build_application, "submissions")


class CaseList(ReadModelProvider):
    """The case list, queues and timelines."""

    def __init__(self) -> None:
        super().__init__("submissions.cases")
