"""In-memory doubles of the services, shared by the gateway tests (this module holds no tests).

``FakeRpc`` subclasses the real ``RpcClients`` and hands out small service doubles that check the
signed caller the way real services do and raise ``contracts.errors`` where a real one would, so
the tests exercise the gateway's HTTP behaviour with nothing running.
"""

from __future__ import annotations

import base64
import io
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pypdf import PdfWriter

from contracts.cases import CaseSubmission, Resubmission
from contracts.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied
from contracts.identity import Caller, Role, verify_caller
from gateway.app import create_app
from gateway.rpc import RpcClients
from infra.settings import Settings

SECRET = "gateway-test-secret"
PASSWORD = "kata-sandi-panjang"


def make_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_settings(tmp_path: Path, **changes: Any) -> Settings:
    return Settings(var_dir=tmp_path, secret_key=SECRET, env="test", **changes)


class FakeRegistry:
    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        self.organisations: dict[str, dict[str, Any]] = {}

    def add_account(self, email: str, role: str = "applicant", organisation_id: str | None = None) -> dict:
        account = {
            "id": str(uuid.uuid4()),
            "email": email,
            "full_name": email.split("@")[0],
            "role": role,
            "organisation_id": organisation_id,
        }
        self.accounts[email] = account
        return account

    def register_applicant(self, payload: dict[str, Any]) -> dict[str, Any]:
        if payload["email"] in self.accounts:
            raise Conflict("an account with this e-mail already exists", field="email")
        return self.add_account(payload["email"])

    def authenticate(self, payload: dict[str, Any]) -> dict[str, Any]:
        account = self.accounts.get(payload["email"])
        if account is None or payload["password"] != PASSWORD:
            raise NotAuthenticated("wrong e-mail or password")
        return account

    def get_account(self, caller: dict[str, Any], account_id: str) -> dict[str, Any]:
        who = verify_caller(caller, SECRET)
        if who.user_id != account_id and not who.is_staff:
            raise PermissionDenied("you may only read your own account")
        return next(a for a in self.accounts.values() if a["id"] == account_id)

    def register_staff(self, caller: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        verify_caller(caller, SECRET).require(Role.ADMIN)
        return self.add_account(payload["email"], role=payload["role"])

    def record_organisation(self, caller: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        who = verify_caller(caller, SECRET)
        who.require(Role.APPLICANT)
        organisation = {
            "id": str(uuid.uuid4()), "owner_id": who.user_id, "status": "terdaftar", "reporting_status": "up_to_date",
            "missed_reports": [], "recorded_at": "2026-11-28T02:00:00+00:00", "version": 1, **payload,
        }  # fmt: skip
        self.organisations[organisation["id"]] = organisation
        return organisation

    def get_organisation(self, caller: dict[str, Any], organisation_id: str) -> dict[str, Any]:
        who = verify_caller(caller, SECRET)
        if not who.is_staff and who.organisation_id != organisation_id:
            raise PermissionDenied("you may only read your own organisation")
        if organisation_id not in self.organisations:
            raise NotFound(f"organisation {organisation_id} not found")
        return self.organisations[organisation_id]


def case_view(**fields: Any) -> dict[str, Any]:
    """A complete case as the service answers it (contracts.views.CaseView): the gateway checks the shape."""
    now = "2026-11-28T02:00:00+00:00"
    sla = {"sla_days": 15, "running": True, "days_used": 0.0, "days_left": 15.0, "due_at": None, "overdue": False,
           "due_estimated": False}  # fmt: skip
    return {
        "reference": "SKM-2026-ABCD1234", "service": "skm", "workflow_version": 2, "status": "submitted",
        "status_label": "Diajukan", "organisation_name": "Perkumpulan Uji", "superseded_attachments": [],
        "note": None, "form": None, "subject": None, "last_reason": None, "assignee": None, "letter": None,
        "actions_done": [], "actions_open": [], "sla": sla, "clock_changes": [], "version": 1,
        "created_at": now, "modified_at": now, **fields,
    }  # fmt: skip


class FakeSubmissions:
    def __init__(self) -> None:
        self.cases: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def submit_case(self, caller: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        who = verify_caller(caller, SECRET)
        who.require(Role.APPLICANT)
        if who.organisation_id is None:
            raise Conflict("record your organisation before filing", field="organisation")
        submission = CaseSubmission.model_validate(payload)  # the service's own contract
        self.calls.append(("submit_case", (who, payload)))
        case = case_view(
            id=str(uuid.uuid4()),
            organisation_id=who.organisation_id,
            attachments=[a.model_dump(mode="json") for a in submission.attachments],
        )
        self.cases[case["id"]] = case
        return case

    def get_case(self, caller: dict[str, Any], case_id: str) -> dict[str, Any]:
        return self._readable(verify_caller(caller, SECRET), case_id)

    def resubmit(self, caller: dict[str, Any], case_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        case = self._readable(verify_caller(caller, SECRET), case_id)
        case["attachments"] = Resubmission.model_validate(payload).model_dump(mode="json")["attachments"]
        self.calls.append(("resubmit", (case_id, payload)))
        return case

    def case_state(self, caller: dict, case_id: str, version: int | None, at: str | None) -> dict[str, Any]:
        self.calls.append(("case_state", (case_id, version, at)))
        return self._readable(verify_caller(caller, SECRET), case_id)

    def forward(self, caller: dict[str, Any], case_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        verify_caller(caller, SECRET).require(Role.VERIFIER)
        self.calls.append(("forward", (case_id, payload)))
        return {**self.cases[case_id], "status": "forwarded"}

    def _readable(self, who: Caller, case_id: str) -> dict[str, Any]:
        case = self.cases.get(case_id)
        if case is None or (who.role is Role.APPLICANT and case["organisation_id"] != who.organisation_id):
            raise NotFound(f"case {case_id} not found")
        return case


class FakeDocuments:
    def __init__(self) -> None:
        self.letters: dict[str, bytes] = {}
        self.verifications: dict[str, dict[str, Any]] = {}

    def get_letter_pdf(self, caller: dict[str, Any], case_id: str) -> dict[str, str]:
        verify_caller(caller, SECRET)
        if case_id not in self.letters:
            raise NotFound(f"no letter has been issued for case {case_id}")
        return {
            "filename": "SKM-0001-KESBANGPOL-2026.pdf",
            "content_base64": base64.b64encode(self.letters[case_id]).decode(),
        }

    def verify_letter(self, code: str) -> dict[str, Any]:
        if code not in self.verifications:
            raise NotFound("no letter with this verification code: it was not issued by this office")
        return self.verifications[code]


class FakeRpc(RpcClients):
    def __init__(self) -> None:
        super().__init__({"AMQP_URI": "memory://"}, timeout=1)
        self.registry = FakeRegistry()
        self.submissions = FakeSubmissions()
        self.documents = FakeDocuments()
        self.closed = False

    def service(self, name: str) -> Any:
        return getattr(self, name)

    def close(self) -> None:
        self.closed = True


def make_app(tmp_path: Path, rpc: FakeRpc, **settings: Any) -> FastAPI:
    return create_app(make_settings(tmp_path, **settings), rpc=rpc)


def sign_in(
    client: TestClient, rpc: FakeRpc, email: str, role: str = "applicant", organisation_id: str | None = None
) -> dict[str, str]:
    """Sign in as a new account; returns the Authorization header for it."""
    rpc.registry.add_account(email, role=role, organisation_id=organisation_id)
    response = client.post("/api/session", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def upload(client: TestClient, headers: dict[str, str], content: bytes, name: str = "akta.pdf") -> Any:
    return client.post("/api/files", headers=headers, files={"file": (name, content, "application/pdf")})
