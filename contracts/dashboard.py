"""What the managers' dashboard answers: per service, its cases by status, how many are overdue or paused,
and how many wait in each staff role's work queue, counted at ``as_of`` (the submissions service counts
again every SATU_DASHBOARD_REFRESH_SECONDS)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class StatusCount(BaseModel):
    status: str
    label: str = Field(description="the status's words in the region's workflow definition")
    cases: int


class ServiceFigures(BaseModel):
    service: str
    label: str = Field(description="the service's name in the region's workflow definition")
    cases: int = Field(description="every case of the service")
    open: int = Field(description="cases not in a final state")
    overdue: int = Field(description="open cases announced past their service level")
    paused: int = Field(description="cases whose service-level clock is paused (waiting for the applicant)")
    by_status: list[StatusCount] = Field(description="every state of the workflow, in its definition's order")
    queues: dict[str, int] = Field(description="role -> cases waiting in that role's work queue")


class Dashboard(BaseModel):
    as_of: dt.datetime | None = Field(description="when these figures were counted; null: not counted yet")
    refresh_seconds: float = Field(description="how often the figures are counted again")
    services: list[ServiceFigures]
