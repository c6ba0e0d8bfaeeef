"""Case domain events -> integration events (the one place that maps them).

Every case event records the integration event it emits (``emits``), so the mapping needs no workflow
definition; the walking skeleton's SKM events map as they always did.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from contracts.events import IntegrationEvent, stable_event_id
from services.submissions.domain import Case, LegacyMove, Obligation

OPENINGS = (Case.Opened, Case.Submitted)
LEGACY_MOVES = (Case.RevisionRequested, Case.Resubmitted, Case.Forwarded, Case.Approved, Case.Rejected)


class CaseFacts:
    """What a case was filed as (Case.facts), for its events from before each event carried it: remembered
    from each case's first event, or looked that event up (the relay reads the log in order, so the first
    event comes first, unless it was long ago). Bounded: a long-running relay sees every case ever filed."""

    def __init__(self, load_case: Any, capacity: int = 10_000) -> None:
        self._facts: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._load_case = load_case
        self._capacity = capacity

    def _keep(self, case_id: str, facts: dict[str, Any]) -> None:
        self._facts[case_id] = facts
        self._facts.move_to_end(case_id)
        while len(self._facts) > self._capacity:
            self._facts.popitem(last=False)

    def remember(self, opening: Any) -> None:
        self._keep(
            str(opening.originator_id),
            {
                "reference": opening.reference,
                "workflow": getattr(opening, "workflow", None) or opening.service,
                "organisation_id": opening.organisation_id,
                "organisation_name": opening.organisation["name"],
                "subject": getattr(opening, "subject", None),
                "organisation": opening.organisation,
            },
        )

    def of(self, case_id: str) -> dict[str, Any]:
        if case_id not in self._facts:
            self.remember(self._load_case(case_id))
        else:
            self._facts.move_to_end(case_id)  # least recently used goes first
        return self._facts[case_id]


MakeEvent = Callable[..., IntegrationEvent]  # IntegrationEvent (checked, for the relay) or IntegrationEvent.replayed
Wanted = Callable[[str], bool]  # which integration event types to make (a rebuild wants its projection's)


class CaseEventMapper:
    def __init__(self, facts: CaseFacts, make: MakeEvent = IntegrationEvent) -> None:
        self.facts = facts
        self.make = make

    def __call__(self, domain_event: Any, wanted: Wanted | None = None) -> IntegrationEvent | None:
        """The integration event of ``domain_event``; None for one that stays inside the service, or whose
        type is not ``wanted`` (its facts are remembered all the same)."""
        if isinstance(domain_event, OPENINGS):
            self.facts.remember(domain_event)
            move: Any = None
            event_type = getattr(domain_event, "emits", "case.submitted.v1")
        elif isinstance(domain_event, Case.Moved):
            move, event_type = domain_event, domain_event.emits
        elif isinstance(domain_event, Case.Overdue):
            move, event_type = _OverdueAsMove(domain_event), domain_event.emits
        elif isinstance(domain_event, LEGACY_MOVES):
            move = LegacyMove.of(domain_event)
            event_type = move.emits
        elif isinstance(domain_event, Obligation.Reminded):
            return reminder_event(domain_event, self.make, wanted)
        else:
            return None  # a letter register's events, an obligation's opening stay inside the service
        if wanted is not None and not wanted(event_type):
            return None
        case_id = str(domain_event.originator_id)
        facts = getattr(domain_event, "case_facts", None) or self.facts.of(case_id)  # carried since they were
        actor = domain_event.actor
        letter = move.output if move is not None else None
        data = {
            "case_id": case_id,
            "reference": facts["reference"],
            "service": facts["workflow"],
            "organisation_id": facts["organisation_id"],
            "organisation_name": facts["organisation_name"],
            # An opening is the state it opens in (the walking skeleton's filings: submitted).
            "status": move.state if move is not None else getattr(domain_event, "state", "submitted"),
            "actor_id": actor["id"],
            "actor_role": actor["role"],
            "reason": move.reason if move is not None else None,
            "note": move.note if move is not None else getattr(domain_event, "note", None),
            "letter": letter,
            # Only an issuing step carries the organisation: the letter prints it.
            "organisation": facts["organisation"] if letter is not None else None,
            "action": move.action if move is not None else None,
            "assignee": move.assignee if move is not None else None,
            # The opening says how the clock starts (a filing runs it, a draft does not).
            "clock": move.clock if move is not None else getattr(domain_event, "clock", "running"),
            "subject": facts["subject"],
        }
        return self.make(
            event_id=stable_event_id(case_id, domain_event.originator_version),
            event_type=event_type,
            source="submissions",
            aggregate_id=case_id,
            aggregate_version=domain_event.originator_version,
            occurred_at=domain_event.timestamp,
            data=data,
        )


class _OverdueAsMove:
    """An overdue announcement seen with the fields of a step that left the case where it was."""

    def __init__(self, overdue: Any) -> None:
        self.state, self.action, self.reason, self.note = overdue.state, "sla_overdue", None, None
        self.output = self.assignee = self.clock = None


def reminder_event(
    reminded: Any, make: MakeEvent = IntegrationEvent, wanted: Wanted | None = None
) -> IntegrationEvent | None:
    kind = "overdue" if reminded.offset_days > 0 else "reminder_due"
    event_type = f"{reminded.workflow}.{kind}.v1"
    if wanted is not None and not wanted(event_type):
        return None
    return make(
        event_id=stable_event_id(reminded.originator_id, reminded.originator_version),
        event_type=event_type,
        source="submissions",
        aggregate_id=str(reminded.originator_id),
        aggregate_version=reminded.originator_version,
        occurred_at=reminded.timestamp,
        data={
            "obligation_id": str(reminded.originator_id),
            "organisation_id": reminded.organisation_id,
            "organisation_name": reminded.organisation_name,
            "workflow": reminded.workflow,
            "period": reminded.period,
            "period_label": reminded.period_label,
            "due_on": reminded.due_on,
            "offset_days": reminded.offset_days,
            "missed_in_a_row": reminded.missed_in_a_row,
        },
    )


def mapper_for(application: Any, make: MakeEvent = IntegrationEvent) -> CaseEventMapper:
    def load_case(case_id: str) -> Any:
        # The case's first event: the same facts the opening event would have given.
        return next(iter(application.repository.event_store.get(uuid.UUID(case_id), lte=1)))

    return CaseEventMapper(CaseFacts(load_case), make)
