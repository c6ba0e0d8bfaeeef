"""The case list does not depend on the order a case's events arrive in (SQLite and PostgreSQL).

Several consumer workers apply a case's events concurrently, a delivery may come late, and a rebuild by
position ranges applies batches out of order: whatever the order, the case's row and timeline must end as
they do when its events are applied one by one in order. The events are a real case's, made through the
application (tests/support/scenario.py ``worked_case``: every kind of step that moves a column).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from contracts.events import IntegrationEvent
from infra.readmodel import ReadModel
from infra.replay import replay
from infra.settings import Settings
from infra.storage import read_model_engine
from ops.sources import open_source
from services.submissions.projections import CaseProjection
from tests.support.scenario import accepted_report, load_walking_skeleton_events, worked_case

# Each example starts from empty tables (``rows_after``), so the read model may outlive one example.
examples = hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def stored_events(settings: Settings, write: Any) -> list[IntegrationEvent]:
    """The integration events of what ``write(application)`` stored in the submissions store."""
    source = open_source("submissions", settings)
    try:
        write(source.application)
        return [event for _position, event in source.integration_events()]
    finally:
        source.close()


@pytest.fixture
def case_events(settings: Settings) -> list[IntegrationEvent]:
    return stored_events(settings, worked_case)


@pytest.fixture
def report_events(settings: Settings) -> list[IntegrationEvent]:
    return stored_events(settings, accepted_report)


@pytest.fixture
def walking_skeleton_events(settings: Settings) -> tuple[list[IntegrationEvent], dict[str, Any]]:
    """Events of three cases as the walking skeleton stored them, before the case kernel (old topics)."""
    loaded: dict[str, Any] = {}
    events = stored_events(settings, lambda application: loaded.update(load_walking_skeleton_events(application)))
    return events, loaded["views"]


@pytest.fixture
def cases(settings: Settings) -> Iterator[ReadModel]:
    model = ReadModel(CaseProjection(), read_model_engine(settings, "submissions"))
    yield model
    model.close()


def rows_after(model: ReadModel, apply: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The case rows and timeline rows after ``apply(model)`` on empty tables."""
    projection: Any = model.projection
    with model.engine.begin() as connection:
        for table in (projection.cases, projection.timeline, projection.processed):
            connection.execute(table.delete())
    apply(model)
    with model.engine.connect() as connection:
        case_rows = connection.execute(sa.select(projection.cases).order_by(projection.cases.c.case_id)).all()
        timeline = projection.timeline
        steps = connection.execute(sa.select(timeline).order_by(timeline.c.case_id, timeline.c.version)).all()
    return [row._asdict() for row in case_rows], [row._asdict() for row in steps]


def utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive values; everything is stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def one_by_one(events: list[IntegrationEvent]) -> Any:
    """As the live consumers apply them: an event per transaction."""
    return lambda model: [model.handle(event) for event in events]


def in_batches(events: list[IntegrationEvent], size: int) -> Any:
    """As a rebuild applies them: each statement once per batch (an upsert's rows of one case folded into one
    first)."""
    numbered = list(enumerate(events, start=1))
    return lambda model: replay(model.engine, model.projection, numbered, lambda _position: None, size)


def test_the_worked_case_moves_every_column(case_events: list[IntegrationEvent], cases: ReadModel) -> None:
    (shown,), steps = rows_after(cases, one_by_one(case_events))
    assert len(steps) == len(case_events) == 10
    assert shown["status"] == "approved" and shown["letter_number"].startswith("SKM/")
    assert (shown["assignee_id"], shown["clock"], shown["overdue"]) == ("u-approver", "stopped", True)


@examples
@given(order=st.data())
def test_any_order_of_a_case_s_events_gives_the_row_of_their_order(
    case_events: list[IntegrationEvent], cases: ReadModel, order: st.DataObject
) -> None:
    shuffled = order.draw(st.permutations(case_events), label="order")
    assert rows_after(cases, one_by_one(shuffled)) == rows_after(cases, one_by_one(case_events))


@examples
@given(order=st.data())
def test_batches_out_of_order_give_the_row_of_the_events_in_order(
    case_events: list[IntegrationEvent], cases: ReadModel, order: st.DataObject
) -> None:
    shuffled = order.draw(st.permutations(case_events), label="order")
    size = order.draw(st.integers(min_value=1, max_value=len(case_events)), label="batch size")
    assert rows_after(cases, in_batches(shuffled, size)) == rows_after(cases, one_by_one(case_events))


@examples
@given(order=st.data())
def test_the_walking_skeleton_s_stored_events_give_the_same_rows_in_any_order(
    walking_skeleton_events: tuple[list[IntegrationEvent], dict[str, Any]], cases: ReadModel, order: st.DataObject
) -> None:
    events, views = walking_skeleton_events
    in_order, steps = rows_after(cases, one_by_one(events))
    shown = {row["case_id"]: (row["status"], row["letter_number"]) for row in in_order}
    assert shown == {case_id: (view["status"], (view["letter"] or {}).get("number")) for case_id, view in views.items()}
    shuffled = order.draw(st.permutations(events), label="order")
    assert rows_after(cases, one_by_one(shuffled)) == (in_order, steps)


@examples
@given(order=st.data())
def test_a_report_is_dated_by_its_sending_in_any_order(
    report_events: list[IntegrationEvent], cases: ReadModel, order: st.DataObject
) -> None:
    drafted, updated, sent, accepted = report_events
    shuffled = order.draw(st.permutations(report_events), label="order")
    (row,), _steps = in_order = rows_after(cases, one_by_one(report_events))
    assert (utc(row["submitted_at"]), row["status"], row["clock"]) == (sent.occurred_at, "accepted", "stopped")
    assert rows_after(cases, one_by_one(shuffled)) == in_order
    (draft,), _steps = rows_after(cases, one_by_one([updated, drafted]))  # not sent yet: dated by its opening
    assert utc(draft["submitted_at"]) == drafted.occurred_at


def test_a_batch_writes_each_case_s_row_once(case_events: list[IntegrationEvent], cases: ReadModel) -> None:
    """A rebuild folds a case's events of one batch into one row before it writes (infra/merge.py): ten upserts
    of the same row were ten statements on PostgreSQL, and nine dead row versions in the table and its indexes."""
    rows_sent: list[int] = []

    def count(_connection: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        if statement.lstrip().startswith("INSERT INTO cases"):
            rows_sent.append(len(parameters) if many else 1)

    sa.event.listen(cases.engine, "before_cursor_execute", count)
    try:
        (row,), steps = rows_after(cases, in_batches(case_events, len(case_events)))
    finally:
        sa.event.remove(cases.engine, "before_cursor_execute", count)
    assert rows_sent == [1]
    assert len(steps) == len(case_events) and (row["status"], row["version"]) == ("approved", len(case_events))
