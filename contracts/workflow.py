"""Workflow definitions: what a service *is*, as data (read from a region's TOML files, validated here).

A definition says which states a case of the service passes through, who may take which action from
where, what each action needs, what the clock does in each state, which output a state issues, and
the words pages and mails use. What computes (a letter number, a report period) is a Python hook
named here and written in code. Case events record the *results* (the state reached, the clock's
effect), so editing a definition changes the future and never the replay of the past.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from contracts.identity import Role

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Label = Annotated[str, Field(min_length=1, max_length=120)]


class Strict(BaseModel):
    """Definitions refuse unknown keys: a misspelt key in a region file must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ClockEffect(StrEnum):
    """What the service-level clock does while a case sits in a state."""

    RUNNING = "running"  # the office is working on it: working days count
    PAUSED = "paused"  # waiting for the applicant, or held for evaluation: nothing counts
    STOPPED = "stopped"  # a final state, or not yet filed (a draft)


class Need(StrEnum):
    """What an action must be given by the person taking it."""

    REASON = "reason"  # a real reason (shown to the applicant, kept in the history)
    NOTE = "note"  # an optional note
    FILES = "files"  # at least one attached file
    FORM = "form"  # the action's form (named by ``form``)
    ASSIGNEE = "assignee"  # a colleague to hand the case to


class State(Strict):
    label: Label
    queue: str | None = Field(default=None, description="the role whose work queue shows cases in this state")
    clock: ClockEffect = ClockEffect.RUNNING
    final: bool = False
    output: Key | None = Field(default=None, description="the output issued on entering this state")
    sla_days: int | None = Field(default=None, ge=1, le=365, description="a per-state limit, if the region sets one")


class MailText(Strict):
    """Bahasa Indonesia wording of the mail sent when an action is taken. The mail around it (greeting,
    reference, service, link to the case, the office's footer) is the same for every mail."""

    status: Annotated[str, Field(min_length=1, max_length=80, description="short status, in the subject")]
    paragraph: Annotated[str, Field(min_length=1, max_length=2000, description="what happened, what to do")]
    reason_label: Label | None = Field(default=None, description='e.g. "Catatan perbaikan", shown with the reason')


class Action(Strict):
    label: Label
    roles: list[Role] = Field(min_length=1)
    from_states: list[Key] = Field(alias="from", min_length=1)
    to: Key | None = Field(default=None, description="the state reached; none: the state stays as it is")
    needs: list[Need] = Field(default_factory=list)
    form: Key | None = None
    file_kinds: list[Key] = Field(default_factory=list, description="the kinds of file this action accepts")
    requires_done: list[Key] = Field(default_factory=list, description="actions taken before, since filing")
    takes: bool = Field(default=False, description="whoever takes this action becomes the case's holder")
    hooks: list[Key] = Field(default_factory=list)
    event: Annotated[str, Field(pattern=r"^[a-z_]+\.[a-z_]+\.v\d+$")]
    mail: MailText | None = None
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Filing(Strict):
    roles: list[Role] = Field(default_factory=lambda: [Role.APPLICANT], min_length=1)
    form: Key | None = None
    required_files: list[Key] = Field(default_factory=list)
    optional_files: list[Key] = Field(default_factory=list)
    min_files: int = Field(default=0, ge=0, le=30, description="at least this many files, of any allowed kind")
    one_per: list[Key] = Field(default_factory=list, description='e.g. ["organisation", "period"]')
    event: str = "case.submitted.v1"
    mail: MailText | None = None


class Output(Strict):
    """A numbered document issued on entering a state (a letter, a receipt)."""

    title: Label
    register_name: Annotated[str, Field(pattern=r"^[A-Z0-9.\-]{1,20}$")]
    number_format: str = Field(description="Python format string with {register}, {seq} and {year}")
    template: Key

    @model_validator(mode="after")
    def _formats(self) -> Self:
        try:
            self.number(1, 2026)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"number_format cannot be filled with register, seq and year ({error})") from None
        return self

    def number(self, sequence: int, year: int) -> str:
        return self.number_format.format(register=self.register_name, seq=sequence, year=year)


