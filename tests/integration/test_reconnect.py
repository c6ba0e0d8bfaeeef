"""A readiness wait that outlives a broker restart: started while the broker is away, it keeps trying
until the broker is back (a relay started during a restart used to give up), and a connection the broker
drops is opened again."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from infra.settings import amqp_config
from ops.launcher import wait_for_services
from tests.support.system import eventually, free_port
from tests.support.tls import Forwarder


def waiting_for_documents(amqp_uri: str) -> tuple[threading.Thread, dict[str, object]]:
    """A readiness wait for the documents service through ``amqp_uri``, in the background; its outcome."""
    outcome: dict[str, object] = {}

    def wait() -> None:
        try:
            wait_for_services(amqp_config(amqp_uri), ("documents",), seconds=90)
            outcome["ready"] = True
        except RuntimeError as error:
            outcome["error"] = str(error)

    waiting = threading.Thread(target=wait, daemon=True)
    waiting.start()
    return waiting, outcome


def the_documents_service_comes(amqp_uri: str, tmp_path: Path, waiting: threading.Thread) -> None:
    env = {**os.environ, "SATU_ENV": "test", "SATU_VAR_DIR": str(tmp_path / "var"), "SATU_AMQP_URI": amqp_uri}
    service = subprocess.Popen([sys.executable, "-m", "ops.service", "documents"], env=env)
    try:
        waiting.join(60)
    finally:
        service.terminate()
        service.wait(20)


def test_a_wait_whose_connection_the_broker_drops_connects_again_and_sees_the_service(
    amqp_uri: str, tmp_path: Path
) -> None:
    forwarder = Forwarder()  # the waiting part reaches the broker through it, so its connection can be cut
    waiting, outcome = waiting_for_documents(amqp_uri.replace("127.0.0.1:5672", f"127.0.0.1:{forwarder.port}"))
    eventually(lambda: forwarder.live, timeout=10)  # connected and pinging a service not there yet
    time.sleep(1)
    assert forwarder.cut() >= 1  # the broker restarts: every connection through it is dropped
    time.sleep(1.5)  # pinging on meanwhile
    try:
        the_documents_service_comes(amqp_uri, tmp_path, waiting)
        assert outcome == {"ready": True}
    finally:
        forwarder.close()


def test_a_wait_started_while_the_broker_is_away_waits_for_it(amqp_uri: str, tmp_path: Path) -> None:
    port = free_port()  # where the broker will be; nothing answers there yet
    waiting, outcome = waiting_for_documents(amqp_uri.replace("127.0.0.1:5672", f"127.0.0.1:{port}"))
    time.sleep(2)  # the broker is restarting
    assert outcome == {}  # still waiting, not given up
    forwarder = Forwarder(port=port)  # the broker is back
    try:
        the_documents_service_comes(amqp_uri, tmp_path, waiting)
        assert outcome == {"ready": True}
    finally:
        forwarder.close()
