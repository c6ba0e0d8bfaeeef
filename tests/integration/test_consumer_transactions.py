"""A live consumer's transaction on PostgreSQL, begun by hand with the read model's shared lock
(infra/readmodel.py): an applied event is committed, a failed one leaves nothing, and neither leaves an open
transaction or a lock behind on the pooled connection (real PostgreSQL)."""

from __future__ import annotations

import logging
import os
import signal
import threading
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from contracts.events import IntegrationEvent
from infra.readmodel import ReadModel
from infra.settings import Settings
from infra.storage import read_model_engine
from ops.sources import open_source
from services.submissions.projections import CaseProjection
from tests.support.scenario import submit
from tests.support.system import eventually

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


@pytest.fixture
def filed(settings: Settings) -> IntegrationEvent:
    source = open_source("submissions", settings)
    submit(source.application)  # type: ignore[arg-type]
    [(_position, event)] = list(source.integration_events())
    source.close()
    return event


@pytest.fixture
def cases(settings: Settings) -> Iterator[ReadModel]:
    read_model = ReadModel(CaseProjection(), read_model_engine(settings, "submissions"))
    yield read_model
    read_model.close()


def _case_rows(settings: Settings, case_id: str) -> int:
    engine = read_model_engine(settings, "submissions")  # a connection of its own: sees only what was committed
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM cases WHERE case_id = :id"), {"id": case_id})
        rows = int(count.scalar_one())
    engine.dispose()
    return rows


# Transactions left open on this database, and advisory locks held on it (while the pool's connections rest).
LEFT_OPEN = sa.text(
    "SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND state LIKE 'idle in transaction%'), (SELECT count(*) FROM pg_locks l JOIN pg_database d "
    "ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = current_database())"
)


def _left_open(cases: ReadModel) -> tuple[int, int]:
    with cases.engine.connect() as connection:
        transactions, locks = connection.execute(LEFT_OPEN).one()
    return int(transactions), int(locks)


def test_an_applied_event_is_committed_and_leaves_nothing_open(settings: Settings, cases, filed) -> None:  # type: ignore[no-untyped-def]
    assert cases.handle(filed) is True
    assert _case_rows(settings, str(filed.data["case_id"])) == 1
    assert _left_open(cases) == (0, 0)
    assert cases.handle(filed) is False  # a redelivery: found applied


FAILING = sa.text("SELECT 1 / (:zero)::int")  # PostgreSQL: division by zero


@pytest.mark.parametrize("path", ["pipelined", "statement by statement"])
def test_an_event_that_fails_midway_leaves_nothing_and_the_connection_serves_again(
    settings: Settings, cases, filed, path: str
) -> None:  # type: ignore[no-untyped-def]
    # Its writes, then one that fails. A write of several rows is one the pipeline does not send
    # (infra/pipelined.py): such an event's statements go one by one, as they did before it.
    failing = (FAILING, {"zero": 0}) if path == "pipelined" else (FAILING, [{"zero": 0}])
    writes = [*cases.projection.writes(filed), failing]
    assert (cases._driver_forms(filed, writes) is not None) == (path == "pipelined")

    with pytest.raises(sa.exc.DataError):  # as SQLAlchemy raises it, either way
        cases.handle(filed, writes)
    assert _case_rows(settings, str(filed.data["case_id"])) == 0
    assert not cases.seen(filed.event_id)
    assert _left_open(cases) == (0, 0)
    assert cases.handle(filed) is True  # delivered again, it is applied
    assert _case_rows(settings, str(filed.data["case_id"])) == 1


def test_a_duplicate_sent_with_its_writes_has_them_undone(settings: Settings, cases, filed) -> None:  # type: ignore[no-untyped-def]
    """The claim, the writes and BEGIN go out together (infra/pipelined.py); a duplicate's writes, made before
    the claim's answer came back, are rolled back: a redelivery changes nothing. (Here it comes as a later
    step, a new timeline row and a status the case row would take, if its writes were committed.)"""
    assert cases.handle(filed) is True
    later = filed.model_copy(update={"data": {**filed.data, "status": "approved"}, "aggregate_version": 2})
    assert cases._driver_forms(later, cases.projection.writes(later)) is not None  # the pipelined path
    assert cases.handle(later) is False
    assert _case(settings, str(filed.data["case_id"])) == (str(filed.data["status"]), 1)
    assert _left_open(cases) == (0, 0)


