"""Make sure a RabbitMQ broker is reachable, starting a local one where possible."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit


def broker_address(amqp_uri: str) -> tuple[str, int]:
    url = urlsplit(amqp_uri)
    return url.hostname or "127.0.0.1", url.port or 5672


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until_reachable(host: str, port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if reachable(host, port):
            return True
        time.sleep(1)
    return False


def ensure_broker(amqp_uri: str, compose_file: Path, say: Callable[[str], object]) -> str | None:
    """Returns None when a broker answers, else a one-line explanation of what was tried."""
    host, port = broker_address(amqp_uri)
    if reachable(host, port):
        return None
    local = host in {"127.0.0.1", "localhost", "::1"}
    if local and shutil.which("rabbitmq-server"):
        say(f"RabbitMQ is not answering on {host}:{port}; starting the installed rabbitmq-server")
        subprocess.run(["rabbitmq-server", "-detached"], check=False, capture_output=True)
        if wait_until_reachable(host, port, 90):
            return None
    elif local and shutil.which("docker") and compose_file.exists():
        say(f"RabbitMQ is not answering on {host}:{port}; starting the compose file's rabbitmq service")
        result = subprocess.run(
            ["docker", "compose", "-f", str(compose_file), "up", "-d", "rabbitmq"],
            check=False,
            capture_output=True,
        )
        if result.returncode == 0 and wait_until_reachable(host, port, 90):
            return None
    return (
        f"no RabbitMQ broker at {host}:{port} (SATU_AMQP_URI). Install one (sudo apt-get install rabbitmq-server), "
        "run 'docker compose up -d rabbitmq', or point SATU_AMQP_URI at a running broker."
    )
