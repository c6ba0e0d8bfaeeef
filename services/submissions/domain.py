"""The case kernel's aggregate and the letter registers. Pure: stdlib and eventsourcing.domain only.

One ``Case`` carries a case of any workflow. Its events record *results* — the state reached, what
the action added, what happened to the service-level clock — never a rule, so replaying a case never
consults its workflow definition, and editing a definition changes the future only. The rules (who
may take which action from where) are checked by the application against the definition before
``take`` records the move.

Cases filed before the kernel were stored as ``Case.Submitted``, ``Case.RevisionRequested`` … (the
walking skeleton's hand-written SKM workflow). Those topics stay readable: each old event class
below folds into the same generic state, so old streams replay, show the same history and feed the
same read models.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from eventsourcing.domain import Aggregate

from contracts.commands import remember

REGISTER_NAMESPACE = uuid.UUID("a3f4f1d2-7e0b-4c1e-9d55-3b8e2f6c1a90")
CASE_NAMESPACE = uuid.UUID("4d7c8a21-93b5-4f0e-8c6a-52e1f0b7d3a4")

RUNNING, PAUSED, STOPPED = "running", "paused", "stopped"
LEGACY_WORKFLOW_VERSION = 1  # the walking skeleton's SKM, before definitions existed


class Case(Aggregate):
    @staticmethod
    def create_id(organisation_id: str, request_key: str | None = None) -> uuid.UUID:
        """A retried filing (same idempotency key, or the same one-per subject) names the same case."""
        if request_key:
            return uuid.uuid5(CASE_NAMESPACE, f"{organisation_id}:{request_key}")
        return uuid.uuid4()

    @staticmethod
    def subject_id(organisation_id: str, workflow: str, subject: str) -> uuid.UUID:
        """The one case of a workflow an organisation has per subject (its report for one period)."""
        return uuid.uuid5(CASE_NAMESPACE, f"{organisation_id}:{workflow}:{subject}")

    class Opened(Aggregate.Created):
        workflow: str
        workflow_version: int
        reference: str
        organisation_id: str
        organisation: dict[str, Any]  # what outputs print about the organisation; no personal data
        subject: str | None  # what the case is one of, e.g. the report period "2026-S1"
        attachments: list[dict[str, Any]]
        note: str | None
        form: dict[str, Any] | None
        state: str
        clock: str
        actor: dict[str, str]
        request_key: str | None = None
        request_digest: str | None = None
        emits: str = "case.submitted.v1"  # the integration event of the filing

    class Moved(Aggregate.Event):
        action: str
        state: str  # the state reached (the same one for a note, an assignment, a field visit)
        clock: str | None  # the clock from now on, if this move started, paused or stopped it
        reason: str | None
        note: str | None
        attachments: list[dict[str, Any]]
        form: dict[str, Any] | None
        assignee: dict[str, str] | None
        output: dict[str, Any] | None  # what a hook issued (a numbered letter or receipt)
        emits: str  # the integration event type (recorded, so a changed definition never renames the past)
        actor: dict[str, str]
        command_id: str | None = None  # the command that made it (none on events from before command ids)
        case_facts: dict[str, Any] | None = None  # see Case.facts (none on events from before they were carried)

        def apply(self, aggregate: Any) -> None:
            aggregate.apply_move(self)

    class Overdue(Aggregate.Event):
        """The case passed its service-level limit while the office held it: announced once."""

        state: str
        days_used: float
        sla_days: int
        emits: str
        actor: dict[str, str]
        case_facts: dict[str, Any] | None = None  # see Case.facts (none on events from before they were carried)

        def apply(self, aggregate: Any) -> None:
            aggregate.overdue_announced = True

    @classmethod
    def open(cls, *, case_id: uuid.UUID, **facts: Any) -> Case:
        return cls._create(cls.Opened, id=case_id, **facts)

    def __init__(
        self,
        workflow: str,
        workflow_version: int,
        reference: str,
        organisation_id: str,
        organisation: dict[str, Any],
        subject: str | None,
        attachments: list[dict[str, Any]],
        note: str | None,
        form: dict[str, Any] | None,
        state: str,
        clock: str,
        actor: dict[str, str],
        request_key: str | None = None,
        request_digest: str | None = None,
    ) -> None:
        self.workflow = workflow
        self.workflow_version = workflow_version
        self.reference = reference
        self.organisation_id = organisation_id
        self.organisation = organisation
        self.subject = subject
        self.attachments = list(attachments)
        self.superseded_attachments: list[dict[str, Any]] = []
        self.note = note
        self.form = form
        self.state = state
        self.submitted_by = actor
        self.last_reason: str | None = None
        self.assignee: dict[str, str] | None = None
        self.letter: dict[str, Any] | None = None
        self.done_actions: list[str] = []
        self.clock = clock
        # created_on is the opening event's time (set before __init__ runs, on replay too).
        self.clock_changes: list[dict[str, Any]] = [
            {"at": self.created_on, "state": clock, "by": actor.get("id"), "reason": None}
        ]
        self.request_digest = request_digest
        self.overdue_announced = False
        self.recent_commands: dict[str, str] = {}  # command id -> action, of the last moves (a repeat's check)

    # --- recording ---------------------------------------------------------------------------

    def take(
        self,
        action: str,
        actor: dict[str, str],
        *,
        emits: str,
        state: str | None = None,
        clock: str | None = None,
        reason: str | None = None,
        note: str | None = None,
        attachments: list[dict[str, Any]] | None = None,
        form: dict[str, Any] | None = None,
        assignee: dict[str, str] | None = None,
        output: dict[str, Any] | None = None,
        command_id: str | None = None,
    ) -> None:
        """Record an action the application has checked against the workflow definition."""
        self.trigger_event(
            self.Moved,
            action=action,
            state=state or self.state,
            clock=clock if clock != self.clock else None,
            reason=reason,
            note=note,
            attachments=attachments or [],
            form=form,
            assignee=assignee,
            output=output,
            emits=emits,
            actor=actor,
            command_id=command_id,
            case_facts=self.facts(issuing=output is not None),
        )

    def facts(self, issuing: bool = False) -> dict[str, Any]:
        """What the case was filed as — reference, workflow, organisation, subject — carried on each later
        event, so that whoever maps it outward (a relay, a rebuild) need not look up the case's first event;
        a move that issues an output carries the organisation's snapshot too (the document prints it)."""
        facts = {
            "reference": self.reference,
            "workflow": self.workflow,
            "organisation_id": self.organisation_id,
            "organisation_name": self.organisation["name"],
            "subject": self.subject,
        }
        return {**facts, "organisation": self.organisation} if issuing else facts

    def done_by(self, command_id: str | None) -> str | None:
        """The action of the recent move the command with this id made, if it made one."""
        return self.recent_commands.get(command_id) if command_id is not None else None

    def announce_overdue(self, days_used: float, sla_days: int, actor: dict[str, str]) -> bool:
        """Record that the limit has passed, once per case (a second sweep, or a replica's, records nothing)."""
        if self.overdue_announced:
            return False
        self.trigger_event(
            self.Overdue, state=self.state, days_used=round(days_used, 2), sla_days=sla_days,
            emits="case.overdue.v1", actor=actor, case_facts=self.facts(),
        )  # fmt: skip
        return True

    # --- folding (also runs on replay: no clock, no uuid, no rules) ----------------------------

    def apply_move(self, event: Any) -> None:
        if event.attachments:
            # A corrected file replaces the earlier one of the same kind; the old one stays in the history.
            replaced = {attachment["kind"] for attachment in event.attachments}
            self.superseded_attachments += [a for a in self.attachments if a["kind"] in replaced]
            self.attachments = [a for a in self.attachments if a["kind"] not in replaced] + list(event.attachments)
        if event.state != self.state:
            # A reason is current only in the state it sent the case to (a revision note, a hold, a rejection).
            self.last_reason = event.reason
            if event.note is not None and event.action in ("resubmit", "submit"):
                self.note = event.note
        if event.form is not None and event.action in ("update_draft", "resubmit"):
            self.form = event.form
        if event.assignee is not None:
            self.assignee = event.assignee
        if event.output is not None:
            self.letter = event.output
        self.state = event.state
        if event.action not in self.done_actions:
            self.done_actions.append(event.action)
        if event.clock is not None:
            self._clock_to(event.clock, event.timestamp, event.actor, event.reason)
        remember(self.recent_commands, getattr(event, "command_id", None), event.action)

    def _clock_to(self, clock: str, at: dt.datetime, actor: dict[str, str], reason: str | None) -> None:
        self.clock = clock
        self.clock_changes.append({"at": at, "state": clock, "by": actor.get("id"), "reason": reason})

    @property
    def status(self) -> str:
        """The walking skeleton's name for the state (kept for views and subscribers)."""
        return self.state

    @property
    def service(self) -> str:
        return self.workflow

    # --- the walking skeleton's SKM events (stored before the kernel; kept readable) -----------

    class Submitted(Aggregate.Created):
        service: str
        reference: str
        organisation_id: str
        organisation: dict[str, Any]
        attachments: list[dict[str, Any]]
        note: str | None
        actor: dict[str, str]
        request_key: str | None = None
        request_digest: str | None = None

        def mutate(self, aggregate: Any) -> Any:
            case = Case.__new__(Case)
            case.__base_init__(self.originator_id, self.originator_version, self.timestamp)
            case.__init__(  # type: ignore[misc]
                workflow=self.service,
                workflow_version=LEGACY_WORKFLOW_VERSION,
                reference=self.reference,
                organisation_id=self.organisation_id,
                organisation=self.organisation,
                subject=None,
                attachments=self.attachments,
                note=self.note,
                form=None,
                state="submitted",
                clock=RUNNING,
                actor=self.actor,
                request_key=self.request_key,
                request_digest=self.request_digest,
            )
            return case

    class _LegacyMove(Aggregate.Event):
        """An old SKM step, folded like the ``Moved`` it would be today."""

        def apply(self, aggregate: Any) -> None:
            aggregate.apply_move(LegacyMove.of(self))

    class RevisionRequested(_LegacyMove):
        reason: str
        actor: dict[str, str]

    class Resubmitted(_LegacyMove):
        attachments: list[dict[str, Any]]
        note: str | None
        actor: dict[str, str]

    class Forwarded(_LegacyMove):
        note: str | None
        actor: dict[str, str]

    class Approved(_LegacyMove):
        note: str | None
        letter: dict[str, Any]
        actor: dict[str, str]

    class Rejected(_LegacyMove):
        reason: str
        actor: dict[str, str]


