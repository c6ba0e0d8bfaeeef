"""A service's log during an outage: a lost broker or database, or a question another service left unanswered
(the event goes back to the broker and is handled again), is one line per event, not a screen of traceback;
any other error keeps its traceback."""

from __future__ import annotations

import logging
import sys

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