class Deadline(Strict):
    """A periodic obligation (half-yearly report): due whether or not anything was filed."""

    periods: list[Period] = Field(min_length=1)
    remind_before_days: list[int] = Field(default_factory=list, description="calendar days before the due date")
    remind_after_days: list[int] = Field(default_factory=list, description="calendar days after the due date")
    inactive_after_missed: int = Field(default=2, ge=1, description="consecutive missed periods -> inactive")
    mail_before: MailText | None = None
    mail_after: MailText | None = None
    _due: dict[int, PeriodDue] = PrivateAttr(default_factory=dict)

    def period(self, key: str) -> PeriodDue:
        """ "2026-S1" -> that period with its dates; ValueError for a key of no configured period."""
        year_text, _, short = key.partition("-")
        names = [period.key for period in self.periods]
        if not year_text.isdigit() or len(year_text) != 4 or short not in names:
            raise ValueError(f"'{key}' is not a period (e.g. 2026-{names[0]})")
        return self.at_index(int(year_text) * len(self.periods) + names.index(short))

    def __eq__(self, other: object) -> bool:
        """Equal definitions are equal whatever periods each has remembered (pydantic compares those too)."""
        if not isinstance(other, Deadline):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def at_index(self, index: int) -> PeriodDue:
        """The period ``index`` (year × periods per year + its place): made once per definition, then remembered
        (sweeps and case views ask for the same few periods tens of times per case)."""
        if (known := self._due.get(index)) is None:
            known = self._due[index] = self._period_at(index)
        return known

    def _period_at(self, index: int) -> PeriodDue:
        year, position = divmod(index, len(self.periods))
        period = self.periods[position]
        first, last = period.months
        ends_on = dt.date(year + (last == 12), last % 12 + 1, 1) - dt.timedelta(days=1)
        due_on = dt.date(year + period.due_next_year, period.due_month, period.due_day)
        return PeriodDue(
            key=f"{year}-{period.key}",
            label=f"{period.label} {year}",
            starts_on=dt.date(year, first, 1),
            ends_on=ends_on,
            due_on=due_on,
            index=index,
        )

    def periods_ending_between(self, first: dt.date, last: dt.date) -> list[PeriodDue]:
        """Every period whose last day lies in [first, last], oldest first."""
        index = first.year * len(self.periods) - len(self.periods)
        found = []
        while (period := self.at_index(index)).ends_on <= last:
            if period.ends_on >= first:
                found.append(period)
            index += 1
        return found

    def reminder_offsets(self) -> list[int]:
        """Days relative to the due date at which a reminder is due, in time order (-14, -3, 1, 14)."""
        return sorted([-days for days in self.remind_before_days] + list(self.remind_after_days))


class PeriodDue(BaseModel):
    """One period of one year, e.g. "2026-S1", with its due date (shared by every caller: read-only)."""

    model_config = ConfigDict(frozen=True)

    key: str
    label: str
    starts_on: dt.date
    ends_on: dt.date
    due_on: dt.date
    index: int  # consecutive periods have consecutive indexes (across year ends too)


class Period(Strict):
    """One reporting period of every year: ``months`` is an inclusive [first, last] pair."""

    key: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,4}$")]
    label: Label
    months: tuple[int, int]
    due_month: int = Field(ge=1, le=12)
    due_day: int = Field(ge=1, le=31)
    due_next_year: bool = False

    @model_validator(mode="after")
    def _months(self) -> Self:
        first, last = self.months
        if not 1 <= first <= last <= 12:
            raise ValueError("months must be [first, last] with 1 <= first <= last <= 12")
        dt.date(2025, self.due_month, self.due_day)  # raises for 31 April and the like
        return self


class Workflow(Strict):
    key: Key
    version: int = Field(
        ge=1, description="raise it when the workflow changes; a case keeps the version it began under"
    )
    label: Label
    reference_prefix: Annotated[str, Field(pattern=r"^[A-Z]{2,6}$")]
    initial_state: Key
    filing: Filing
    states: dict[Key, State] = Field(min_length=1)
    actions: dict[Key, Action] = Field(default_factory=dict)
    sla_days: int | None = Field(default=None, ge=1, le=365, description="working days while the clock runs")
    outputs: dict[Key, Output] = Field(default_factory=dict)
    deadline: Deadline | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """Every name a definition uses must exist in it: a typo is caught at start, not mid-case."""
        known = set(self.states)
        if self.initial_state not in known:
            raise ValueError(f"initial_state '{self.initial_state}' is not one of the states")
        for name, action in self.actions.items():
            for state in [*action.from_states, *([action.to] if action.to else [])]:
                if state not in known:
                    raise ValueError(f"actions.{name}: unknown state '{state}'")
            for done in action.requires_done:
                if done not in self.actions:
                    raise ValueError(f"actions.{name}.requires_done: unknown action '{done}'")
            if Need.FORM in action.needs and not action.form:
                raise ValueError(f"actions.{name}: needs a form but names none")
        for name, defined in self.states.items():
            if defined.output and defined.output not in self.outputs:
                raise ValueError(f"states.{name}.output: unknown output '{defined.output}'")
        return self

    def action(self, name: str) -> Action | None:
        return self.actions.get(name)

    def actions_from(self, state: str) -> dict[str, Action]:
        return {name: action for name, action in self.actions.items() if state in action.from_states}


class RegionProfile(Strict):
    """What is regional and not per service: the office, its signer, its clock and its days off."""

    key: Key
    name: Label = Field(description='e.g. "Kota Balikpapan"')
    office_name: Label = "Badan Kesatuan Bangsa dan Politik"
    office_short_name: Label = "Kesbangpol"
    signer_title: Label = "Kepala Badan Kesatuan Bangsa dan Politik"
    timezone: str = "Asia/Makassar"
    timezone_label: Annotated[str, Field(pattern=r"^(WIB|WITA|WIT)$")] = "WITA"
    extra_days_off: list[dt.date] = Field(default_factory=list, description="cuti bersama and local days off")
    published_calendar_until: int = Field(ge=2000, description="the last year whose days off are known")


Deadline.model_rebuild()
