"""What the submissions workers are given: the cases' event store, the case list, the copies of the
organisations they file for and the dashboard's counts."""

from __future__ import annotations

from infra.nameko_support import Built, EventSourcedApplication, ReadModelProvider, service_engine
from infra.settings import Settings
from services.submissions.application import build_application
from services.submissions.case_counts import CaseCounts


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


class CaseCountsStore(Built):
    """The dashboard's counts, beside the case list they are counted from."""

    def build(self, settings: Settings) -> CaseCounts:
        return CaseCounts(service_engine(settings, "submissions"))
