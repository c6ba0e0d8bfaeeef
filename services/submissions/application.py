"""Submissions application: the case kernel. A filing opens a case of a workflow; every later step is
one ``act`` checked against the workflow's definition. One short method per command."""

from __future__ import annotations

import datetime as dt
import logging
import random
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProjectorFunction,
    Repository,
    project_aggregate,
)
from eventsourcing.persistence import IntegrityError, PersistenceError

from contracts.cases import ActionRequest, CaseSubmission
from contracts.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from contracts.identity import Caller, Role
from contracts.validation import parse
from contracts.workflow import Action, PeriodDue, Workflow
from infra.catalogue import Catalogue, CatalogueError, load_catalogue
from services.submissions.clock import Calendar, sla_status
from services.submissions.deadlines import DueReminder, Fulfilled, Organisation, due_reminders
from services.submissions.domain import Case, LetterRegister, Obligation
from services.submissions.filing import checked_form, filing_digest, letter_snapshot, subject_of
from services.submissions.history import event_record, pick_version
from services.submissions.hooks import HOOKS, Step
from services.submissions.periods import periods_between
from services.submissions.rules import check_action
from services.submissions.views import case_view, clock_changes

T = TypeVar("T")


log = logging.getLogger(__name__)

REPORTS_DUE_YEARS = 2  # an organisation's reports due: this year's periods and those of the 2 years before
SWEEPER = {"id": "service:submissions", "role": Role.SYSTEM.value}  # the actor of what a timer records


def actor_of(caller: Caller) -> dict[str, str]:
    return {"id": caller.user_id, "role": caller.role.value}


# A letter register takes one number per document issued in its year: at national scale a hundred
# thousand events, and every approval reads it: from its latest snapshot plus fewer than this many events.
# The save that records a register's version that is a multiple of it then writes the next snapshot.
REGISTER_SNAPSHOT_EVERY = 20


