"""Unit-test policy: nothing running. The gateway is exercised in-process with FastAPI's TestClient on
the real services run in this process (tests/support/in_process.py): the real nameko service classes
(registry, submissions, documents) through nameko's worker_factory, their real applications on the
in-memory event store and real read models on SQLite files under the test's directory. Calls, errors
and events cross as nameko and the relay carry them, so a test sees what the real gateway would; no
hand-written double re-implements a service's rules. Faults only the wire can produce (a timeout, a
broker outage, an unexpected failure) are injected at the wire, never by replacing a service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.gateway_client import InProcessRpc, make_app, make_settings, sign_in
from tests.support.in_process import Cluster, cluster_on
from tests.support.office import cheap_password_hashing


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    cheap_password_hashing(monkeypatch)
    with cluster_on(make_settings(tmp_path)) as running:
        yield running


@pytest.fixture
def rpc(cluster: Cluster) -> InProcessRpc:
    return InProcessRpc(cluster)


@pytest.fixture
def client(tmp_path: Path, rpc: InProcessRpc) -> Iterator[TestClient]:
    with TestClient(make_app(tmp_path, rpc)) as client:
        yield client


# The applicant and the verifier the gateway tests sign in as (an account made as the running system makes it).
@pytest.fixture
def siti(client: TestClient, cluster: Cluster) -> dict[str, str]:
    return sign_in(client, cluster, "siti@ormas.or.id", organisation="Perkumpulan Pemuda Manggar")


@pytest.fixture
def verifier(client: TestClient, cluster: Cluster) -> dict[str, str]:
    return sign_in(client, cluster, "v@kesbangpol.go.id", role="verifier")
