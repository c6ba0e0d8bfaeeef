"""The case list and the work queue page by keyset on SQLite and PostgreSQL: cases filed at the very same
moment (to the microsecond) are ordered by id and each is reached once, whatever the page size."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from contracts.identity import Caller, Role
from infra.catalogue import load_catalogue
from infra.readmodel import ReadModel
from infra.settings import Settings
from infra.storage import read_model_engine
from services.submissions.projections import CaseProjection
from services.submissions.readmodels import list_cases, queue_states, work_queue

MOMENTS = [dt.datetime(2026, 3, 2, 9, 15, 0, 123456, tzinfo=dt.UTC) + dt.timedelta(seconds=n) for n in range(5)]
STATES = [("skm", "submitted"), ("skm", "resubmitted"), ("skm", "forwarded"), ("report", "submitted"),
          ("report", "accepted"), ("skm", "approved")]  # fmt: skip


@pytest.fixture
def cases(settings: Settings) -> tuple[sa.Engine, CaseProjection, list[dict[str, Any]]]:
    """230 cases over 5 moments: ~46 filed (and last changed) at each, in six states of two services."""
    engine, projection = read_model_engine(settings, "submissions"), CaseProjection()
    ReadModel(projection, engine)  # the tables, as a service makes them
    rows = [
        {
            "case_id": str(uuid.UUID(int=(n * 7919) % 1000003)),
            "reference": f"SKM-2026-{n:08X}",
            "service": STATES[n % 6][0],
            "organisation_id": f"org-{n % 3}",
            "organisation_name": f"Ormas {n % 3}",
            "status": STATES[n % 6][1],
            "submitted_at": MOMENTS[n % 5],
            "updated_at": MOMENTS[(n * 3) % 5],
            "version": 1,
        }
        for n in range(230)
    ]
    with engine.begin() as connection:
        connection.execute(projection.cases.insert(), rows)
    yield engine, projection, rows
    engine.dispose()


def _all_pages(page: Callable[[str | None], dict[str, Any]]) -> list[str]:
    seen, cursor = [], None
    while True:
        answer = page(cursor)
        seen += [row["case_id"] for row in answer["items"]]
        cursor = answer["next_cursor"]
        if cursor is None:
            return seen


@pytest.mark.parametrize("limit", [1, 7, 46, 229, 1000])
def test_the_case_list_reaches_every_case_once_newest_first(cases, limit: int) -> None:
    engine, projection, rows = cases
    staff = Caller(user_id="staff", role=Role.AUDITOR)

    seen = _all_pages(lambda cursor: list_cases(engine, projection, staff, None, cursor, limit))

    newest_first = sorted(rows, key=lambda row: (row["submitted_at"], row["case_id"]), reverse=True)
    assert seen == [row["case_id"] for row in newest_first]


def test_a_status_and_an_organisation_page_within_themselves(cases) -> None:
    engine, projection, rows = cases
    applicant = Caller(user_id="a", role=Role.APPLICANT, organisation_id="org-1")

    theirs = _all_pages(lambda cursor: list_cases(engine, projection, applicant, "submitted", cursor, 4))

    wanted = [row for row in rows if row["organisation_id"] == "org-1" and row["status"] == "submitted"]
    assert theirs == [row["case_id"] for row in sorted(wanted, key=lambda r: (r["submitted_at"], r["case_id"]))[::-1]]


@pytest.mark.parametrize("role", [Role.VERIFIER, Role.APPROVER])
def test_the_work_queue_reaches_every_waiting_case_once_longest_waiting_first(cases, role: Role) -> None:
    engine, projection, rows = cases
    catalogue = load_catalogue()

    seen = _all_pages(
        lambda cursor: work_queue(engine, projection, Caller(user_id="s", role=role), catalogue, cursor, 9)
    )

    waiting = [row for row in rows if (row["service"], row["status"]) in queue_states(catalogue, role)]
    assert waiting and seen == [
        row["case_id"] for row in sorted(waiting, key=lambda r: (r["updated_at"], r["case_id"]))
    ]
