"""What counts as the database being away (answered 503, "retry"; said once per outage) and what is a failed
statement (a deadlock, a timeout, a schema error: the caller is told the service failed, with the message in
the log), on both backends; and a long outage's pauses never overflow."""

from __future__ import annotations

import logging
import sqlite3

import eventsourcing.persistence
import psycopg
import pytest
import sqlalchemy.exc

from infra.outages import Outage, is_outage


def _wrapped(driver_error: BaseException) -> sqlalchemy.exc.OperationalError:
    return sqlalchemy.exc.OperationalError("SELECT 1", {}, driver_error)


def _from_library(driver_error: BaseException) -> eventsourcing.persistence.OperationalError:
    try:
        raise eventsourcing.persistence.OperationalError(str(driver_error)) from driver_error
    except eventsourcing.persistence.OperationalError as error:
        return error


@pytest.mark.parametrize(
    ("error", "away"),
    [
        (_wrapped(psycopg.OperationalError("connection failed: Connection refused")), True),
        (_from_library(psycopg.OperationalError("couldn't get a connection after 2.00 sec")), True),
        (_wrapped(psycopg.errors.AdminShutdown("terminating connection due to administrator command")), True),
        (_wrapped(psycopg.errors.CannotConnectNow("the database system is starting up")), True),
        (_wrapped(sqlite3.OperationalError("database is locked")), True),
        (eventsourcing.persistence.ConnectionUnavailableError("Timed out waiting for return of writer"), True),
        (_wrapped(psycopg.errors.DeadlockDetected("deadlock detected")), False),
        (_wrapped(psycopg.errors.QueryCanceled("canceling statement due to statement timeout")), False),
        (_wrapped(psycopg.errors.LockNotAvailable("could not obtain lock")), False),
        (_wrapped(sqlite3.OperationalError("no such table: cases")), False),
    ],
    ids=[
        "refused",
        "no connection from the pool",
        "server shutting down",
        "server starting",
        "SQLite file held",
        "SQLite writer busy",
        "deadlock",
        "statement timeout",
        "lock timeout",
        "schema error",
    ],
)
def test_the_database_away_is_told_from_a_failed_statement(error: BaseException, away: bool) -> None:
    assert is_outage(error) is away


def test_a_long_outage_asked_again_and_again_never_overflows() -> None:
    outage = Outage("the database of submissions", logging.getLogger("test"))
    pauses = [outage.failed(ConnectionError(n)) for n in range(3000)]
    assert pauses[:3] == [0.5, 1.0, 2.0] and max(pauses) == 30.0
