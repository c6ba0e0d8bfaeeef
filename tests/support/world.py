"""A running system for journey tests: every service, both relays and the gateway as processes, a real
SMTP server, the demo seed, and signed-in staff; plus the helpers a journey needs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.settings import Settings
from ops.launcher import System
from ops.seed import seed
from tests.support.factories import organisation_payload, pdf_bytes
from tests.support.smtp import SmtpSink
from tests.support.system import running_system

PASSWORD = "sandi-rahasia-2026"


@dataclass
class World:
    system: System
    smtp: SmtpSink
    base: str
    staff: dict[str, str]  # role -> token
    passwords: dict[str, str]  # the demo accounts' e-mail -> password

    def sign_in(self, email: str) -> httpx.Client:
        response = httpx.post(f"{self.base}/api/session", json={"email": email, "password": self.passwords[email]})
        assert response.status_code == 200, response.text
        return self.client(response.json()["token"])

    def satu(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the `satu` CLI against this system, as an operator would."""
        command = [sys.executable, "-m", "ops.cli", *args]
        return subprocess.run(command, env=self.system.env, capture_output=True, text=True, timeout=120)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)


@contextmanager
def running_world(
    request: pytest.FixtureRequest, backend: str, amqp_uri: str, tmp_path: Path, env: dict[str, str] | None = None
) -> Iterator[World]:
    database_url = request.getfixturevalue("postgres_url") if backend == "postgres" else ""
    (tmp_path / "var").mkdir()
    settings = Settings(env="test", var_dir=tmp_path / "var", database_url=database_url, amqp_uri=amqp_uri)
    with SmtpSink() as smtp, running_system(settings, amqp_uri, smtp, env=env) as system:
        passwords = seed(settings)
        base = f"http://127.0.0.1:{system.port}"
        staff = {}
        for email, role in [
            ("verifikator@kesbangpol.balikpapan.go.id", "verifier"),
            ("kabid@kesbangpol.balikpapan.go.id", "approver"),
            ("auditor@inspektorat.balikpapan.go.id", "auditor"),
            ("admin@kesbangpol.balikpapan.go.id", "admin"),
        ]:
            response = httpx.post(f"{base}/api/session", json={"email": email, "password": passwords[email]})
            staff[role] = response.json()["token"]
        yield World(system, smtp, base, staff, passwords)


def sign_up_with_organisation(world: World, email: str, name: str) -> str:
    """Returns the applicant's token (re-issued once the organisation is recorded)."""
    anonymous = world.client()
    created = anonymous.post("/api/accounts", json={"email": email, "password": PASSWORD, "full_name": "Siti Aminah"})
    assert created.status_code == 202, created.text
    confirm_by_the_mailed_link(world, email)
    token = anonymous.post("/api/session", json={"email": email, "password": PASSWORD}).json()["token"]
    recorded = world.client(token).post("/api/organisations", json=organisation_payload(name=name))
    assert recorded.status_code == 201, recorded.text
    return str(recorded.json()["token"])


def confirm_by_the_mailed_link(world: World, email: str) -> None:
    """Open the link of the confirmation mail and press its button, as the person would."""
    body = mail_about(world, email, "Konfirmasi alamat e-mail").get_content()
    [link] = [line.strip() for line in body.splitlines() if "/verify-email?token=" in line]
    assert link.startswith(world.base)
    with httpx.Client(timeout=30) as browser:
        page = browser.get(link)
        assert page.status_code == 200 and "Konfirmasi alamat e-mail" in page.text
        form = {"token": link.split("token=", 1)[1], "csrf_token": browser.cookies["satu_csrf"]}
        confirmed = browser.post(f"{world.base}/verify-email", data=form, headers={"Origin": world.base})
    assert confirmed.status_code == 200 and "sudah dikonfirmasi" in confirmed.text, confirmed.text


def upload(client: httpx.Client, name: str = "surat-permohonan.pdf") -> str:
    response = client.post("/api/files", files={"file": (name, pdf_bytes(), "application/pdf")})
    assert response.status_code == 201, response.text
    return str(response.json()["file_id"])


def mails_to(world: World, address: str, count: int) -> list[Any]:
    return world.smtp.wait_for(lambda mail: address in mail.rcpt_tos, count=count, timeout=30)


def mail_about(world: World, address: str, subject_part: str) -> Any:
    """The mail to ``address`` whose subject names a status (mails of one case may cross in flight)."""
    [mail] = world.smtp.wait_for(
        lambda mail: address in mail.rcpt_tos and subject_part in str(mail.message["Subject"]), timeout=30
    )
    return mail.message


def status_of(client: httpx.Client, case_id: str) -> str:
    return str(client.get(f"/api/cases/{case_id}").json()["status"])