class SubmissionsApplication(Application):
    name = "submissions"
    catalogue: Catalogue = load_catalogue()
    fixed_today: dt.date | None = None
    snapshotting_intervals = {LetterRegister: REGISTER_SNAPSHOT_EVERY}
    registers: Repository[uuid.UUID]

    def construct_repository(self) -> Repository[uuid.UUID]:
        """``repository`` reads cases and obligations — tens of events each — straight from their events:
        asking the snapshot store first would cost every step a query for nothing (+0.6 ms on PostgreSQL).
        ``registers`` reads the letter registers, from their latest snapshot."""
        self.registers = Repository(event_store=self.events, snapshot_store=self.snapshots)
        return Repository(event_store=self.events)

    def take_snapshot(
        self,
        aggregate_id: uuid.UUID,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
    ) -> None:
        """Snapshot a letter register as recorded at ``version`` (called by ``save``), read through
        ``registers`` (the library's own would replay every event). The save that called for it has
        committed and a snapshot only spares replaying: a failed one is logged, and the next one comes
        ``REGISTER_SNAPSHOT_EVERY`` numbers later."""
        assert self.snapshots is not None  # snapshotting_intervals makes the library construct the store
        try:
            register = self.registers.get(aggregate_id, version=version, projector_func=projector_func)
            self.snapshots.put([type(register).Snapshot.take(register)])
        except PersistenceError as error:
            log.warning("snapshot of register %s at version %s not taken: %s", aggregate_id, version, error)

    _calendar: tuple[object, Calendar] | None = None

    @property
    def calendar(self) -> Calendar:
        """The region's working-day calendar, made once per catalogue: its public holidays are computed on
        first use and kept (every case view asks for it)."""
        region = self.catalogue.region
        if self._calendar is None or self._calendar[0] is not region:
            made = Calendar(region.timezone, frozenset(region.extra_days_off), region.published_calendar_until)
            self._calendar = (region, made)
        return self._calendar[1]

    def submit_case(self, caller: Caller, organisation: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        if caller.organisation_id is None or caller.organisation_id != organisation.get("id"):
            raise PermissionDenied("you may only file for your own organisation")
        data = parse(CaseSubmission, payload)
        workflow = self._workflow(data.service.value)
        caller.require(*workflow.filing.roles)
        form = checked_form(workflow, data, self.today())
        subject = subject_of(workflow, form)
        digest = filing_digest(data)
        if subject is not None:
            case_id = Case.subject_id(organisation["id"], workflow.key, subject)
        else:
            case_id = Case.create_id(organisation["id"], data.request_key)
        if subject is not None or data.request_key:
            earlier = self._find(case_id)
            if earlier is not None:
                return self._retried(earlier, digest, subject)
        case = Case.open(
            case_id=case_id,
            workflow=workflow.key,
            workflow_version=workflow.version,
            reference=f"{workflow.reference_prefix}-{self.today().year}-{secrets.token_hex(4).upper()}",
            organisation_id=organisation["id"],
            organisation=letter_snapshot(organisation),
            subject=subject,
            attachments=[a.model_dump(mode="json") for a in data.attachments],
            note=data.note,
            form=form,
            state=workflow.initial_state,
            clock=workflow.states[workflow.initial_state].clock.value,
            actor=actor_of(caller),
            request_key=data.request_key,
            request_digest=digest,
            emits=workflow.filing.event,
        )
        try:
            self.save(case)
        except IntegrityError:
            if subject is None and not data.request_key:
                raise
            return self._retried(self._case(str(case.id)), digest, subject)  # the same filing raced us and won
        return self._view(case)

    def act(self, caller: Caller, case_id: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Take one action of the case's workflow (revision request, field visit, hold, approval …)."""
        request = parse(ActionRequest, payload)

        def attempt() -> dict[str, Any]:
            case = self._readable_case(caller, case_id)
            earlier = case.done_by(request.command_id)
            if earlier == action:  # this very command again (a retry, a redelivered RPC): done already
                return self._view(case)
            if earlier is not None:
                raise InvalidInput(
                    "this Idempotency-Key was already used for a different step; use a new key",
                    field="Idempotency-Key",
                )
            workflow = self._workflow(case.workflow)
            checked = check_action(workflow, case, action, caller, request, self.today())
            step = Step(case=case, workflow=workflow, action=checked)
            for hook in step.action.hooks:
                HOOKS[hook](self, step)
            target = workflow.states[step.action.to] if step.action.to else None
            case.take(
                action,
                actor_of(caller),
                emits=step.action.event,
                state=step.action.to,
                clock=target.clock.value if target else None,
                reason=request.reason,
                note=request.note,
                attachments=[a.model_dump(mode="json") for a in request.attachments],
                form=request.form,
                assignee=holder(step.action, request, caller),
                output=step.output,
                command_id=request.command_id,
            )
            self.save(case, *step.also_save)
            return self._view(case)

        return self._retry_on_conflict(attempt)

    def action_takes(self, action: str) -> bool:
        """Whether ``action`` makes its taker the case's holder, in any of the region's workflows."""
        return any(w.actions[action].takes for w in self.catalogue.workflows.values() if action in w.actions)

    def get_case(self, caller: Caller, case_id: str) -> dict[str, Any]:
        return self._view(self._readable_case(caller, case_id))

    def case_history(self, caller: Caller, case_id: str) -> list[dict[str, Any]]:
        case = self._readable_case(caller, case_id)
        return [event_record(domain_event) for domain_event in self.repository.event_store.get(case.id)]

    def case_state(
        self, caller: Caller, case_id: str, version: int | None = None, at: dt.datetime | None = None
    ) -> dict[str, Any]:
        case = self._readable_case(caller, case_id)
        events = list(self.repository.event_store.get(case.id))
        chosen = pick_version(events, version=version, at=at)
        past: Case = self.repository.get(case.id, version=chosen)
        return self._view(past, now=past.modified_on)

    def send_due_reminders(
        self,
        workflow_key: str,
        today: dt.date,
        organisations: list[Organisation],
        filed_in: Callable[[Workflow], Fulfilled] | None = None,
    ) -> int:
        """Record every reminder of ``workflow_key``'s deadline due on ``today`` for these organisations
        (once each, whichever replica gets there first); the mail follows from the recorded event.
        ``filed_in`` answers "which of these reports are filed" (default: from the event store)."""
        workflow = self._workflow(workflow_key)
        if workflow.deadline is None:
            return 0
        filed = (filed_in or self._filed_checker)(workflow)
        return sum(self._remind(workflow, due) for due in due_reminders(workflow.deadline, today, organisations, filed))

    def _filed_checker(self, workflow: Workflow) -> Fulfilled:
        def filed(pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
            found = set()
            for organisation_id, period in pairs:
                case = self._find(Case.subject_id(organisation_id, workflow.key, period))
                if case is not None and case.state != workflow.initial_state:  # a draft is not filed
                    found.add((organisation_id, period))
            return found

        return filed

    def _remind(self, workflow: Workflow, due: DueReminder) -> bool:
        organisation, period = due.organisation, due.period
        try:
            obligation: Obligation = self.repository.get(
                Obligation.create_id(organisation.organisation_id, workflow.key, period.key)
            )
        except AggregateNotFoundError:
            obligation = Obligation.open(
                organisation_id=organisation.organisation_id,
                organisation_name=organisation.name,
                workflow=workflow.key,
                period=period.key,
                period_label=period.label,
                due_on=period.due_on.isoformat(),
            )
        if not obligation.remind(due.offset_days, due.missed_in_a_row):
            return False
        try:
            self.save(obligation)
        except IntegrityError:
            return False  # another replica recorded this reminder first: it sends the mail
        return True

    def announce_overdue(self, case_ids: list[str], now: dt.datetime) -> int:
        """Announce, once each, the cases among ``case_ids`` whose service-level limit has passed."""
        announced = 0
        for case_id in case_ids:
            case = self._find(uuid.UUID(case_id))
            workflow = self.catalogue.workflow(case.workflow) if case else None
            if case is None or workflow is None or workflow.sla_days is None:
                continue
            status = sla_status(self.calendar, clock_changes(case), workflow.sla_days, now)
            if status.overdue and case.announce_overdue(status.days_used, workflow.sla_days, SWEEPER):
                try:
                    self.save(case)
                    announced += 1
                except IntegrityError:
                    continue  # changed meanwhile (a step, or another replica's announcement): next sweep
        return announced

    def reports_due(
        self, caller: Caller, organisation: dict[str, Any], workflow_key: str = "report"
    ) -> list[dict[str, Any]]:
        """The periods the caller's organisation owes a report for — those of the last REPORTS_DUE_YEARS
        years since it was recorded, up to the current one — each with its due date and its report's state."""
        caller.require(Role.APPLICANT)
        if caller.organisation_id != organisation.get("id"):
            raise PermissionDenied("you may only read your own organisation's reports")
        workflow = self._workflow(workflow_key)
        if workflow.deadline is None:
            return []
        today = self.today()
        recorded_on = dt.datetime.fromisoformat(organisation["recorded_at"]).astimezone(self.calendar.zone).date()
        since = max(recorded_on, today.replace(year=today.year - REPORTS_DUE_YEARS, month=1, day=1))
        # The case id is derived from (organisation, workflow, period): one exact look-up per period.
        return [
            report_due(
                workflow, period, self._find(Case.subject_id(organisation["id"], workflow.key, period.key)), today
            )
            for period in periods_between(workflow.deadline, since, today)
        ]

    def describe_workflows(self) -> list[dict[str, Any]]:
        return [workflow.model_dump(mode="json", by_alias=True) for workflow in self.catalogue.workflows.values()]

    def now(self) -> dt.datetime:
        """The present moment of what this application computes (a case's clock, today's date): the real
        time, except where something replays history (the demo-data generator moves it)."""
        return dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        """Today in the region; on a local or test system SATU_TODAY may fix it (time moved by configuration)."""
        return self.fixed_today or self.now().astimezone(self.calendar.zone).date()

    # --- helpers -------------------------------------------------------------------------------

    def _view(self, case: Case, now: dt.datetime | None = None) -> dict[str, Any]:
        workflow = self.catalogue.workflow(case.workflow)
        return case_view(case, workflow, self.calendar, now or self.now())

    def _retried(self, earlier: Case, digest: str, subject: str | None) -> dict[str, Any]:
        """A retry of a filing that already went through returns it; another filing under its key, or a
        second one for the same subject (the same report period), is refused."""
        if earlier.request_digest not in (None, digest):
            if subject is not None:
                raise Conflict(f"a report for {subject} exists already ({earlier.reference})", field="form.period")
            raise InvalidInput(
                "this Idempotency-Key was already used for a different filing; use a new key",
                field="Idempotency-Key",
            )
        return self._view(earlier)

    def _workflow(self, key: str) -> Workflow:
        workflow = self.catalogue.workflow(key)
        if workflow is None:
            raise InvalidInput(f"unknown service '{key}'", field="service")
        return workflow

    def _retry_on_conflict(self, attempt: Callable[[], T], tries: int = 30) -> T:
        for round_ in range(tries):
            try:
                return attempt()
            except IntegrityError:
                # Someone else changed the case (or took the register number) meanwhile:
                # back off a little, re-read and re-check the rules.
                time.sleep(random.uniform(0, 0.002 * (round_ + 1)))
        raise Conflict("the case was changed by someone else at the same moment; try again")

    def _readable_case(self, caller: Caller, case_id: str) -> Case:
        case = self._case(case_id)
        if caller.role is Role.APPLICANT and case.organisation_id != caller.organisation_id:
            # Same answer as a missing case: an applicant learns nothing about other organisations.
            raise NotFound(f"case {case_id} not found")
        return case

    def _case(self, case_id: str) -> Case:
        try:
            case: object = self.repository.get(uuid.UUID(str(case_id)))
        except ValueError:
            raise InvalidInput(f"'{case_id}' is not a valid case id", field="case_id") from None
        except AggregateNotFoundError:
            raise NotFound(f"case {case_id} not found") from None
        if not isinstance(case, Case):  # e.g. a letter register's id: not a case, and not to be shown
            raise NotFound(f"case {case_id} not found")
        return case

    def _find(self, case_id: uuid.UUID) -> Case | None:
        try:
            found: object = self.repository.get(case_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, Case) else None


def holder(action: Action, request: ActionRequest, caller: Caller) -> dict[str, str] | None:
    """Who holds the case after this action: the colleague it was handed to, or whoever took it."""
    if request.assignee is not None:
        return request.assignee.model_dump()
    return {"id": caller.user_id, "role": caller.role.value} if action.takes else None


def report_due(workflow: Workflow, period: PeriodDue, case: Case | None, today: dt.date) -> dict[str, Any]:
    filed = case is not None and case.state != workflow.initial_state
    return {
        "period": period.key,
        "label": period.label,
        "starts_on": period.starts_on.isoformat(),
        "ends_on": period.ends_on.isoformat(),
        "due_on": period.due_on.isoformat(),
        "case_id": str(case.id) if case else None,
        "status": case.state if case else "not_filed",
        "status_label": workflow.states[case.state].label if case else "Belum dibuat",
        "overdue": not filed and period.due_on < today,
    }


def build_application(
    env: dict[str, str], settings: Any, kind: type[SubmissionsApplication] = SubmissionsApplication
) -> SubmissionsApplication:
    """The application with the region's catalogue (labels, deadlines, number formats are regional)."""
    application = kind(env=env)
    application.catalogue = load_catalogue(settings.region_dir)
    application.fixed_today = settings.today
    for workflow in application.catalogue.workflows.values():
        for name, action in workflow.actions.items():
            for hook in action.hooks:
                if hook not in HOOKS:
                    where = f"workflows/{workflow.key}.toml: actions.{name}.hooks"
                    raise CatalogueError(f"{where}: unknown hook '{hook}' (known: {', '.join(HOOKS)})")
    return application
