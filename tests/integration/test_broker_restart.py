"""Every command at most once when the broker is killed under it (issue 15, item 1), and the system
answers again afterwards without a human.

The broker is a RabbitMQ node of this test's own (tests/support/own_broker.py), so the test may kill -9 it
while filings and sign-ups are in flight through the gateway, then start it again. Clients send no
Idempotency-Key: the gateway's own command id per request is what keeps a redelivered RPC from acting
twice. Real processes (services, relays, gateway), a real SMTP server, SQLite stores.
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

import httpx
import pytest

from infra.settings import Settings
from ops.launcher import service_command
from tests.support.load import LOAD_ENV, Outcomes, check_each_command_applied_at_most_once, file_once, keep_filing
from tests.support.own_broker import available, own_broker
from tests.support.system import eventually
from tests.support.world import PASSWORD, World, running_world, sign_up_with_organisation

pytestmark = pytest.mark.skipif(not available(), reason="needs the installed rabbitmq-server to start a node")

SIGN_UP_NOTICE = "Ada pendaftaran dengan alamat e-mail Anda"
# A second process of each service that takes commands: a redelivered request may reach the replica that
# did not run it the first time (the one that did refuses the reused signature of the call).
REPLICATED = ("registry", "submissions")


def start_replicas(world: World) -> None:
    system = world.system
    for name in REPLICATED:
        system.part_uris[f"{name}-replica"] = system.part_uris[name]  # the same part: the same broker user
        system.spawn(f"{name}-replica", service_command(name))
    system.wait_for_services()


def sign_up_newcomers(world: World, stop: threading.Event) -> threading.Thread:
    """New people signing up one after another (each address once) until ``stop``, in the background."""

    def work() -> None:
        with world.client() as client:
            client.timeout = httpx.Timeout(20)
            number = 0
            while not stop.is_set():
                number += 1
                person = {"email": f"pengurus{number}@ormas-baru.or.id", "password": PASSWORD, "full_name": "Rina"}
                with contextlib.suppress(httpx.HTTPError):  # unanswered: it may or may not have happened, once
                    client.post("/api/accounts", json=person)
                time.sleep(0.05)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_killing_the_broker_under_load_applies_no_command_twice(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with own_broker() as broker:
        for name, value in broker.env.items():  # `rabbitmqctl` (the parts' users) addresses this node
            monkeypatch.setenv(name, value)
        with running_world(request, "sqlite", broker.uri, tmp_path, env=LOAD_ENV) as world:
            settings = Settings(env="test", var_dir=tmp_path / "var")
            start_replicas(world)
            tokens = [sign_up_with_organisation(world, f"sekretaris{n}@ormas.or.id", f"Ormas {n}") for n in range(3)]
            outcomes = Outcomes()
            stop = threading.Event()
            load = [keep_filing(world.base, token, outcomes, stop) for token in tokens]
            load.append(sign_up_newcomers(world, stop))
            try:
                eventually(lambda: len(outcomes.acknowledged) >= 5, timeout=60)
                broker.kill()  # mid-flight: requests unacknowledged, replies unsent
                time.sleep(2)
                broker.start()
                time.sleep(5)
            finally:
                stop.set()
                for thread in load:
                    thread.join(60)

            # The system answers again without a human.
            with world.client(tokens[0]) as client:
                eventually(lambda: file_once(client, outcomes), timeout=120, interval=1)

            check_each_command_applied_at_most_once(settings, outcomes)
            # No sign-up ran twice: a second run would have told the new address's owner that someone
            # signed up with it.
            time.sleep(3)
            notices = [m for m in world.smtp.messages if SIGN_UP_NOTICE in str(m.message["Subject"])]
            assert notices == []
            print(f"sent {outcomes.sent}, acknowledged {len(outcomes.acknowledged)}, unanswered {outcomes.unanswered}")
