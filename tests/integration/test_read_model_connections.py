"""The read models' connections to PostgreSQL: a connection that rested in the pool is checked before use (a
database restart meanwhile costs a reconnect, not a failed command); one used a moment ago is not pinged;
an event is recorded as applied once, its duplicate found by the same statement (real PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from infra import storage
from infra.readmodel import ReadModel
from infra.storage import read_model_engine
from ops.sources import open_source
from services.submissions.projections import CaseProjection
from tests.support.scenario import submit

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


def _backend_of(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(settings, pid: int) -> None:
    """What a database restart does to a pooled connection: its server process is gone."""
    with storage.postgres_session(settings.database_url) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_connection_that_rested_is_checked_and_replaced_when_its_server_process_is_gone(
    settings, monkeypatch
) -> None:
    monkeypatch.setattr(storage, "IDLE_BEFORE_PING", 0.0)  # every return to the pool counts as a rest
    engine = read_model_engine(settings, "submissions")
    first = _backend_of(engine)
    _terminate(settings, first)

    assert _backend_of(engine) != first  # checked on its way out, replaced, and the query answered
    engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(settings, monkeypatch) -> None:
    """The counterpart: without the rest, the dead connection is used as it is (no round trip per checkout)."""
    monkeypatch.setattr(storage, "IDLE_BEFORE_PING", 3600.0)
    engine = read_model_engine(settings, "submissions")
    _terminate(settings, _backend_of(engine))

    with pytest.raises(OperationalError):
        _backend_of(engine)
    assert _backend_of(engine) > 0  # SQLAlchemy dropped the broken connection; the next one works
    engine.dispose()


def test_an_event_is_recorded_once_and_its_duplicate_found_by_the_same_statement(settings) -> None:
    source = open_source("submissions", settings)
    submit(source.application)  # type: ignore[arg-type]
    events = [event for _position, event in source.integration_events()]
    source.close()
    cases = ReadModel(CaseProjection(), read_model_engine(settings, "submissions"))

    assert [cases.handle(event) for event in events] == [True] * len(events)
    assert [cases.handle(event) for event in events] == [False] * len(events)
    with cases.engine.connect() as connection:
        recorded = connection.execute(sa.select(sa.func.count()).select_from(cases.projection.processed)).scalar_one()
    assert recorded == len(events)
    cases.close()
