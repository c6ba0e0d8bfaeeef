"""Unit-test policy: nothing running. The gateway is exercised in-process with FastAPI's TestClient
and a fake RPC client that subclasses the real one (tests/support/gateway_fakes.py); everything a
real service would refuse, the fake refuses the same way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.gateway_fakes import FakeRpc, make_app


@pytest.fixture
def rpc() -> FakeRpc:
    return FakeRpc()


@pytest.fixture
def client(tmp_path: Path, rpc: FakeRpc) -> Iterator[TestClient]:
    with TestClient(make_app(tmp_path, rpc)) as client:
        yield client
