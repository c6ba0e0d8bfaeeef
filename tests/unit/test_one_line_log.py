"""A service's log during an outage: a lost broker or database, or a question another service left unanswered
(the event goes back to the broker and is handled again), is one line per event, not a screen of traceback;
any other error keeps its traceback."""

from __future__ import annotations

import logging
import sys

import psycopg
import pytest
from kombu.exceptions import OperationalError
from nameko.exceptions import RpcTimeout

from infra.broker_outage import OneLine


def _logged(error: BaseException) -> str:
    try:
        raise error
    except type(error):
        record = logging.LogRecord(
            "nameko.containers", logging.ERROR, __file__, 1, "error handling worker %s", ("w",), sys.exc_info()
        )
    OneLine().filter(record)
    return logging.Formatter().format(record)


@pytest.mark.parametrize(
    "error",
    [RpcTimeout("registry.get_notification_contact gave no answer in 30 s"), OperationalError("connection refused")],
    ids=["unanswered question", "broker away"],
)
def test_an_outage_is_one_line(error: BaseException) -> None:
    line = _logged(error)

    assert line == f"error handling worker w ({type(error).__name__}: {error})"


def test_any_other_error_keeps_its_traceback() -> None:
    assert "Traceback (most recent call last)" in _logged(KeyError("bug"))


class _Worker:
    """What nameko logs about: a worker of an entrypoint."""

    def __init__(self, entrypoint: object) -> None:
        self.entrypoint = entrypoint


def test_a_request_failing_on_the_database_leaves_no_line_of_its_own_an_event_one() -> None:
    """The request is answered 'unavailable' and the outage said once by the entrypoint; an event handler's
    failure is still a line (its read model's guard says the outage once too, but the event goes back)."""
    from nameko.events import EventHandler
    from sqlalchemy.exc import OperationalError as DatabaseError

    from infra.broker_outage import ReplyKeepingRpc

    def record_for(entrypoint: object) -> logging.LogRecord:
        try:
            raise DatabaseError("SELECT 1", {}, psycopg.OperationalError("connection failed: Connection refused"))
        except DatabaseError:
            args = (_Worker(entrypoint), "refused")
            return logging.LogRecord(
                "nameko.containers", logging.ERROR, __file__, 1, "error handling worker %s: %s", args, sys.exc_info()
            )

    request = ReplyKeepingRpc.__new__(ReplyKeepingRpc)
    handler = EventHandler.__new__(EventHandler)
    assert OneLine().filter(record_for(request)) is False
    assert OneLine().filter(record_for(handler)) is True
