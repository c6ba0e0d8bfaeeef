"""PostgreSQL from a nameko service (eventlet, one OS thread): psycopg must wait without stopping the other
workers, and ``infra.green.wait_green`` does so with one listener per wait instead of eventlet's select.
Each check runs in a process of its own, monkey-patched as ``ops.service`` patches a service."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.support.green import GAP_KEEPER, TICKING_WORKER
from tests.support.postgres import PG_ADMIN_URL

PATCHED = textwrap.dedent(
    """
    import eventlet
    eventlet.monkey_patch()
    import json, sys, time
    import infra.green
    infra.green.make_psycopg_green()
    import psycopg
    from psycopg import waiting
    url = sys.argv[1]
    """
)


def _run(script: str, *args: str) -> dict:
    finished = subprocess.run(
        [sys.executable, "-c", PATCHED + textwrap.dedent(script), PG_ADMIN_URL, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    return json.loads(finished.stdout.strip().splitlines()[-1])


def test_a_long_statement_lets_the_other_workers_go_on_and_returns_its_rows() -> None:
    seen = _run(
        TICKING_WORKER
        + textwrap.dedent(
            """
        with psycopg.connect(url) as connection:
            # Longer than psycopg's 0.1 s interval: the wait is told "nothing yet" and goes on waiting.
            rows = connection.execute("SELECT n, pg_sleep(0.2) IS NOT NULL FROM generate_series(1, 3) AS n").fetchall()
        print(json.dumps({"wait": waiting.wait.__name__, "rows": [row[0] for row in rows], "ticks": len(ticks)}))
        """
        )
    )
    assert seen["wait"] == "wait_green"
    assert seen["rows"] == [1, 2, 3]
    assert seen["ticks"] >= 20  # ~120 ticks of 5 ms fit in 0.6 s; a busy machine gets fewer


def test_statements_in_a_pipeline_from_many_workers_are_all_stored() -> None:
    """The event store writes in pipeline mode: several waits per transaction, workers interleaved."""
    seen = _run(
        """
        from psycopg_pool import ConnectionPool
        with psycopg.connect(url, autocommit=True) as setup:
            setup.execute("DROP TABLE IF EXISTS green_pipeline")
            setup.execute("CREATE TABLE green_pipeline (worker int, n int, PRIMARY KEY (worker, n))")
        pool = ConnectionPool(url, min_size=4, max_size=4)
        def write(worker):
            for n in range(25):
                with pool.connection() as connection, connection.pipeline(), connection.transaction():
                    connection.execute("INSERT INTO green_pipeline VALUES (%s, %s)", (worker, n))
                    connection.execute("SELECT count(*) FROM green_pipeline WHERE worker = %s", (worker,))
        workers = eventlet.GreenPool(8)
        list(workers.imap(write, range(8)))
        with pool.connection() as connection:
            count = connection.execute("SELECT count(*) FROM green_pipeline").fetchone()[0]
            connection.execute("DROP TABLE green_pipeline")
        pool.close()
        print(json.dumps({"count": count}))
        """
    )
    assert seen["count"] == 8 * 25


def test_a_connection_killed_during_a_statement_fails_at_once() -> None:
    seen = _run(
        """
        with psycopg.connect(url, autocommit=True) as victim, psycopg.connect(url, autocommit=True) as killer:
            pid = victim.info.backend_pid
            eventlet.spawn_after(0.3, lambda: killer.execute("SELECT pg_terminate_backend(%s)", (pid,)))
            started = time.monotonic()
            try:
                victim.execute("SELECT pg_sleep(30)")
                error = None
            except psycopg.OperationalError as failure:
                error = type(failure).__name__
        print(json.dumps({"error": error, "seconds": time.monotonic() - started}))
        """
    )
    assert seen["error"] is not None
    assert seen["seconds"] < 10  # not the statement's 30 s


def _wait_after(setup: str) -> str:
    """The name of the wait psycopg uses in a process of its own after ``setup``."""
    script = f"{setup}; from psycopg import waiting; print(waiting.wait.__name__)"
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return finished.stdout.strip()


def test_outside_eventlet_psycopg_keeps_its_own_wait() -> None:
    assert _wait_after("import infra.green; infra.green.make_psycopg_green()") == "wait_select"


def test_the_wait_gives_up_at_its_timeout_telling_the_generator_each_idle_interval() -> None:
    """psycopg's contract for a wait with a timeout (used when it cancels a statement), on a socket that never
    becomes readable."""
    seen = _run(
        """
        import socket
        from psycopg import errors
        from psycopg.waiting import WAIT_R
        quiet, _other_end = socket.socketpair()
        told = []
        def waits_to_read():
            while True:
                told.append(int((yield WAIT_R)))
        started = time.monotonic()
        try:
            infra.green.wait_green(waits_to_read(), quiet.fileno(), interval=0.05, timeout=0.3)
            outcome = "returned"
        except errors._WaitTimeout:
            outcome = "timed out"
        _other_end.send(b"x")
        def reads_once():
            ready = yield WAIT_R
            return int(ready)
        print(json.dumps({"outcome": outcome, "seconds": time.monotonic() - started, "told": told,
                          "ready": infra.green.wait_green(reads_once(), quiet.fileno(), interval=0.05)}))
        """
    )
    assert seen["outcome"] == "timed out" and 0.25 <= seen["seconds"] < 5
    assert len(seen["told"]) >= 3 and set(seen["told"]) == {0}  # READY_NONE at each idle interval
    assert seen["ready"] == 1  # READY_R


def test_the_wait_for_writing_or_either_returns_once_the_full_socket_drains() -> None:
    """A socket whose send buffer is full is not writable: the wait for writing (or for either) returns once
    the other end reads."""
    seen = _run(
        """
        import socket
        from psycopg.waiting import WAIT_RW, WAIT_W
        answers = {}
        for name, wanted in (("write", WAIT_W), ("either", WAIT_RW)):
            full, other_end = socket.socketpair()
            full.setblocking(False)
            try:
                while True:
                    full.send(b"x" * 65536)
            except BlockingIOError:
                pass
            def drain():
                eventlet.sleep(0.2)
                other_end.setblocking(False)
                try:
                    while True:
                        other_end.recv(1 << 20)
                except BlockingIOError:
                    pass
            eventlet.spawn(drain)
            def waits_once(wanted=wanted):
                return int((yield wanted))
            started = time.monotonic()
            ready = infra.green.wait_green(waits_once(), full.fileno(), interval=5)
            answers[name] = (ready, time.monotonic() - started)
        print(json.dumps(answers))
        """
    )
    assert seen["write"][0] == 2 and seen["either"][0] == 2  # READY_W
    assert seen["write"][1] >= 0.15 and seen["either"][1] >= 0.15  # it did wait for the drain


def test_a_socket_that_fails_is_a_database_error_whatever_its_number() -> None:
    """A closed descriptor is psycopg's OperationalError (what SQLAlchemy and the outage handling know), not an
    OSError (which the parts would take for the broker's); a descriptor above 1023 is waited on like any other."""
    seen = _run(
        """
        import os, socket
        from psycopg.waiting import WAIT_R
        def waits_once():
            return int((yield WAIT_R))
        high_end, other_end = socket.socketpair()
        high = os.dup2(high_end.fileno(), 2000)
        eventlet.spawn_after(0.1, other_end.send, b"x")
        ready = infra.green.wait_green(waits_once(), high, interval=2)
        closed, _peer = socket.socketpair()
        number = closed.fileno()
        closed.close()
        try:
            infra.green.wait_green(waits_once(), number, interval=0.1)
            error = None
        except Exception as failure:
            error = type(failure).__module__ + "." + type(failure).__name__
        # Nothing left behind in the hub: the next socket given the same number is waited on as any other.
        reused, its_peer = socket.socketpair()
        os.dup2(reused.fileno(), number)
        eventlet.spawn_after(0.1, its_peer.send, b"x")
        again = infra.green.wait_green(waits_once(), number, interval=2)
        print(json.dumps({"closed": error, "high": ready, "reused": again}))
        """
    )
    assert seen["closed"] == "psycopg.OperationalError"
    assert seen["high"] == 1  # READY_R
    assert seen["reused"] == 1


def test_a_long_run_of_ready_answers_lets_the_other_workers_in() -> None:
    """A big write finds the socket ready again and again; the other workers still run every few ms."""
    seen = _run(
        GAP_KEEPER
        + textwrap.dedent(
            """
        import socket
        from psycopg.waiting import WAIT_W
        ready_end, _other_end = socket.socketpair()
        eventlet.spawn(gap_keeper)
        eventlet.sleep(0.01)
        def always_writing():
            until = time.monotonic() + 0.5
            while time.monotonic() < until:
                yield WAIT_W
        infra.green.wait_green(always_writing(), ready_end.fileno(), interval=0.1)
        eventlet.sleep(0.01)  # the ticker notes the gap the wait left, if it left one
        print(json.dumps({"longest_gap": max(gaps[1:])}))
        """
        )
    )
    assert seen["longest_gap"] < 0.2  # the whole run is 0.5 s; without yielding the ticker waited for all of it


def test_a_service_whose_psycopg_came_before_the_patch_refuses_to_start() -> None:
    finished = subprocess.run(
        [
            sys.executable,
            "-c",
            "import psycopg; from ops.service import patch_process; patch_process()",
        ],
        capture_output=True,
        text=True,
    )
    assert finished.returncode != 0
    assert "psycopg was imported before eventlet patched the process" in finished.stderr


def test_a_big_copy_lets_the_other_workers_in() -> None:
    """A COPY waits once per chunk it sends and finds the socket ready each time: the other workers must still
    run every few ms, not once the whole COPY is done."""
    seen = _run(
        GAP_KEEPER
        + textwrap.dedent(
            """
        with psycopg.connect(url) as connection:
            connection.execute("CREATE TEMPORARY TABLE copied (n int, padding text)")
            eventlet.spawn(gap_keeper)
            eventlet.sleep(0.01)
            started = time.monotonic()
            with connection.cursor() as cursor, cursor.copy("COPY copied (n, padding) FROM STDIN") as copy:
                for n in range(200_000):
                    copy.write_row((n, "x" * 20))
            seconds = time.monotonic() - started
            eventlet.sleep(0.01)
        print(json.dumps({"longest_gap": max(gaps[1:]), "copy_seconds": seconds}))
        """
        )
    )
    assert seen["longest_gap"] < max(0.1, seen["copy_seconds"] / 2)  # not the whole COPY


def test_a_service_process_waits_with_wait_green() -> None:
    """``python -m ops.service`` patches its process this way before anything else."""
    assert _wait_after("from ops.service import patch_process; patch_process()") == "wait_green"
