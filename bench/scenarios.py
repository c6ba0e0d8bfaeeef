"""What the benchmarks drive: a running system through the gateway, read models."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from nameko.standalone.rpc import ClusterRpcProxy

from contracts.events import stable_event_id
from contracts.identity import Caller, Role
from infra.keys import load_signer
from infra.nameko_support import SigningProxy
from infra.settings import Settings
from infra.topology import EVENT_STORES
from ops.launcher import System
from ops.seed import APPLICANT, seed
from tests.support.factories import attachment, pdf_bytes
from tests.support.field_visit import record_field_visit
from tests.support.system import eventually, running_system


def start_relays(system: System) -> None:
    """Start the relays and wait until each has begun publishing (its log says so), so that what waits for the
    consumers to catch up does not return before the relays have even started (on PostgreSQL that took ~6 s)."""
    logs = {store.relay: system.log_dir / f"{store.relay}.log" for store in EVENT_STORES}
    started = {relay: _starts(log) for relay, log in logs.items()}
    system.start_relays()
    eventually(lambda: all(_starts(log) > started[relay] for relay, log in logs.items()), timeout=120)


def _starts(log: Path) -> int:
    return log.read_text().count("started at position") if log.exists() else 0


# One benchmark client is many people at once: the per-account and per-address limits would stop it.
UNLIMITED = {"SATU_UPLOAD_HITS_PER_ACCOUNT": "1000000000", "SATU_UPLOAD_HITS_PER_ADDRESS": "1000000000"}


@contextmanager
def start_system(settings: Settings, amqp_uri: str) -> Iterator[System]:
    with running_system(settings, amqp_uri, env=UNLIMITED) as system:
        yield system


@dataclass
class GatewaySession:
    client: httpx.Client
    applicant: dict[str, str]
    verifier: dict[str, str]
    approver: dict[str, str]
    file_id: str

    def submit(self) -> dict[str, Any]:
        body = {"service": "skm", "attachments": [{"file_id": self.file_id, "kind": "cover_letter"}]}
        response = self.client.post("/api/cases", json=body, headers=self.applicant)
        response.raise_for_status()
        return dict(response.json())

    def forward_and_approve(self, case_id: str) -> None:
        verifier = httpx.Client(base_url=str(self.client.base_url), headers=self.verifier, timeout=self.client.timeout)
        with verifier:
            record_field_visit(verifier, case_id).raise_for_status()
        self.client.post(f"/api/cases/{case_id}/forward", json={}, headers=self.verifier).raise_for_status()
        self.client.post(f"/api/cases/{case_id}/approval", json={}, headers=self.approver).raise_for_status()


@contextmanager
def rpc_submitter(settings: Settings, session: GatewaySession) -> Iterator[Callable[[int], object]]:
    """Submit through nameko RPC directly (no HTTP), as the gateway's applicant."""
    me = session.client.get("/api/me", headers=session.applicant).json()
    caller = Caller(user_id=me["id"], role=Role.APPLICANT, organisation_id=me["organisation_id"])
    body = {"service": "skm", "attachments": [attachment()]}
    with ClusterRpcProxy(settings.amqp_config()) as rpc:
        # Signed for each call, as the gateway signs them (the signature is part of the hop's cost).
        submissions = SigningProxy(rpc.submissions, "submissions", load_signer(settings, "gateway"))
        yield lambda _i: submissions.submit_case(caller, body)


def gateway_session(settings: Settings, system: System) -> GatewaySession:
    passwords = seed(settings)
    client = httpx.Client(base_url=f"http://127.0.0.1:{system.port}", timeout=60)

    def bearer(email: str) -> dict[str, str]:
        token = client.post("/api/session", json={"email": email, "password": passwords[email]}).json()["token"]
        return {"Authorization": f"Bearer {token}"}

    applicant = bearer(APPLICANT[0])
    upload = client.post("/api/files", files={"file": ("surat.pdf", pdf_bytes(), "application/pdf")}, headers=applicant)
    upload.raise_for_status()
    return GatewaySession(
        client,
        applicant,
        bearer("verifikator@kesbangpol.balikpapan.go.id"),
        bearer("kabid@kesbangpol.balikpapan.go.id"),
        upload.json()["file_id"],
    )


# The approval is a case's 4th event (opened, field visit, forwarded, approved): its timeline row and its mail.
APPROVAL_VERSION = 4
APPROVED_CASE = "SELECT 1 FROM cases WHERE case_id = ? AND status = 'approved'"
MAIL_RECORDED = "SELECT 1 FROM mail_outbox WHERE event_id = ?"
VISIBILITY_QUERIES = {
    "submissions.cases (case list, work queue)": ("submissions", APPROVED_CASE, "case"),
    "submissions.case_timeline": (
        "submissions",
        f"SELECT 1 FROM case_timeline WHERE case_id = ? AND version = {APPROVAL_VERSION}",
        "case",
    ),
    "documents.letters": ("documents", "SELECT 1 FROM letters WHERE case_id = ?", "case"),
    "notifications.mail_outbox (mail recorded)": ("notifications", MAIL_RECORDED, "event"),
    "notifications.mail_outbox (mail sent)": ("notifications", MAIL_RECORDED + " AND sent_at IS NOT NULL", "event"),
}


def read_model_latency(settings: Settings, session: GatewaySession, count: int) -> dict[str, list[float]]:
    connections = {
        service: sqlite3.connect(f"file:{settings.var_dir / f'{service}.sqlite'}?mode=ro", uri=True)
        for service in ("submissions", "documents", "notifications")
    }
    samples: dict[str, list[float]] = {name: [] for name in VISIBILITY_QUERIES}
    for _ in range(count):
        case_id = session.submit()["id"]
        session.forward_and_approve(case_id)
        committed = time.perf_counter()
        keys = {"case": case_id, "event": stable_event_id(case_id, APPROVAL_VERSION)}
        pending = dict(VISIBILITY_QUERIES)
        deadline = committed + 30
        while pending and time.perf_counter() < deadline:
            for name, (service, query, key) in list(pending.items()):
                if connections[service].execute(query, (keys[key],)).fetchone():
                    samples[name].append(time.perf_counter() - committed)
                    del pending[name]
            time.sleep(0.001)
    for connection in connections.values():
        connection.close()
    return samples
