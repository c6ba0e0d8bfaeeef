"""A relay outlives its database and its broker going away: started while one is down it says so in one
line and waits; cut off while running it carries on once it is back; its lock's session killed, it takes
the lock again. Every event is published once and applied once.

Real processes (the services, both relays), real PostgreSQL and RabbitMQ. The shared servers are never
stopped: the submissions relay reaches one of them through a forwarder the test opens, cuts and restores
(tests/support/tls.py), as a restart looks from the relay's side.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from infra.locks import SingleInstanceLock
from infra.settings import Settings
from ops.launcher import System, relay_command
from tests.support.recorded import Audit, all_applied, record_cases, stored_event_ids
from tests.support.system import eventually, free_port, running_system
from tests.support.tls import Forwarder

POSTGRES = ("127.0.0.1", 5432)
RABBITMQ = ("127.0.0.1", 5672)


@contextmanager
def submissions_relay(system: System, log: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """The submissions relay as `satu run` starts it, with ``env`` changed; its output in ``log``."""
    with log.open("ab") as output:
        relay = subprocess.Popen(
            relay_command("submissions"), env=system.env | env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield relay
    finally:
        relay.terminate()
        relay.wait(20)


def lock_session(settings: Settings, name: str) -> int | None:
    """The PostgreSQL backend holding the advisory lock ``name`` (a bigint key: two 32-bit halves) in this
    test's database: pg_locks lists the whole server's, and other systems' relays take the same name."""
    key = SingleInstanceLock(name, None, Path()).key & 0xFFFF_FFFF_FFFF_FFFF
    with psycopg.connect(settings.database_url, autocommit=True) as admin:
        row = admin.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid::bigint = %s AND objid::bigint = %s",
            (key >> 32, key & 0xFFFF_FFFF),
        ).fetchone()
    return None if row is None else int(row[0])


def said_once(log: Path, outage: str) -> None:
    """The relay says ``outage`` once, and nothing more over the next few retries (0.5 + 1 + 2 s)."""
    eventually(lambda: outage in log.read_text(), timeout=30)
    said_before = log.read_text()
    time.sleep(4)
    said = log.read_text()
    assert said == said_before and said.count(outage) == 1 and "Traceback" not in said


def published_once_and_applied_once(settings: Settings, audit: Audit, rounds: int) -> None:
    eventually(lambda: all_applied(settings, rounds), timeout=60)
    time.sleep(1)  # a duplicate, if any were published, would have arrived by now
    assert sorted(audit.received()) == sorted(stored_event_ids(settings))
    assert all_applied(settings, rounds)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_relay_rides_out_the_database_being_down_at_start_cut_off_and_its_lock_session_killed(
    settings: Settings, amqp_uri: str
) -> None:
    port = free_port()  # where the relay looks for the database; nothing answers there yet
    through_forwarder = settings.database_url.replace("127.0.0.1:5432", f"127.0.0.1:{port}")
    audit = Audit(amqp_uri)
    with running_system(settings, amqp_uri, relays=False, gateway=False) as system:
        system.spawn("relay-registry", relay_command("registry"))
        log = system.log_dir / "relay-submissions.log"
        record_cases(settings, "satu@ormas.or.id")
        with submissions_relay(system, log, SATU_DATABASE_URL=through_forwarder):
            # 1. Started while the database is down: one line, then quiet pauses; no traceback, no exit.
            said_once(log, "the database is unreachable")
            forwarder = Forwarder(target=POSTGRES, port=port)  # the database is back
            published_once_and_applied_once(settings, audit, rounds=1)

            # 2. A database restart as the relay sees it: every connection dropped (the lock's session with
            #    them), the database away while cases are recorded, then back.
            forwarder.close()
            record_cases(settings, "dua@ormas.or.id")
            time.sleep(3)
            forwarder = Forwarder(target=POSTGRES, port=port)
            published_once_and_applied_once(settings, audit, rounds=2)

            # 3. The lock's session killed alone: the relay takes the lock again.
            holder = eventually(lambda: lock_session(settings, "relay-submissions"))
            with psycopg.connect(settings.database_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (holder,))
            time.sleep(1.5)  # longer than a lease: the relay asks the server before it publishes again
            record_cases(settings, "tiga@ormas.or.id")
            published_once_and_applied_once(settings, audit, rounds=3)
            assert lock_session(settings, "relay-submissions") not in (None, holder)
    forwarder.close()
    said = log.read_text()
    assert "Traceback" not in said, said
    # One line per outage the relay met: the first one; the restart, unless the relay needed nothing from the
    # database while it lasted (it keeps its position in memory while it holds its lock).
    assert said.count("the database is unreachable") in (1, 2), said
    assert said.count("holds its lock again") == 2, said  # the whole log when not: it tells which fault
    audit.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_relay_rides_out_the_broker_being_down_at_start_and_restarting(settings: Settings, amqp_uri: str) -> None:
    port = free_port()  # where the relay looks for the broker; nothing answers there yet
    audit = Audit(amqp_uri)
    with running_system(settings, amqp_uri, relays=False, gateway=False) as system:
        system.spawn("relay-registry", relay_command("registry"))
        log = system.log_dir / "relay-submissions.log"
        record_cases(settings, "satu@ormas.or.id")
        with submissions_relay(system, log, SATU_AMQP_URI=amqp_uri.replace("127.0.0.1:5672", f"127.0.0.1:{port}")):
            said_once(log, "RabbitMQ is unreachable")
            forwarder = Forwarder(target=RABBITMQ, port=port)  # the broker is back
            published_once_and_applied_once(settings, audit, rounds=1)

            forwarder.close()  # the broker restarts while cases are recorded
            record_cases(settings, "dua@ormas.or.id")
            time.sleep(3)
            forwarder = Forwarder(target=RABBITMQ, port=port)
            published_once_and_applied_once(settings, audit, rounds=2)
    forwarder.close()
    said = log.read_text()
    assert "Traceback" not in said
    assert said.count("the broker is unreachable") == 1
    audit.close()