class LegacyMove:
    """An old SKM event seen with the fields of a ``Case.Moved``."""

    # old event class name -> (action, state reached, clock from then on)
    MEANING = {
        "RevisionRequested": ("request_revision", "revision_requested", PAUSED),
        "Resubmitted": ("resubmit", "resubmitted", RUNNING),
        "Forwarded": ("forward", "forwarded", None),
        "Approved": ("approve", "approved", STOPPED),
        "Rejected": ("reject", "rejected", STOPPED),
    }
    EMITS = {
        "RevisionRequested": "case.revision_requested.v1",
        "Resubmitted": "case.resubmitted.v1",
        "Forwarded": "case.forwarded.v1",
        "Approved": "case.approved.v1",
        "Rejected": "case.rejected.v1",
    }

    def __init__(self, old: Any) -> None:
        name = type(old).__name__
        self.action, self.state, self.clock = self.MEANING[name]
        self.emits = self.EMITS[name]
        self.timestamp = old.timestamp
        self.actor = old.actor
        self.reason = getattr(old, "reason", None)
        self.note = getattr(old, "note", None)
        self.attachments = getattr(old, "attachments", [])
        self.output = getattr(old, "letter", None)
        self.form = None
        self.assignee = None

    @classmethod
    def of(cls, old: Any) -> LegacyMove:
        return cls(old)


