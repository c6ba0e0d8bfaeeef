"""A live consumer's transaction on PostgreSQL, begun by hand with the read model's shared lock
(infra/readmodel.py): an applied event is committed, a failed one leaves nothing, and neither leaves an open
transaction or a lock behind on the pooled connection (real PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from contracts.events import IntegrationEvent
from infra.readmodel import ReadModel
from infra.settings import Settings
from infra.statements import run_all
from infra.storage import read_model_engine
from ops.sources import open_source
from services.submissions.projections import CaseProjection
from tests.support.scenario import submit

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


def test_an_event_that_fails_midway_leaves_nothing_and_the_connection_serves_again(
    settings: Settings, cases, filed
) -> None:  # type: ignore[no-untyped-def]
    def written_then_failed(connection: sa.Connection) -> None:
        run_all(connection, cases.projection.writes(filed))
        raise RuntimeError("the worker failed after writing")

    with pytest.raises(RuntimeError):
        cases.handle(filed, written_then_failed)
    assert _case_rows(settings, str(filed.data["case_id"])) == 0
    assert not cases.seen(filed.event_id)
    assert _left_open(cases) == (0, 0)
    assert cases.handle(filed) is True  # delivered again, it is applied
    assert _case_rows(settings, str(filed.data["case_id"])) == 1
