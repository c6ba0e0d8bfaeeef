"""Service-tier test policy: nothing running. The real nameko service classes run in this process through
nameko's worker_factory (tests/support/in_process.py), on their real applications on the in-memory event
store and real read models on SQLite files under the test's directory. A test calls an RPC method the way
the gateway does (arguments, results and errors through nameko's JSON and exception serialisation) or
hands an event handler a message as the broker delivers it; the events a call stores reach the other
services' handlers through the real relay. No service, application or read model is replaced; accounts
are made as the running system makes them (sign-up, or the seed's bootstrap caller for staff)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.settings import Settings
from tests.support.in_process import Cluster, cluster_on
from tests.support.office import cheap_password_hashing, enrol

SECRET = "service-tier-test-secret"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(env="test", var_dir=tmp_path, secret_key=SECRET)


@pytest.fixture
def cluster(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    cheap_password_hashing(monkeypatch)
    with cluster_on(settings) as running:
        yield running


@pytest.fixture
def applicant(cluster: Cluster) -> dict[str, Any]:
    return enrol(cluster, "sekretaris@ormas.or.id", organisation="Perkumpulan Pemuda Manggar")


@pytest.fixture
def verifier(cluster: Cluster) -> dict[str, Any]:
    return enrol(cluster, "rina@kesbangpol.go.id", role="verifier")
