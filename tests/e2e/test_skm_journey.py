"""The Surat Keterangan Melapor journey, end to end.

Every service, both relays and the gateway run as their own processes; the test is a browser-less
user talking HTTP. Mail is read from a real SMTP server; the letter is parsed and its QR decoded.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.browser import view_page
from tests.support.factories import organisation_payload
from tests.support.field_visit import record_field_visit
from tests.support.pdf import decode_qr_codes, pdf_text
from tests.support.system import eventually, in_queue, queue_rows
from tests.support.world import World, mail_about, mails_to, running_world, sign_up_with_organisation, status_of, upload


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest, amqp_uri: str, tmp_path) -> Iterator[World]:  # type: ignore[no-untyped-def]
    with running_world(request, request.param, amqp_uri, tmp_path) as world:
        yield world


def test_an_ormas_files_an_skm_and_receives_a_verifiable_letter(world: World) -> None:
    email = "sekretaris@pemuda-manggar.or.id"
    applicant = world.client(sign_up_with_organisation(world, email, "Ikatan Pemuda Manggar"))
    verifier, approver, auditor = (world.client(world.staff[r]) for r in ("verifier", "approver", "auditor"))

    # The address form's choices come from the region's reference data (public).
    regions = world.client().get("/api/reference/regions").json()
    assert len(regions) == 6 and "Klandasan Ilir" in regions["Balikpapan Kota"]

    # File the application with two PDFs.
    attachments = [
        {"file_id": upload(applicant), "kind": "cover_letter"},
        {"file_id": upload(applicant), "kind": "deed"},
    ]
    filed = applicant.post("/api/cases", json={"service": "skm", "attachments": attachments})
    assert filed.status_code == 201, filed.text
    case_id, reference = filed.json()["id"], filed.json()["reference"]

    # The verifier finds it in the work queue and asks for a correction.
    eventually(lambda: in_queue(verifier, case_id))
    revision = verifier.post(f"/api/cases/{case_id}/revision-requests", json={"reason": "Akta notaris tidak terbaca"})
    assert revision.status_code == 200, revision.text
    assert "Akta notaris tidak terbaca" in mail_about(world, email, "Perlu perbaikan").get_content()

    # The applicant uploads a corrected deed and resubmits; the verifier takes the case, may not forward it
    # before the field visit, records the visit (berita acara) and forwards.
    corrected = [{"file_id": upload(applicant, "akta-perbaikan.pdf"), "kind": "deed"}]
    assert applicant.post(f"/api/cases/{case_id}/resubmissions", json={"attachments": corrected}).status_code == 200
    taken = verifier.post(f"/api/cases/{case_id}/actions/take")
    assert taken.status_code == 200 and taken.json()["assignee"]["role"] == "verifier", taken.text
    # The queue shows who holds what, by name.
    my_name = verifier.get("/api/me").json()["full_name"]
    eventually(lambda: [c["assignee_name"] for c in queue_rows(verifier) if c["case_id"] == case_id] == [my_name])
    too_early = verifier.post(f"/api/cases/{case_id}/forward", json={"note": "Berkas lengkap"})
    assert too_early.status_code == 409 and too_early.json()["error"]["field"] == "action"
    assert record_field_visit(verifier, case_id).status_code == 200
    assert verifier.post(f"/api/cases/{case_id}/forward", json={"note": "Berkas lengkap"}).status_code == 200
    eventually(lambda: in_queue(approver, case_id))

    # The approver holds the case for evaluation (the clock stops, the reason is recorded), then releases it.
    held = approver.post(f"/api/cases/{case_id}/actions/hold", json={"reason": "Perlu evaluasi tim"})
    assert held.status_code == 200 and held.json()["status"] == "on_hold" and not held.json()["sla"]["running"]
    released = approver.post(f"/api/cases/{case_id}/actions/release", json={"note": "Evaluasi selesai"})
    assert (
        released.status_code == 200 and released.json()["sla"]["running"] and released.json()["sla"]["sla_days"] == 15
    )
    assert [c["clock"] for c in released.json()["clock_changes"]] == [
        "running",
        "paused",
        "running",
        "paused",
        "running",
    ]
    approved = approver.post(f"/api/cases/{case_id}/approval", json={})
    assert approved.status_code == 200, approved.text
    letter = approved.json()["letter"]
    assert re.fullmatch(r"SKM/\d{4}/KESBANGPOL/\d{4}", letter["number"])

    # One e-mail per step that concerns the organisation (the definitions word them): filed, revision
    # requested, resubmitted, forwarded, held, approved; taking the case, the field visit and the release
    # are the office's own business.
    mails = [mail for mail in mails_to(world, email, 7) if "Konfirmasi alamat" not in str(mail.message["Subject"])]
    assert len(mails) == 6  # and the link that confirmed the address at sign-up
    assert all(reference in str(mail.message["Subject"]) for mail in mails)
    subjects = sorted(str(mail.message["Subject"]).split(": ", 1)[1] for mail in mails)
    assert subjects == sorted([
        "Permohonan diterima", "Perlu perbaikan", "Perbaikan diterima", "Diteruskan ke kepala bidang",
        "Ditangguhkan untuk evaluasi", "Disetujui",
    ])  # fmt: skip
    assert "Alasan: Perlu evaluasi tim" in mail_about(world, email, "Ditangguhkan").get_content()
    assert letter["number"] in mail_about(world, email, "Disetujui").get_content()

    # The timeline (a read model) shows every step.
    timeline = eventually(lambda: (t := applicant.get(f"/api/cases/{case_id}/timeline").json()) and len(t) == 9 and t)
    assert [step["status"] for step in timeline] == [  # type: ignore[union-attr]
        "submitted", "revision_requested", "resubmitted", "resubmitted", "resubmitted", "forwarded", "on_hold",
        "forwarded", "approved",
    ]  # fmt: skip

    # The letter: a real PDF with the number, whose QR code opens the public verification page.
    response = eventually(lambda: (r := applicant.get(f"/api/cases/{case_id}/letter")).status_code == 200 and r)
    assert response.headers["content-type"] == "application/pdf"  # type: ignore[union-attr]
    text = pdf_text(response.content)  # type: ignore[union-attr]
    assert letter["number"] in text and "Ikatan Pemuda Manggar" in text
    [url] = decode_qr_codes(response.content)  # type: ignore[union-attr]
    assert url == f"{world.base}/verify/{letter['verification_code']}"
    screenshot = world.system.log_dir / "verify-page.png"
    page = view_page(url, screenshot=screenshot)  # a phone's browser, no sign-in
    assert page.status == 200 and page.html_lang == "id"
    assert letter["number"] in page.text and "Ikatan Pemuda Manggar" in page.text and "asli" in page.text.lower()
    assert screenshot.stat().st_size > 0
    assert httpx.get(f"{world.base}/verify/{'0' * 32}").status_code == 404

    # The auditor replays the history, with actors and reasons, and the state at any version.
    history = auditor.get(f"/api/cases/{case_id}/history").json()
    assert [e["type"] for e in history] == ["Case.Opened"] + ["Case.Moved"] * 8
    assert [e["data"]["action"] for e in history[1:]] == [
        "request_revision", "resubmit", "take", "record_field_visit", "forward", "hold", "release", "approve",
    ]  # fmt: skip
    assert history[4]["data"]["form"]["officers"] == ["Rina Verifikator", "Joko Staf"]
    assert history[6]["data"]["clock"] == "paused" and history[6]["actor"]["role"] == "approver"
    assert history[1]["actor"]["role"] == "verifier" and history[1]["data"]["reason"] == "Akta notaris tidak terbaca"
    assert auditor.get(f"/api/cases/{case_id}/state", params={"version": 2}).json()["status"] == "revision_requested"
    assert applicant.get(f"/api/cases/{case_id}/history").status_code == 200  # their own case

    # The auditor changes nothing; a second applicant sees nothing of this case.
    assert auditor.post(f"/api/cases/{case_id}/approval", json={}).status_code == 403
    stranger = world.client(sign_up_with_organisation(world, "ketua@ormas-lain.or.id", "Forum Warga Teritip"))
    for path in ("", "/history", "/timeline", "/letter"):
        assert stranger.get(f"/api/cases/{case_id}{path}").status_code == 404
    assert all(c["case_id"] != case_id for c in stranger.get("/api/cases").json()["items"])
    # Attachments (also the deed replaced by the resubmission) can be downloaded by the owner and staff,
    # not by the stranger.
    for file_id in (attachments[0]["file_id"], attachments[1]["file_id"], corrected[0]["file_id"]):
        assert applicant.get(f"/api/cases/{case_id}/attachments/{file_id}").content.startswith(b"%PDF-")
        assert verifier.get(f"/api/cases/{case_id}/attachments/{file_id}").status_code == 200
        assert stranger.get(f"/api/cases/{case_id}/attachments/{file_id}").status_code == 404
    assert len(applicant.get("/api/cases").json()["items"]) == 1

    # The operator's check: every read model equals a rebuild from the event store; a rebuild keeps it so.
    for command in ("check", "rebuild", "check"):
        result = subprocess.run(
            [sys.executable, "-m", "ops.cli", command],
            env=world.system.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert "submissions.cases: equal to a rebuild" in result.stderr
    assert "documents.letters: equal to a rebuild" in result.stderr

    # After the rebuild (which keeps the position it applied through, not a row per event) the next filing
    # reaches the work queue and the mail as any other.
    again = applicant.post(
        "/api/cases", json={"service": "skm", "attachments": [{"file_id": upload(applicant), "kind": "cover_letter"}]}
    )
    assert again.status_code == 201, again.text
    eventually(lambda: in_queue(verifier, again.json()["id"]))
    assert again.json()["reference"] in mail_about(world, email, again.json()["reference"]).get_content()


def test_bad_input_gets_a_clear_4xx_and_changes_nothing(world: World) -> None:
    applicant = world.client(sign_up_with_organisation(world, "sekretaris@ormas-uji.or.id", "Ormas Uji Coba"))
    verifier = world.client(world.staff["verifier"])
    filed = applicant.post("/api/cases", json={"attachments": [{"file_id": upload(applicant), "kind": "cover_letter"}]})
    case_id = filed.json()["id"]
    history_before = verifier.get(f"/api/cases/{case_id}/history").json()

    def error(response: httpx.Response) -> dict[str, Any]:
        assert 400 <= response.status_code < 500, (response.status_code, response.text)
        assert "Traceback" not in response.text
        return dict(response.json()["error"])

    not_json = applicant.post("/api/cases", content=b"{not json", headers={"content-type": "application/json"})
    assert error(not_json)["code"] == "malformed_json"
    assert error(applicant.post("/api/cases", json={"attachments": "many"}))["field"].startswith("attachments")
    assert error(applicant.post("/api/cases", json={}))["field"] == "attachments"
    unknown_file = applicant.post("/api/cases", json={"attachments": [{"file_id": "a" * 32, "kind": "deed"}]})
    assert error(unknown_file)["field"] == "attachments.0.file_id"
    png = applicant.post(
        "/api/files", files={"file": ("logo.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "application/pdf")}
    )
    assert png.status_code == 415 and error(png)["field"] == "file"
    assert verifier.get("/api/cases/00000000-0000-4000-8000-000000000000").status_code == 404
    assert error(verifier.get("/api/cases/not-a-case"))["field"] == "case_id"
    assert applicant.post(f"/api/cases/{case_id}/forward", json={}).status_code == 403  # wrong role
    approve_too_early = world.client(world.staff["approver"]).post(f"/api/cases/{case_id}/approval", json={})
    assert approve_too_early.status_code == 409 and error(approve_too_early)["field"] == "status"
    assert error(verifier.post(f"/api/cases/{case_id}/revision-requests", json={"reason": ""}))["field"] == "reason"
    assert world.client().get("/api/cases").status_code == 401
    assert world.client("forged.token.value").get("/api/cases").status_code == 401
    bad_org = applicant.post("/api/organisations", json=organisation_payload(npwp="123"))
    assert bad_org.status_code in (409, 422)

    assert verifier.get(f"/api/cases/{case_id}/history").json() == history_before
    assert status_of(verifier, case_id) == "submitted"

    # The same case, rejected with reasons: the applicant is told why, and no letter exists.
    approver = world.client(world.staff["approver"])
    assert record_field_visit(verifier, case_id).status_code == 200
    assert verifier.post(f"/api/cases/{case_id}/forward", json={}).status_code == 200
    assert error(approver.post(f"/api/cases/{case_id}/rejection", json={}))["field"] == "reason"
    rejected = approver.post(f"/api/cases/{case_id}/rejection", json={"reason": "Ormas sedang dalam evaluasi"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert "Ormas sedang dalam evaluasi" in mail_about(world, "sekretaris@ormas-uji.or.id", "Ditolak").get_content()
    assert applicant.get(f"/api/cases/{case_id}/letter").status_code == 404
