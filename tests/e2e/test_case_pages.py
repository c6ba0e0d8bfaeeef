"""The link in a status e-mail, opened in a real browser against the running system (SQLite).

The demo secretary files an SKM through the API, the verifier asks for a correction, and the secretary
follows the link in the mail: sign-in form, then the case page with the status and the verifier's reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from infra.settings import Settings
from ops.launcher import System
from ops.seed import APPLICANT, seed
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.factories import pdf_bytes
from tests.support.smtp import SmtpSink
from tests.support.system import eventually, in_queue, running_system

VERIFIER = "verifikator@kesbangpol.balikpapan.go.id"
REASON = "Akta notaris tidak terbaca, mohon unggah ulang"


@dataclass
class World:
    system: System
    smtp: SmtpSink
    base: str
    passwords: dict[str, str]

    def client(self, email: str) -> httpx.Client:
        session = {"email": email, "password": self.passwords[email]}
        token = httpx.post(f"{self.base}/api/session", json=session).json()["token"]
        return httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


@dataclass
class CasePage:
    login_url: str
    url: str
    heading: str
    text: str


@pytest.fixture
def world(amqp_uri: str, tmp_path: Path) -> Iterator[World]:
    (tmp_path / "var").mkdir()
    settings = Settings(env="test", var_dir=tmp_path / "var", amqp_uri=amqp_uri)
    with SmtpSink() as smtp, running_system(settings, amqp_uri, smtp) as system:
        yield World(system, smtp, f"http://127.0.0.1:{system.port}", seed(settings))


def open_link_and_sign_in(url: str, email: str, password: str, screenshot: Path) -> CasePage:
    """Follow ``url`` on a phone-sized screen, sign in through the form it lands on, read the page after."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(url, wait_until="load")
            login_url = page.url
            page.get_by_label("Alamat e-mail").fill(email)
            page.get_by_label("Kata sandi").fill(password)
            with page.expect_navigation(wait_until="load"):
                page.get_by_role("button", name="Masuk").click()
            # The timeline is a read model: it may trail the case by a moment.
            for _ in range(50):
                if "Riwayat status sedang diperbarui" not in page.inner_text("main"):
                    break
                page.wait_for_timeout(200)
                page.reload(wait_until="load")
            page.screenshot(path=str(screenshot), full_page=True)
            return CasePage(login_url, page.url, page.inner_text("h1"), page.inner_text("main"))
        finally:
            browser.close()


def test_the_link_in_a_revision_mail_opens_the_case_after_signing_in(world: World) -> None:
    email, _name = APPLICANT
    applicant, verifier = world.client(email), world.client(VERIFIER)
    uploaded = applicant.post("/api/files", files={"file": ("akta.pdf", pdf_bytes(), "application/pdf")})
    filed = applicant.post(
        "/api/cases", json={"attachments": [{"file_id": uploaded.json()["file_id"], "kind": "deed"}]}
    )
    assert filed.status_code == 201, filed.text
    case_id, reference = filed.json()["id"], filed.json()["reference"]
    eventually(lambda: in_queue(verifier, case_id))
    revision = verifier.post(f"/api/cases/{case_id}/revision-requests", json={"reason": REASON})
    assert revision.status_code == 200, revision.text

    [mail] = world.smtp.wait_for(
        lambda m: email in m.rcpt_tos and "Perlu perbaikan" in str(m.message["Subject"]), timeout=30
    )
    [link] = re.findall(r"https?://\S+/cases/\S+", mail.message.get_content())
    assert link == f"{world.base}/cases/{case_id}"
    screenshot = world.system.log_dir / "case-page.png"
    page = open_link_and_sign_in(link, email, world.passwords[email], screenshot)

    assert page.login_url == f"{world.base}/login?next=/cases/{case_id}"
    assert page.url == link
    assert page.heading == "Surat Keterangan Melapor"
    assert reference in page.text and "Perkumpulan Pemuda Peduli Balikpapan" in page.text
    assert "Status: Perlu perbaikan" in page.text and REASON in page.text
    assert re.search(r"Perlu perbaikan oleh Verifikator\s+\d{1,2} \w+ \d{4} \d{2}:\d{2} WITA", page.text)  # timeline
    assert "akta.pdf" in page.text
    assert screenshot.stat().st_size > 0
