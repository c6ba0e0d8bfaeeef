"""What happens to each generated organisation, in time order. Pure: a seed and an index give the same plan.

An organisation signs up and is recorded on a day within the span; it files one case of each one-off
workflow (SKM) and, of each periodic one (the half-yearly report), one case for some of the periods it
owes; the office works each case along a walk of its workflow (walks.py) to a state drawn for it —
old cases end in a final state, recent ones are still on their way, and whatever would happen after the
dataset's present moment has not happened yet. The deadlines' sweep runs on every reminder day of the
periods it owes. The counts are exact: ``allot`` spreads the cases over the organisations.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from contracts.identity import Role
from contracts.workflow import PeriodDue, Workflow
from infra.catalogue import Catalogue
from ops.demo_data import people
from ops.demo_data.payloads import CaseContext
from ops.demo_data.walks import Move, reachable_states, walk
from services.submissions.periods import periods_between, sendable_from

HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
NEVER_SENT_CHANCE = 0.04  # a report drafted and never sent
LATE_CHANCE = 0.25  # a report sent after its due date
STOPPED_REPORTING_CHANCE = 0.25  # an organisation that reported for a while, then stopped
IN_PROGRESS_WINDOW = 60 * DAY  # cases opened this close to the present may still be under way


@dataclass(frozen=True)
class Span:
    """The days organisations are recorded on, up to the dataset's present moment."""

    first: dt.date
    until: dt.datetime  # aware; nothing happens after it
    zone: ZoneInfo

    @property
    def last_day(self) -> dt.date:
        return self.until.astimezone(self.zone).date()

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone).astimezone(dt.UTC)


@dataclass(frozen=True)
class Slot:
    """A case an organisation may have: one of a one-off workflow, or one per period of a periodic one."""

    workflow: str
    period: PeriodDue | None = None


@dataclass(frozen=True)
class Filing:
    at: dt.datetime
    case: int  # the organisation's own number for the case
    payload: dict[str, Any]


@dataclass(frozen=True)
class Step:
    at: dt.datetime
    case: int
    action: str
    role: Role
    staff: int | None  # which colleague of the role (an index into the roster), None for the applicant
    payload: dict[str, Any]


@dataclass(frozen=True)
class OverdueCheck:
    """The deadlines' sweep looks at a case whose service-level clock may have run out."""

    at: dt.datetime
    case: int


@dataclass(frozen=True)
class Sweep:
    """The deadlines' sweep on a reminder day of a periodic workflow."""

    at: dt.datetime
    workflow: str
    day: dt.date


Command = Filing | Step | OverdueCheck | Sweep


@dataclass
class OrganisationPlan:
    index: int
    full_name: str
    email: str
    registered_at: dt.datetime
    confirmed_at: dt.datetime
    recorded_at: dt.datetime
    profile: dict[str, Any]
    commands: list[Command] = field(default_factory=list)
    resting: list[tuple[str, str]] = field(default_factory=list)  # (workflow, state) of each case at the end


def recorded_on(seed: int, index: int, span: Span) -> dt.date:
    rng = random.Random(f"{seed}:{index}:recorded")
    return span.first + dt.timedelta(days=rng.randrange(max(1, (span.last_day - span.first).days)))


def slots(catalogue: Catalogue, recorded: dt.date, span: Span) -> list[Slot]:
    """Every case an organisation recorded on ``recorded`` could have by the end of the span."""
    once = [Slot(key) for key, workflow in sorted(catalogue.workflows.items()) if workflow.deadline is None]
    periodic = [
        Slot(key, period)
        for key, workflow in sorted(catalogue.workflows.items())
        if workflow.deadline is not None
        for period in periods_between(workflow.deadline, recorded, span.last_day)
    ]
    return once + periodic


def allot(seed: int, capacity: list[int], cases: int) -> list[int]:
    """How many cases each organisation has: ``cases`` in all, none over its capacity, more for the diligent."""
    if cases > sum(capacity):
        raise ValueError(
            f"{len(capacity)} organisations can hold at most {sum(capacity)} cases over this span; "
            "ask for fewer cases or more years"
        )
    rng = random.Random(f"{seed}:allot")
    weights = [room * rng.uniform(0.4, 1.0) for room in capacity]
    total = sum(weights) or 1.0
    counts = [min(room, int(cases * weight / total)) for room, weight in zip(capacity, weights, strict=True)]
    order = list(range(len(capacity)))
    rng.shuffle(order)
    left = cases - sum(counts)
    while left:
        for index in order:
            if left and counts[index] < capacity[index]:
                counts[index] += 1
                left -= 1
    return counts