class LetterRegister(Aggregate):
    """A per-register, per-year sequence. Gap-free: a number is taken in the same atomic save as the
    approval that uses it, and two approvals racing for the same number conflict on the version.

    Read from snapshots (SubmissionsApplication.registers), which store its attributes and its topic:
    an attribute added later needs a ``class_version`` and an upcast of the snapshot state, and a move of
    the class its old topic registered, as for its events. Snapshots may also simply be deleted: they
    are taken again from the events."""

    @staticmethod
    def create_id(name: str, year: int) -> uuid.UUID:
        return uuid.uuid5(REGISTER_NAMESPACE, f"{name}:{year}")

    class Opened(Aggregate.Created):
        name: str
        year: int

    class NumberTaken(Aggregate.Event):
        sequence: int
        case_id: str

        def apply(self, aggregate: Any) -> None:
            aggregate.last_sequence = self.sequence

    @classmethod
    def open(cls, name: str, year: int) -> LetterRegister:
        return cls._create(cls.Opened, id=cls.create_id(name, year), name=name, year=year)

    def __init__(self, name: str, year: int) -> None:
        self.name = name
        self.year = year
        self.last_sequence = 0

    def take_next(self, case_id: str) -> int:
        self.trigger_event(self.NumberTaken, sequence=self.last_sequence + 1, case_id=case_id)
        return self.last_sequence


