"""What the submissions workers are given: the cases' event store, the case list and the copies of the
organisations they file for."""

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


class OrganisationCopies(ReadModelProvider):
    """What filings need about each organisation, copied from the registry's events."""

    def __init__(self) -> None:
        super().__init__("submissions.organisations")
