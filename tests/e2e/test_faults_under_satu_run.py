"""`satu run` survives its parts failing (issue 15, item 2): while an applicant keeps filing, every part is
killed with SIGKILL in turn, then PostgreSQL crashes (immediate stop) and RabbitMQ is killed -9, each
started again; after each fault the system answers again without a human, and in the end nothing
acknowledged is lost, no filing is applied twice, and every read model has caught up.

Test policy: the real `satu run` command (python -m ops.cli run) with its supervisor, on a PostgreSQL
server and a RabbitMQ node of this test's own (tests/support/own_postgres.py, own_broker.py), so the test
may crash them; the parts' broker users are provisioned by `satu run` itself. Nothing is mocked.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra.part_status import STATUS_FILE, read_status
from infra.settings import Settings
from tests.support import own_broker, own_postgres
from tests.support.load import (
    LOAD_ENV,
    Outcomes,
    check_each_command_applied_at_most_once,
    file_once,
    keep_filing,
    read_model_count,
)
from tests.support.system import eventually, free_port

pytestmark = [
    pytest.mark.skipif(
        not (own_broker.available() and own_postgres.available()),
        reason="needs the installed rabbitmq-server and PostgreSQL server binaries",
    ),
    pytest.mark.timeout(900),
]

CHECKOUT = Path(__file__).resolve().parents[2]
READY = re.compile(r"Satu Ormas is running")
APPLICANT_LINE = re.compile(r"^\s+applicant\s+(\S+@\S+)\s+(\S+)")
PARTS = ("registry", "submissions", "documents", "notifications", "relay-registry", "relay-submissions", "gateway")


class SatuRun:
    """`satu run` in the background, its output collected line by line."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.port = port
        self.lines: list[str] = []
        command = [sys.executable, "-m", "ops.cli", "run", "--port", str(port)]
        self.process = subprocess.Popen(
            command, env=env, cwd=CHECKOUT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def said(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        return next((found for line in self.lines if (found := pattern.search(line))), None)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def satu_run(tmp_path: Path) -> Iterator[tuple[SatuRun, Settings, own_broker.OwnBroker, own_postgres.OwnPostgres]]:
    with own_broker.own_broker() as broker, own_postgres.own_postgres() as database:
        var = tmp_path / "var"
        env = {
            **os.environ,
            **broker.env,  # `rabbitmqctl` (the parts' users) addresses the test's node
            **LOAD_ENV,
            "PYTHONPATH": str(CHECKOUT),
            "SATU_ENV": "test",
            "SATU_VAR_DIR": str(var),
            "SATU_DATABASE_URL": database.url,
            "SATU_AMQP_URI": broker.uri,
            "SATU_RELAY_POLL_SECONDS": "0.05",
        }
        system = SatuRun(env, free_port())
        try:
            eventually(lambda: system.said(READY) or system.process.poll() is not None, timeout=180, interval=0.5)
            assert system.process.poll() is None, "\n".join(system.lines[-40:])
            yield system, Settings(env="test", var_dir=var, database_url=database.url), broker, database
        except BaseException:
            print("\n".join(system.lines[-60:]))
            raise
        finally:
            system.stop()


def sign_in(system: SatuRun) -> str:
    found = next(m for line in system.lines if (m := APPLICANT_LINE.match(line)))
    response = httpx.post(f"{system.base}/api/session", json={"email": found[1], "password": found[2]}, timeout=20)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def answers_again(system: SatuRun, token: str, outcomes: Outcomes, timeout: float = 120) -> None:
    """A filing goes through again (the probe counts as a filing sent)."""
    with httpx.Client(base_url=system.base, headers={"Authorization": f"Bearer {token}"}, timeout=20) as client:
        eventually(lambda: file_once(client, outcomes), timeout=timeout, interval=1)


def restarted(settings: Settings, part: str, times: int) -> bool:
    status = (read_status(settings.var_dir / STATUS_FILE) or {}).get(part, {})
    return status.get("state") == "running" and status.get("restarts", 0) >= times


def test_the_system_answers_again_after_every_part_the_database_and_the_broker_fail(satu_run) -> None:
    system, settings, broker, database = satu_run
    token = sign_in(system)
    outcomes = Outcomes()
    stop = threading.Event()
    load = keep_filing(system.base, token, outcomes, stop, pause=0.2)
    try:
        eventually(lambda: len(outcomes.acknowledged) >= 3, timeout=60)
        for part in PARTS:
            pid = (read_status(settings.var_dir / STATUS_FILE) or {})[part]["pid"]
            os.kill(pid, signal.SIGKILL)
            eventually(lambda part=part: restarted(settings, part, 1), timeout=90, interval=0.5)
            answers_again(system, token, outcomes)
        database.crash()
        time.sleep(2)
        database.start()
        answers_again(system, token, outcomes)
        broker.kill()
        time.sleep(2)
        broker.start()
        answers_again(system, token, outcomes)
    finally:
        stop.set()
        load.join(60)
    assert system.process.poll() is None  # `satu run` itself never stopped

    filed = check_each_command_applied_at_most_once(settings, outcomes)
    # Every read model caught up: the case list has each case once, each filing was mailed once.
    eventually(
        lambda: read_model_count(settings, "submissions", "SELECT count(*) FROM cases") == len(filed), timeout=120
    )
    mailed = "SELECT count(*) FROM processed_events WHERE event_type = 'case.submitted.v1'"
    eventually(lambda: read_model_count(settings, "notifications", mailed) == len(filed), timeout=120)
    print(f"filed {len(filed)}, acknowledged {len(outcomes.acknowledged)}, unanswered {dict(outcomes.unanswered)}")
