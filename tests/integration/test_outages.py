"""A consumer whose database is down gives the message back after a pause that grows, with one line in
the log for the whole outage, and goes on when the database is back (real PostgreSQL, a dead port)."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from infra import readmodel
from infra.readmodel import ReadModel
from infra.storage import read_model_engine
from ops.sources import open_source
from services.submissions.projections import CaseProjection
from tests.support.scenario import submit

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


def test_an_outage_is_one_line_and_growing_pauses_then_the_consumer_goes_on(settings, monkeypatch, caplog) -> None:
    source = open_source("submissions", settings)
    submit(source.application)  # type: ignore[arg-type]
    [(_position, event)] = list(source.integration_events())
    source.close()
    live = read_model_engine(settings, "submissions")
    cases = ReadModel(CaseProjection(), live)
    pauses: list[float] = []
    monkeypatch.setattr(readmodel.time, "sleep", pauses.append)  # the pauses are recorded, not waited out
    cases.engine = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/gone")  # the database is down

    with caplog.at_level(logging.WARNING, logger="infra.readmodel"):
        for _ in range(4):  # the broker redelivers the message each time it is given back
            with pytest.raises(OperationalError):
                cases.handle(event)
        cases.engine = live  # the database is back
        assert cases.handle(event) is True

    assert pauses == [0.5, 1.0, 2.0, 4.0]
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2
    assert "the database of submissions.cases is unreachable" in lines[0] and "answers again" in lines[1]
    live.dispose()