def _case(settings: Settings, case_id: str) -> tuple[str, int]:
    """The case row's status, and how many steps its timeline holds."""
    engine = read_model_engine(settings, "submissions")
    with engine.connect() as connection:
        status = connection.execute(sa.text("SELECT status FROM cases WHERE case_id = :id"), {"id": case_id})
        steps = connection.execute(sa.text("SELECT count(*) FROM case_timeline WHERE case_id = :id"), {"id": case_id})
        found = (str(status.scalar_one()), int(steps.scalar_one()))
    engine.dispose()
    return found


def test_failed_pipelines_leave_the_connection_serving_past_the_statements_prepare_threshold(
    settings: Settings, cases
) -> None:  # type: ignore[no-untyped-def]
    """psycopg prepares a statement on its fifth run; one that sat behind a failed statement in a pipeline
    would be taken as prepared though the server never made it, and fail on that connection from then on.
    Twelve events, each first failing before its writes, then applied, then delivered again."""
    source = open_source("submissions", settings)
    for _ in range(12):
        submit(source.application)  # type: ignore[arg-type]
    events = [event.at(position) for position, event in source.integration_events()]
    source.close()
    for event in events:
        with pytest.raises(sa.exc.DataError):
            cases.handle(event, [(FAILING, {"zero": 0}), *cases.projection.writes(event)])
        assert cases.handle(event) is True
        assert cases.handle(event) is False
    assert _left_open(cases) == (0, 0)


def test_an_event_whose_commit_fails_is_not_taken_for_a_duplicate(settings: Settings, cases, filed) -> None:  # type: ignore[no-untyped-def]
    """A constraint checked at COMMIT: the event is not recorded, and the worker hears of it (the broker
    delivers it again), instead of dropping it as seen."""
    assert cases.handle(filed) is True
    with cases.engine.begin() as connection:
        connection.execute(
            sa.text("ALTER TABLE cases ADD CONSTRAINT one_reference UNIQUE (reference) DEFERRABLE INITIALLY DEFERRED")
        )
    other_case = str(uuid.uuid4())
    twin = filed.model_copy(update={"event_id": str(uuid.uuid4()), "aggregate_id": other_case})
    twin = twin.model_copy(update={"data": {**filed.data, "case_id": other_case}})
    with pytest.raises(RuntimeError, match="could not apply"):  # an IntegrityError each time, retried, then given up
        cases.handle(twin)
    assert not cases.seen(twin.event_id)
    assert _case_rows(settings, other_case) == 0
    assert _left_open(cases) == (0, 0)


def test_connections_the_server_dropped_are_replaced_without_an_outage(
    settings: Settings, cases, filed, caplog
) -> None:  # type: ignore[no-untyped-def]
    """A database restart ends every pooled connection: the first event to meet one is tried again on a new
    one at once, as on SQLAlchemy's own path, not after the pause of an outage."""
    with cases.engine.connect() as first, cases.engine.connect() as second:  # two in the pool, then resting
        pids = [int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()) for connection in (first, second)]
    killer = read_model_engine(settings, "submissions")
    with killer.connect() as admin:
        for pid in pids:
            admin.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
    killer.dispose()
    with caplog.at_level(logging.WARNING):
        assert cases.handle(filed) is True
    assert "unreachable" not in caplog.text
    assert _case_rows(settings, str(filed.data["case_id"])) == 1


class Stopped(BaseException):
    """What a worker told to stop meets mid-statement (GreenletExit, a timeout): not an Exception."""


def test_a_worker_stopped_mid_pipeline_stops_and_its_connection_is_discarded(settings: Settings, cases, filed) -> None:  # type: ignore[no-untyped-def]
    """psycopg, leaving pipeline mode while the server still works, replaces the interruption with an error of
    its own: the worker must still stop (not retry, nor take the event for applied), and the connection, in an
    unknown state, must not go back to the pool."""

    def stop(_signum: int, _frame: object) -> None:
        raise Stopped

    # SIGUSR1 from a timer thread (not SIGALRM, which pytest-timeout keeps for itself).
    previous = signal.signal(signal.SIGUSR1, stop)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGUSR1))
    timer.start()
    try:
        with pytest.raises(Stopped):
            cases.handle(
                filed, [(sa.text("SELECT pg_sleep(:seconds)"), {"seconds": 3}), *cases.projection.writes(filed)]
            )
    finally:
        timer.cancel()  # not fired yet (a failure sooner): it must not kill the test process afterwards
        timer.join()
        signal.signal(signal.SIGUSR1, previous)
    eventually(lambda: _left_open(cases) == (0, 0), timeout=10)  # the discarded session's server process ends
    # The server had the whole transaction, COMMIT included, and may have finished it: delivered again, the
    # event is applied, or found applied; once either way.
    recorded = cases.seen(filed.event_id)
    assert cases.handle(filed) is not recorded
    assert _case_rows(settings, str(filed.data["case_id"])) == 1
