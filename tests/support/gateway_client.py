"""The gateway in this process, on the real services run in this process (tests/support/in_process.py),
and what its tests do over and over: settings, signing in, uploading (this module holds no tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.rpc import RpcClients
from infra.settings import Settings
from tests.support.factories import pdf_bytes
from tests.support.field_visit import FIELD_VISIT_FORM
from tests.support.in_process import Cluster
from tests.support.office import PASSWORD, enrol

SECRET = "gateway-test-secret"


def make_settings(tmp_path: Path, **changes: Any) -> Settings:
    return Settings(var_dir=tmp_path, secret_key=SECRET, env="test", **changes)


class InProcessRpc(RpcClients):
    """The gateway's real RPC clients, whose proxy is the in-process cluster instead of a broker's: a
    call still goes through ``RpcClients.call`` (a broken connection becomes ServiceUnavailable)."""

    def __init__(self, cluster: Cluster) -> None:
        super().__init__({"AMQP_URI": "memory://"}, cluster.signer("gateway"), cluster.keyring(), timeout=1)
        self.cluster = cluster
        self.closed = False

    def _proxy(self) -> Any:
        return _AsTheBrokerDelivers(self.cluster)

    def close(self) -> None:
        super().close()
        self.closed = True


class _AsTheBrokerDelivers:
    """``proxy[service]`` as nameko's cluster proxy gives it: answers as the service sent them (the gateway
    checks the proofs itself)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def __getitem__(self, service: str) -> Any:
        return self.cluster.proxy(service, "gateway", unwrap=False)


def make_app(tmp_path: Path, rpc: RpcClients, **settings: Any) -> FastAPI:
    return create_app(make_settings(tmp_path, **settings), rpc=rpc)


def sign_in(
    client: TestClient, cluster: Cluster, email: str, role: str = "applicant", organisation: str | None = None
) -> dict[str, str]:
    """Enrol a new account (an applicant with ``organisation`` recorded under that name, if given), sign
    in through the API; returns the Authorization header (the client also keeps the session cookie)."""
    enrol(cluster, email, role=role, organisation=organisation)
    response = client.post("/api/session", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def account(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/me", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def upload(client: TestClient, headers: dict[str, str], content: bytes, name: str = "akta.pdf") -> Any:
    return client.post("/api/files", headers=headers, files={"file": (name, content, "application/pdf")})


def uploaded(client: TestClient, headers: dict[str, str], content: bytes, name: str = "surat.pdf") -> str:
    """The file id of a successful upload."""
    response = upload(client, headers, content, name=name)
    assert response.status_code == 201, response.text
    return str(response.json()["file_id"])


def file_case(client: TestClient, headers: dict[str, str], name: str = "surat.pdf") -> dict[str, Any]:
    """An SKM filing with one uploaded PDF, through the API; returns the case."""
    attachments = [{"file_id": uploaded(client, headers, pdf_bytes(), name=name), "kind": "cover_letter"}]
    response = client.post("/api/cases", headers=headers, json={"service": "skm", "attachments": attachments})
    assert response.status_code == 201, response.text
    return dict(response.json())


def act(client: TestClient, headers: dict[str, str], case_id: str, action: str, **body: Any) -> dict[str, Any]:
    """One step of the case's workflow, through the API; returns the case after it."""
    response = client.post(f"/api/cases/{case_id}/actions/{action}", headers=headers, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def record_field_visit(client: TestClient, verifier: dict[str, str], case_id: str) -> dict[str, Any]:
    """The field visit the SKM definition asks for before a case is forwarded, with its berita acara."""
    report = [{"file_id": uploaded(client, verifier, pdf_bytes(), "berita-acara.pdf"), "kind": "field_report"}]
    return act(client, verifier, case_id, "record_field_visit", form=FIELD_VISIT_FORM, attachments=report)


def forward(client: TestClient, verifier: dict[str, str], case_id: str) -> dict[str, Any]:
    record_field_visit(client, verifier, case_id)
    return act(client, verifier, case_id, "forward")
