"""A RabbitMQ virtual host of a test's own, removed afterwards with the parts' users made for it
(test support; no tests here)."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from ops.broker_users import broker_parts, user_name

RABBIT_URL = os.environ.get("SATU_TEST_AMQP_BASE", "amqp://guest:guest@127.0.0.1:5672")


def _rabbitmqctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True)


@contextmanager
def private_vhost(prefix: str) -> Iterator[str]:
    """The AMQP URI (as guest, the vhost's administrator) of a new vhost named ``<prefix>_<random>``."""
    vhost = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    added = _rabbitmqctl("add_vhost", vhost)
    assert added.returncode == 0, f"rabbitmqctl add_vhost failed: {added.stderr or added.stdout}"
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"{RABBIT_URL}/{vhost}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)
        # The parts' own users that a system provisioned for this vhost (ops/broker_users.py).
        for part in broker_parts():
            _rabbitmqctl("delete_user", user_name(part.name, vhost))