class Planner:
    """Plans organisations of one dataset (one seed, span, catalogue, region and office)."""

    def __init__(
        self,
        seed: int,
        span: Span,
        catalogue: Catalogue,
        kecamatan: dict[str, list[str]],
        roster: dict[Role, list[dict[str, str]]],
    ) -> None:
        self.seed, self.span, self.catalogue, self.kecamatan, self.roster = seed, span, catalogue, kecamatan, roster
        self._states = {key: reachable_states(workflow) for key, workflow in catalogue.workflows.items()}

    def organisation(self, index: int, count: int, steer: set[tuple[str, str]] | None = None) -> OrganisationPlan:
        """The plan of organisation ``index`` with ``count`` cases; ``steer``: (workflow, state) pairs the
        dataset still lacks, which this organisation's latest cases are led to if they can be."""
        rng = random.Random(f"{self.seed}:{index}")
        day = recorded_on(self.seed, index, self.span)
        recorded_at = min(self.span.at(day, rng.randint(8, 19), rng.randint(0, 59)), self.span.until - HOUR)
        profile = people.organisation_profile(rng, index, day, self.catalogue.region.name, self.kecamatan)
        secretary = next(member["name"] for member in profile["board"] if member["position"] == "sekretaris")
        registered_at = recorded_at - dt.timedelta(minutes=rng.randint(20, 3 * 24 * 60))
        plan = OrganisationPlan(
            index=index,
            full_name=secretary,
            email=people.applicant_email(secretary, index),
            registered_at=registered_at,
            confirmed_at=registered_at + (recorded_at - registered_at) * rng.uniform(0.05, 0.9),
            recorded_at=recorded_at,
            profile=profile,
        )
        chosen = self._choose(rng, slots(self.catalogue, day, self.span), count)
        steered = self._steering(chosen, steer or set())
        for number, slot in enumerate(chosen):
            self._case(plan, rng, number, slot, steered.get(number))
        self._sweeps(plan, rng, day)
        plan.commands.sort(key=lambda command: command.at)  # stable: a case's own steps keep their order
        return plan

    # --- which cases --------------------------------------------------------------------------

    def _choose(self, rng: random.Random, available: list[Slot], count: int) -> list[Slot]:
        once = [slot for slot in available if slot.period is None][:count]
        periodic = [slot for slot in available if slot.period is not None]
        wanted = max(count - len(once), 0)
        if rng.random() < STOPPED_REPORTING_CHANCE:
            return once + periodic[:wanted]
        picked = set(rng.sample(range(len(periodic)), wanted))
        return once + [slot for number, slot in enumerate(periodic) if number in picked]

    def _steering(self, chosen: list[Slot], steer: set[tuple[str, str]]) -> dict[int, str]:
        """case number -> state, for the latest case of each workflow a wanted pair names (one pair each)."""
        led: dict[int, str] = {}
        for workflow_key, state in sorted(steer):
            for number in reversed(range(len(chosen))):
                slot = chosen[number]
                if slot.workflow == workflow_key and number not in led and self._fits(slot):
                    led[number] = state
                    break
        return led

    def _fits(self, slot: Slot) -> bool:
        """Whether a case of ``slot`` can be walked anywhere before the present moment."""
        return slot.period is None or self.span.at(sendable_from(slot.period), 9) + 4 * DAY < self.span.until

    # --- one case -----------------------------------------------------------------------------

    def _case(self, plan: OrganisationPlan, rng: random.Random, number: int, slot: Slot, led_to: str | None) -> None:
        workflow = self.catalogue.workflows[slot.workflow]
        opened = self._opened(plan, rng, slot, hurried=led_to is not None)
        target = led_to or self._target(workflow, slot, opened, rng)
        staff = {role: rng.randrange(len(members)) for role, members in self.roster.items() if members}
        context = CaseContext(workflow, slot.period, plan.profile, self.roster, staff, self.span.zone, rng)
        plan.commands.append(Filing(opened, number, context.filing(opened)))
        leaves_at = self._leaves_at(slot, opened, rng, hurried=led_to is not None)
        moment, state = opened, workflow.initial_state
        for move in walk(workflow, target, rng):
            action = workflow.actions[move.action]
            moment = self._next_moment(moment, move, rng, hurried=led_to is not None)
            if state == workflow.initial_state and action.to and leaves_at is not None:
                moment = max(moment, leaves_at)
            if moment >= self.span.until:
                break
            if move.role is not Role.APPLICANT and workflow.sla_days and moment - opened > workflow.sla_days * DAY:
                plan.commands.append(OverdueCheck(moment - dt.timedelta(minutes=5), number))
            holder = context.holder(move, action)
            plan.commands.append(
                Step(moment, number, move.action, move.role, holder, context.payload(move, action, moment))
            )
            state = action.to or state
        if not workflow.states[state].final and workflow.sla_days:
            plan.commands.append(OverdueCheck(self.span.until - dt.timedelta(minutes=1), number))
        plan.resting.append((workflow.key, state))

    def _opened(self, plan: OrganisationPlan, rng: random.Random, slot: Slot, hurried: bool) -> dt.datetime:
        start = plan.recorded_at + dt.timedelta(minutes=rng.randint(5, 90))
        if slot.period is None:
            if hurried:
                return max(start, self.span.until - rng.uniform(2, 4) * DAY)
            room = max(self.span.until - start, dt.timedelta(minutes=10))
            return start + min(rng.uniform(0, 45) * DAY, room * rng.uniform(0.05, 0.5))
        drafted = self.span.at(sendable_from(slot.period), rng.randint(8, 20)) - rng.uniform(0, 25) * DAY
        begun = self.span.at(slot.period.starts_on, 8)
        return min(max(drafted, begun, start), self.span.until - dt.timedelta(minutes=10))

    def _leaves_at(self, slot: Slot, opened: dt.datetime, rng: random.Random, hurried: bool) -> dt.datetime | None:
        """When a periodic case is sent on (no earlier than its period allows), or None for a one-off."""
        if slot.period is None:
            return None
        sendable = self.span.at(sendable_from(slot.period), 9)
        if hurried:
            return max(sendable, opened) + rng.uniform(1, 6) * HOUR
        if rng.random() < LATE_CHANCE:
            return self.span.at(slot.period.due_on, 9) + rng.uniform(1, 120) * DAY
        window = (slot.period.due_on - sendable_from(slot.period)).days
        return max(sendable + rng.uniform(0, window) * DAY, opened + HOUR)

    def _target(self, workflow: Workflow, slot: Slot, opened: dt.datetime, rng: random.Random) -> str:
        if slot.period is not None and rng.random() < NEVER_SENT_CHANCE:
            return workflow.initial_state
        finals = [name for name, state in workflow.states.items() if state.final]
        if opened > self.span.until - IN_PROGRESS_WINDOW and rng.random() < 0.5:
            return rng.choice(self._states[workflow.key])
        # Most cases end well: the state that issues the output (a letter, a receipt) is the likely end.
        weights = [8.0 if workflow.states[name].output else 1.5 for name in finals]
        return rng.choices(finals, weights=weights)[0]

    def _next_moment(self, moment: dt.datetime, move: Move, rng: random.Random, hurried: bool) -> dt.datetime:
        if hurried:
            return moment + rng.uniform(0.5, 3) * HOUR
        if move.role is Role.APPLICANT:
            return moment + rng.uniform(0.2, 14) * DAY
        # Most steps are taken within a day or two; a few wait long (leave, a busy month).
        return self._office_hours(moment + min(rng.expovariate(1 / 1.2), 20) * DAY, rng)

    def _office_hours(self, moment: dt.datetime, rng: random.Random) -> dt.datetime:
        """The same moment if the office is open then, else a moment of the next working morning."""
        local = moment.astimezone(self.span.zone)
        if local.weekday() < 5 and 8 <= local.hour < 16:
            return moment
        day = local.date() + (DAY if local.hour >= 16 else dt.timedelta())
        while day.weekday() >= 5:
            day += DAY
        return self.span.at(day, rng.randint(8, 11), rng.randint(0, 59))

    # --- the deadlines' sweep -----------------------------------------------------------------

    def _sweeps(self, plan: OrganisationPlan, rng: random.Random, recorded: dt.date) -> None:
        for key, workflow in sorted(self.catalogue.workflows.items()):
            deadline = workflow.deadline
            if deadline is None:
                continue
            days = {
                period.due_on + offset * DAY
                for period in periods_between(deadline, recorded, self.span.last_day)
                for offset in deadline.reminder_offsets()
            }
            for day in sorted(days):
                at = self.span.at(day, 0, rng.randint(1, 9))
                if recorded <= day and plan.recorded_at < at < self.span.until:
                    plan.commands.append(Sweep(at, key, day))
