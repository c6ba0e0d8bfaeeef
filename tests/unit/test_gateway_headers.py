"""Headers a browser relies on, and API docs that load nothing from a CDN (issue 14, point 9)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from infra.settings import Settings


class NoServices:
    """These requests never reach a service."""

    def service(self, name: str) -> Any:
        raise AssertionError(f"unexpected call to {name}")

    def close(self) -> None:
        pass


def client_for(tmp_path: Path, public_base_url: str) -> TestClient:
    secret = "Zq3v9LkX2mN8pR4tW7yB1cD6fG0hJ5sA-e8u"  # a public address needs a real key
    settings = Settings(env="test", var_dir=tmp_path, public_base_url=public_base_url, secret_key=secret)
    return TestClient(create_app(settings, rpc=NoServices()))  # type: ignore[arg-type]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with client_for(tmp_path, "http://127.0.0.1:8000") as client:
        yield client


def test_every_answer_says_nosniff_and_personal_answers_are_never_stored(client: TestClient) -> None:
    anonymous = client.get("/api/reference/nothing-here")
    assert anonymous.headers["x-content-type-options"] == "nosniff"
    assert "no-store" not in anonymous.headers.get("cache-control", "")
    with_token = client.get("/api/me", headers={"Authorization": "Bearer not-a-real-token"})
    assert with_token.status_code == 401 and with_token.headers["cache-control"] == "no-store"
    with_cookie = client.get("/api/me", cookies={"satu_session": "x"})
    assert with_cookie.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in with_token.headers  # http: no HSTS


def test_https_deployments_send_hsts(tmp_path: Path) -> None:
    with client_for(tmp_path, "https://ormas.balikpapan.go.id") as client:
        assert "max-age=" in client.get("/api/me").headers["strict-transport-security"]


def test_the_docs_load_their_script_and_style_from_this_gateway(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    for asset in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"):
        assert asset in page.text
        served = client.get(asset)
        assert served.status_code == 200 and len(served.content) > 100_000
    assert client.get("/redoc").status_code == 404  # ReDoc would load from a CDN
