"""Test policy.

- unit/: nothing running; pure domain, applications on the in-memory (popo) store, rendering.
- integration/: the real RabbitMQ and PostgreSQL on this machine, and SQLite files; every
  event-sourced application test runs on both SQLite and PostgreSQL (the ``backend`` fixture).
- service/: the real nameko service classes in the test process through nameko's worker_factory (no
  container, no eventlet), on their real applications (in-memory store) and read models (SQLite files),
  calls and errors carried as nameko carries them (tests/support/in_process.py).
- e2e/: every service, relay and the gateway started as its own process; driven over HTTP.

Isolation: each test session gets its own RabbitMQ virtual host; each PostgreSQL-backed test its own
database; each test its own var/ directory. Nothing here mocks RabbitMQ, PostgreSQL or SMTP.
Service containers are never run inside the pytest process, so pytest is not eventlet-patched.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.settings import Settings
from tests.support.broker import private_vhost
from tests.support.postgres import scratch_database


@pytest.fixture(scope="session")
def amqp_uri() -> Iterator[str]:
    """A fresh RabbitMQ virtual host for this session (queues and exchanges start empty)."""
    with private_vhost("satu_test") as uri:
        yield uri


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    with scratch_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings for one test on the chosen backend, with its own var/ directory."""
    database_url = request.getfixturevalue("postgres_url") if backend == "postgres" else ""
    (tmp_path / "var").mkdir(exist_ok=True)
    return Settings(env="test", var_dir=tmp_path / "var", database_url=database_url)


# Tests that kill brokers, databases and processes and time how the parts come back. scripts/test runs the
# suite on two workers (pytest-xdist); these run one after another on one of them, so that they never load
# each other (the other worker runs the rest).
FAULT_MODULES = {
    "test_broker_restart",
    "test_faults_under_satu_run",
    "test_locks",
    "test_outages",
    "test_reconnect",
    "test_relay_faults",
    "test_relay_outages",
    "test_relay_wake",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in FAULT_MODULES:
            item.add_marker(pytest.mark.xdist_group("faults"))
