"""A relay wakes when its store commits, and keeps its single-instance lock through a database session
dying: real RabbitMQ, SQLite and PostgreSQL, the relay in a thread of the test.

The relay's safety poll is set to a minute, longer than any wait here: an event that reaches the broker
sooner was woken by the commit, not found by the poll.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from infra.locks import LEASE_SECONDS, SingleInstanceLock
from infra.relay import Relay
from infra.settings import Settings
from infra.storage import event_store_env
from infra.wake import PostgresCommits
from ops.relay import build_relay
from services.submissions.application import build_application
from tests.support.recorded import Audit, mark_published, stored_event_ids
from tests.support.scenario import submit
from tests.support.system import eventually

SAFETY_POLL = 60.0
WITHIN = 20.0  # well under SAFETY_POLL

WRITER = """
from infra.settings import Settings
from infra.storage import event_store_env
from services.submissions.application import build_application
from tests.support.recorded import Audit, stored_event_ids
from tests.support.scenario import submit
settings = Settings()
app = build_application(event_store_env(settings, "submissions"), settings)
for _ in range({cases}):
    submit(app)
app.close()
"""


def write_in_another_process(settings: Settings, cases: int) -> None:
    """What a service does: commit events from a process of its own."""
    env = {**os.environ, "SATU_ENV": "test", "SATU_VAR_DIR": str(settings.var_dir)}
    env["SATU_DATABASE_URL"] = settings.database_url
    subprocess.run([sys.executable, "-c", WRITER.format(cases=cases)], env=env, check=True, timeout=60)


def write_here(settings: Settings, cases: int) -> None:
    app = build_application(event_store_env(settings, "submissions"), settings)
    for _ in range(cases):
        submit(app)
    app.close()


@contextmanager
def relay_running(settings: Settings, amqp_uri: str) -> Iterator[tuple[Relay, Audit]]:
    settings = settings.model_copy(update={"amqp_uri": amqp_uri})
    audit = Audit(amqp_uri)  # bound before the relay publishes anything
    relay = build_relay("submissions", settings)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop, SAFETY_POLL), daemon=True)
    thread.start()
    try:
        yield relay, audit
    finally:
        stop.set()
        thread.join(10)
        audit.close()
        relay.application.close()


def all_published_once(settings: Settings, audit: Audit) -> bool:
    ids = audit.received()
    return sorted(ids) == sorted(stored_event_ids(settings))


def terminate_backend(settings: Settings, pid: int | None) -> None:
    assert pid is not None
    with psycopg.connect(settings.database_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_events_committed_by_another_process_wake_the_relay(settings: Settings, amqp_uri: str) -> None:
    write_here(settings, 1)
    with relay_running(settings, amqp_uri) as (_relay, audit):
        eventually(lambda: all_published_once(settings, audit), timeout=WITHIN)  # the first look at start
        write_in_another_process(settings, 3)
        eventually(lambda: len(audit.received()) == 4, timeout=WITHIN)
        assert all_published_once(settings, audit)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_killed_listen_connection_is_noticed_and_opened_again(settings: Settings, amqp_uri: str) -> None:
    with relay_running(settings, amqp_uri) as (relay, audit):
        commits = relay.commits
        assert isinstance(commits, PostgresCommits)
        listening = eventually(lambda: commits.backend_pid)
        terminate_backend(settings, listening)  # the LISTEN session dies (as in a database restart)
        eventually(lambda: commits.backend_pid not in (None, listening), timeout=WITHIN)
        write_in_another_process(settings, 2)
        eventually(lambda: len(audit.received()) == 2, timeout=WITHIN)
        assert all_published_once(settings, audit)


def published_one_then_lost_the_lock(settings: Settings, relay: Relay, audit: Audit) -> SingleInstanceLock:
    """The relay publishes an event; then its lock's session dies and another relay takes the lock, and may act
    (its takeover pause is over). Returns the other relay's lock."""
    holding = eventually(lambda: relay.lock.backend_pid)
    write_here(settings, 1)
    eventually(lambda: len(audit.received()) == 1, timeout=WITHIN)
    other = SingleInstanceLock(relay.lock.name, settings.database_url, settings.var_dir)
    terminate_backend(settings, holding)
    eventually(other.try_acquire)
    time.sleep(other.takeover_seconds)
    return other


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_relay_whose_lock_session_died_takes_it_again_or_waits_for_the_relay_that_took_it(
    settings: Settings, amqp_uri: str
) -> None:
    with relay_running(settings, amqp_uri) as (relay, audit):
        # 1. The lock's session dies and another relay takes the lock first. Once the other may act (after
        #    its takeover pause), this one publishes nothing: woken by the commits, it finds the lock taken.
        other = published_one_then_lost_the_lock(settings, relay, audit)
        write_here(settings, 2)
        time.sleep(3)
        assert len(audit.received()) == 1
        other.release()  # the other relay stops
        eventually(lambda: len(audit.received()) == 3, timeout=WITHIN)

        # 2. Its session dies again, nobody else wants the lock: it takes it again and goes on.
        holding = eventually(lambda: relay.lock.backend_pid)
        terminate_backend(settings, holding)
        time.sleep(LEASE_SECONDS)  # what it confirmed last is stale now: it asks the server before publishing
        write_here(settings, 2)
        eventually(lambda: len(audit.received()) == 5, timeout=WITHIN)
        assert relay.lock.backend_pid not in (None, holding)
        assert all_published_once(settings, audit)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_relay_that_takes_its_lock_back_goes_on_from_where_the_other_relay_stopped(
    settings: Settings, amqp_uri: str
) -> None:
    """A relay keeps its position in memory while it holds its lock; one that lost the lock must read it again,
    or it would publish again what the relay holding the lock meanwhile published."""
    with relay_running(settings, amqp_uri) as (relay, audit):
        other = published_one_then_lost_the_lock(settings, relay, audit)
        write_here(settings, 2)  # the other relay publishes these (to consumers this test does not watch)
        recorder = relay.application.recorder
        mark_published(relay.position_engine, "submissions", recorder, recorder.max_notification_id() or 0)
        time.sleep(3)
        other.release()

        write_here(settings, 1)
        eventually(lambda: len(audit.received()) == 2, timeout=WITHIN)
        time.sleep(2)  # nothing else comes
        assert len(audit.received()) == 2
