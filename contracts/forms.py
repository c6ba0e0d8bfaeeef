"""Forms that workflow actions take (named in the definitions): the typed part of a filing or a step.

A definition names a form by key (``form = "field_visit"``); this registry maps the key to its model,
so the catalogue can refuse an unknown name at start-up and the kernel can validate what is sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from contracts.organisations import Printable, not_in_future

OneLine = Annotated[Printable, Field(min_length=2, max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=4000)]


class Form(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldVisit(Form):
    """Berita acara of a field verification: when, who went, what they found (photos are files)."""

    visited_on: Annotated[dt.date, AfterValidator(not_in_future)]
    officers: list[OneLine] = Field(min_length=1, max_length=10)
    findings: Text
    office_matches_address: bool = Field(description="the secretariat exists at the recorded address")


class Activity(Form):
    held_on: dt.date
    title: OneLine
    description: Text | None = None


class HalfYearReport(Form):
    """Laporan semester: the period, what the organisation did in it, and what changed."""

    period: Annotated[str, Field(pattern=r"^\d{4}-S[12]$", description='e.g. "2026-S1"')]
    activities: list[Activity] = Field(default_factory=list, max_length=200)
    no_activity: bool = Field(default=False, description='"no activity" is a valid report')
    board_changed: bool = False
    board_change_note: Text | None = None
    office_changed: bool = False
    new_address: OneLine | None = None
    signed_by_chair: OneLine
    signed_by_secretary: OneLine


FORMS: dict[str, type[Form]] = {"field_visit": FieldVisit, "half_year_report": HalfYearReport}
