"""Case domain events -> integration events (the one place that maps them)."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import Any

from contracts.events import IntegrationEvent, stable_event_id
from services.submissions.domain import Case

EVENT_TYPES: dict[type, tuple[str, str]] = {
    Case.Submitted: ("case.submitted.v1", "submitted"),  # type: ignore[attr-defined]  # event classes are made by @event at runtime
    Case.RevisionRequested: ("case.revision_requested.v1", "revision_requested"),  # type: ignore[attr-defined]  # event classes are made by @event at runtime
    Case.Resubmitted: ("case.resubmitted.v1", "resubmitted"),  # type: ignore[attr-defined]  # event classes are made by @event at runtime
    Case.Forwarded: ("case.forwarded.v1", "forwarded"),  # type: ignore[attr-defined]  # event classes are made by @event at runtime
    Case.Approved: ("case.approved.v1", "approved"),  # type: ignore[attr-defined]  # event classes are made by @event at runtime
    Case.Rejected: ("case.rejected.v1", "rejected"),  # type: ignore[attr-defined]  # event classes are made by @event at runtime
}


class CaseFacts:
    """Facts recorded only on a case's first event (reference, organisation), remembered per case so
    later events can carry them. The relay reads the log in order, so the first event comes first."""

    def __init__(self, load_case: Any, capacity: int = 10_000) -> None:
        # Bounded: a long-running relay sees every case ever filed; forgotten ones are reloaded.
        self._facts: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._load_case = load_case
        self._capacity = capacity

    def _keep(self, case_id: str, facts: dict[str, Any]) -> None:
        self._facts[case_id] = facts
        self._facts.move_to_end(case_id)
        while len(self._facts) > self._capacity:
            self._facts.popitem(last=False)

    def remember(self, submitted: Any) -> None:
        self._keep(
            str(submitted.originator_id),
            {
                "reference": submitted.reference,
                "service": submitted.service,
                "organisation_id": submitted.organisation_id,
                "organisation": submitted.organisation,
            },
        )

    def of(self, case_id: str) -> dict[str, Any]:
        if case_id not in self._facts:
            self.remember(self._load_case(case_id))
        return self._facts[case_id]


class CaseEventMapper:
    def __init__(self, facts: CaseFacts) -> None:
        self.facts = facts

    def __call__(self, domain_event: Any) -> IntegrationEvent | None:
        mapping = EVENT_TYPES.get(type(domain_event))
        if mapping is None:
            return None
        event_type, status = mapping
        if isinstance(domain_event, Case.Submitted):  # type: ignore[attr-defined]  # event classes are made by @event at runtime
            self.facts.remember(domain_event)
        case_id = str(domain_event.originator_id)
        facts = self.facts.of(case_id)
        actor = domain_event.actor
        data = {
            "case_id": case_id,
            "reference": facts["reference"],
            "service": facts["service"],
            "organisation_id": facts["organisation_id"],
            "organisation_name": facts["organisation"]["name"],
            "status": status,
            "actor_id": actor["id"],
            "actor_role": actor["role"],
            "reason": getattr(domain_event, "reason", None),
            "note": getattr(domain_event, "note", None),
            "letter": getattr(domain_event, "letter", None),
            # Only the approval carries the organisation: the letter prints it.
            "organisation": facts["organisation"] if event_type == "case.approved.v1" else None,
        }
        return IntegrationEvent(
            event_id=stable_event_id(domain_event.originator_id, domain_event.originator_version),
            event_type=event_type,
            source="submissions",
            aggregate_id=case_id,
            aggregate_version=domain_event.originator_version,
            occurred_at=domain_event.timestamp,
            data=data,
        )


def mapper_for(application: Any) -> CaseEventMapper:
    def load_case(case_id: str) -> Any:
        # The case's first event: the same facts the Submitted event would have given.
        return next(iter(application.repository.event_store.get(uuid.UUID(case_id), lte=1)))

    return CaseEventMapper(CaseFacts(load_case))
