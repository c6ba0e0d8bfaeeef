"""`satu demo-data`: a realistic dataset of N organisations and M cases, written through the applications.

Order of work: the office's staff are recorded first; then, organisation by organisation, its plan
(plan.py) is carried out command by command on the registry's and the submissions' own applications at
the plan's moments — sign-up, confirmation, recording, filings, every step, the deadlines' sweep, and what
the registry does on hearing of an overdue or accepted report (``follow_reports``, as its consumer would);
every ~20,000 events the batch goes to a writer process that stores it, projects it into the read models
and marks it published while the next batch is made (stores.py, writer.py). The last organisations are
steered so that every state of every workflow is represented.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from contracts.errors import ServiceError
from contracts.identity import Caller, Role, system_caller
from contracts.workflow import Workflow
from infra.catalogue import Catalogue, load_catalogue
from infra.settings import Settings
from ops.demo_data import people
from ops.demo_data.bulk import SimulatedClock, stamped_by
from ops.demo_data.plan import (
    Filing,
    OrganisationPlan,
    OverdueCheck,
    Planner,
    Span,
    Step,
    Sweep,
    allot,
    recorded_on,
    slots,
)
from ops.demo_data.stores import Stores
from ops.demo_data.walks import reachable_states
from services.registry.regions import load_region
from services.submissions.deadlines import Fulfilled
from services.submissions.deadlines import Organisation as DueOrganisation
from services.submissions.domain import Case

BATCH_EVENTS = 20_000  # events per transaction: large enough to amortise it, small enough to hold in memory
STAFF_PER_ORGANISATIONS = {Role.VERIFIER: 1_500, Role.APPROVER: 6_000}  # one colleague per so many ormas
DEFAULT_PASSWORD = "demo-data-password"  # noqa: S105 - what a caller that names none gets (tests, benches)
STEERED_SHARE = 20  # the last 1/20 of the organisations (at least 64) are steered towards missing states


class GenerationError(RuntimeError):
    pass


@dataclass
class Summary:
    organisations: int
    cases: int
    events: dict[str, int]
    seconds: float
    # seconds: commands (this process), store and read models (the writer's, meanwhile), waiting for the writer
    phases: dict[str, float] = field(default_factory=dict)
    cpu_seconds: float = 0.0  # of this process and the writer's (on a shared machine steadier than the wall clock)
    states: Counter[tuple[str, str]] = field(default_factory=Counter)
    sign_in: dict[str, str] = field(default_factory=dict)  # role -> an e-mail to sign in with, for each role

    @property
    def events_per_second(self) -> float:
        return sum(self.events.values()) / self.seconds if self.seconds else 0.0


def default_years(catalogue_periods_per_year: int, organisations: int, cases: int, one_offs: int) -> int:
    """Enough years for the periodic cases to fit: each year adds ~periods_per_year/2 slots per organisation."""
    per_organisation = cases / max(organisations, 1)
    if catalogue_periods_per_year == 0 or per_organisation <= one_offs:
        return 3
    needed = 2 * (1.2 * per_organisation - one_offs - 1) / catalogue_periods_per_year
    return max(3, int(needed) + 1)


def generate(
    settings: Settings,
    organisations: int,
    cases: int,
    seed: int = 1,
    until: dt.datetime | None = None,
    years: int | None = None,
    password: str = DEFAULT_PASSWORD,
    progress: Callable[[int], None] = lambda _done: None,
) -> Summary:
    """Write the dataset into the configured stores and read models; ``progress`` hears organisations done."""
    catalogue = load_catalogue(settings.region_dir)
    span = span_for(catalogue, (until or dt.datetime.now(dt.UTC)).replace(microsecond=0), organisations, cases, years)
    capacity = [len(slots(catalogue, recorded_on(seed, index, span), span)) for index in range(organisations)]
    try:
        counts = allot(seed, capacity, cases)
    except ValueError as error:
        raise GenerationError(f"{error} (--years {span.last_day.year - span.first.year})") from None
    # The office exists a month before the first organisation is recorded.
    clock = SimulatedClock(span.at(span.first, 8) - dt.timedelta(days=30))
    started, cpu_started = time.perf_counter(), time.process_time()
    with stamped_by(clock), Stores(settings, clock) as stores:
        roster = _office(stores, seed, organisations, password)
        planner = Planner(seed, span, catalogue, load_region(), roster)
        wanted = {(key, state) for key, workflow in catalogue.workflows.items() for state in reachable_states(workflow)}
        steered_from = organisations - max(64, organisations // STEERED_SHARE)
        states: Counter[tuple[str, str]] = Counter()
        sign_in = {role.value: members[0]["email"] for role, members in roster.items()}
        run = Run(stores, clock, roster, password, span.zone)
        for index in range(organisations):
            plan = planner.organisation(index, counts[index], wanted - set(states) if index >= steered_from else None)
            run.organisation(plan)
            sign_in.setdefault(Role.APPLICANT.value, plan.email)
            states.update(plan.resting)
            if stores.pending >= BATCH_EVENTS:
                stores.write()
                progress(index + 1)
        stores.write()
        written = stores.finish()
        progress(organisations)
        seconds = time.perf_counter() - started
        phases = {"commands": seconds - stores.waited, **written.seconds, "waiting for the writer": stores.waited}
        cpu = time.process_time() - cpu_started + written.cpu_seconds
        return Summary(organisations, sum(counts), dict(stores.events), seconds, phases, cpu, states, sign_in)


def span_for(catalogue: Catalogue, present: dt.datetime, organisations: int, cases: int, years: int | None) -> Span:
    """From ``years`` (or as many as the periodic cases need) before the present day up to the present."""
    zone = ZoneInfo(catalogue.region.timezone)
    periodic = [workflow.deadline for workflow in catalogue.workflows.values() if workflow.deadline is not None]
    one_offs = len(catalogue.workflows) - len(periodic)
    per_year = sum(len(deadline.periods) for deadline in periodic)
    back = years or default_years(per_year, organisations, cases, one_offs)
    last_day = present.astimezone(zone).date()
    first = dt.date(last_day.year - back, last_day.month, min(last_day.day, 28))
    return Span(first, present.astimezone(dt.UTC), zone)


def _office(stores: Stores, seed: int, organisations: int, password: str) -> dict[Role, list[dict[str, str]]]:
    """The office's verifiers and approvers, recorded through the operator's bootstrap path (as the seed)."""
    rng = random.Random(f"{seed}:office")
    roster: dict[Role, list[dict[str, str]]] = {}
    for role, per in STAFF_PER_ORGANISATIONS.items():
        members = []
        for number in range(max(3 if role is Role.VERIFIER else 2, organisations // per)):
            name, _ = people.person(rng)
            email = people.staff_email(name, number)
            try:
                account = stores.registry.bootstrap_staff(
                    {"email": email, "password": password, "full_name": name, "role": role.value}
                )
            except ServiceError as error:
                raise GenerationError(
                    f"staff account {email}: {error} (does this database hold demo data already?)"
                ) from None
            members.append({"id": account["id"], "role": role.value, "name": name, "email": email})
        roster[role] = members
    return roster


class Run:
    """Carries out organisations' plans on the applications, command by command, at their moments."""

    def __init__(
        self,
        stores: Stores,
        clock: SimulatedClock,
        roster: dict[Role, list[dict[str, str]]],
        password: str,
        zone: ZoneInfo,
    ) -> None:
        self.stores, self.clock, self.roster, self.password, self.zone = stores, clock, roster, password, zone
        self.registry, self.submissions = stores.registry, stores.submissions

    def organisation(self, plan: OrganisationPlan) -> None:
        try:
            self._organisation(plan)
        except ServiceError as error:
            raise GenerationError(f"organisation {plan.index} ({plan.email}): {error.message}") from error

    def _organisation(self, plan: OrganisationPlan) -> None:
        self.clock.moment = plan.registered_at
        details = {"email": plan.email, "password": self.password, "full_name": plan.full_name}
        account = self.registry.register_applicant(details)
        if not account:
            raise GenerationError(
                f"{plan.email} has an account already: this database holds demo data; use a fresh one"
            )
        self.clock.moment = plan.confirmed_at
        self.registry.confirm_directly(account["id"])
        self.clock.moment = plan.recorded_at
        owner = Caller(user_id=account["id"], role=Role.APPLICANT)
        recorded = self.registry.record_organisation(owner, plan.profile)
        # What the submissions service is given of it: the registry's answer to a service (personal data masked).
        organisation = self.registry.get_organisation(system_caller("submissions"), recorded["id"])
        applicant = owner.model_copy(update={"organisation_id": recorded["id"]})
        due = DueOrganisation(recorded["id"], recorded["name"], plan.recorded_at.astimezone(self.zone).date())
        case_ids: dict[int, str] = {}
        for command in plan.commands:
            self.clock.moment = command.at
            mark = len(self.submissions.held.published)
            self._carry_out(command, applicant, organisation, due, case_ids)
            for event in self.submissions.published_since(mark):
                self.registry.follow_reports(event)  # as the registry's consumer does on hearing of it

    def _carry_out(
        self,
        command: Any,
        applicant: Caller,
        organisation: dict[str, Any],
        due: DueOrganisation,
        case_ids: dict[int, str],
    ) -> None:
        submissions = self.submissions
        if isinstance(command, Filing):
            case_ids[command.case] = submissions.submit_case(applicant, organisation, command.payload)["id"]
        elif isinstance(command, Step):
            caller = applicant
            if command.role is not Role.APPLICANT:
                colleague = self.roster[command.role][command.staff or 0]
                caller = Caller(user_id=colleague["id"], role=command.role)
            submissions.act(caller, case_ids[command.case], command.action, command.payload)
        elif isinstance(command, OverdueCheck):
            submissions.announce_overdue([case_ids[command.case]], command.at)
        elif isinstance(command, Sweep):
            submissions.send_due_reminders(command.workflow, command.day, [due], self._filed_in_hand)

    def _filed_in_hand(self, workflow: Workflow) -> Fulfilled:
        """Which of these reports are filed, answered from the cases in hand: an organisation's whole history
        is made within one batch, so its cases are all there (what the store does not hold yet)."""
        held = self.submissions.held.aggregates

        def filed(pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
            return {
                (organisation, period)
                for organisation, period in pairs
                if (case := held.get(Case.subject_id(organisation, workflow.key, period))) is not None
                and case.state != workflow.initial_state
            }

        return filed