OBLIGATION_NAMESPACE = uuid.UUID("9e3b6a52-1f0d-4c8e-b7a4-6d2f0c9e8a13")


class Obligation(Aggregate):
    """A periodic duty of one organisation — its half-yearly report for one period — that is due whether
    or not anything was filed. Each reminder is recorded once: two replicas whose timers fire together
    race for the same version, and the loser's save fails, so the mail that follows the event is sent once.
    Every event carries what its consumers need (no look-ups per event)."""

    @staticmethod
    def create_id(organisation_id: str, workflow: str, period: str) -> uuid.UUID:
        return uuid.uuid5(OBLIGATION_NAMESPACE, f"{organisation_id}:{workflow}:{period}")

    class Opened(Aggregate.Created):
        organisation_id: str
        organisation_name: str
        workflow: str
        period: str
        period_label: str
        due_on: str

    class Reminded(Aggregate.Event):
        organisation_id: str
        organisation_name: str
        workflow: str
        period: str
        period_label: str
        due_on: str
        offset_days: int  # negative: before the due date; positive: overdue
        missed_in_a_row: int

        def apply(self, aggregate: Any) -> None:
            aggregate.last_offset = self.offset_days

    @classmethod
    def open(cls, **facts: Any) -> Obligation:
        obligation_id = cls.create_id(facts["organisation_id"], facts["workflow"], facts["period"])
        return cls._create(cls.Opened, id=obligation_id, **facts)

    def __init__(
        self, organisation_id: str, organisation_name: str, workflow: str, period: str, period_label: str, due_on: str
    ) -> None:
        self.facts = {
            "organisation_id": organisation_id,
            "organisation_name": organisation_name,
            "workflow": workflow,
            "period": period,
            "period_label": period_label,
            "due_on": due_on,
        }
        self.last_offset: int | None = None

    def remind(self, offset_days: int, missed_in_a_row: int) -> bool:
        """Record the reminder at ``offset_days`` unless it (or a later one) was recorded already; a
        reminder skipped while the system was down is not sent late, only the latest one due."""
        if self.last_offset is not None and offset_days <= self.last_offset:
            return False
        self.trigger_event(self.Reminded, offset_days=offset_days, missed_in_a_row=missed_in_a_row, **self.facts)
        return True
