"""Half-yearly reports end to end, with time moved by configuration (never by sleeping).

The demo ormas is recorded on the real today, in some period FIRST; SECOND and THIRD follow. The whole
system runs with SATU_TODAY two days after SECOND is due (its idea of today: which periods have begun,
the receipt's date); `satu remind --today …` sweeps as on earlier days. The ormas is reminded before
FIRST is due, told when it is overdue, turns late and then inactive when SECOND is missed too, files
both reports — returned once, accepted — receives numbered receipts whose QR codes verify, and is up to
date again. Every date is computed from the region's calendar, so the test holds on any real day. Mail is
read from a real SMTP server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from infra.catalogue import load_catalogue
from infra.dates import indonesian_date
from ops.seed import APPLICANT
from tests.support.pdf import decode_qr_codes, pdf_text
from tests.support.system import eventually, in_queue
from tests.support.world import World, mail_about, running_world
from tests.support.world import upload as upload_pdf

DEADLINE = load_catalogue().workflows["report"].deadline
assert DEADLINE is not None
REAL_TODAY = dt.datetime.now(ZoneInfo("Asia/Makassar")).date()
FIRST = DEADLINE.periods_ending_between(REAL_TODAY, REAL_TODAY + dt.timedelta(days=400))[0]
SECOND, THIRD = DEADLINE.at_index(FIRST.index + 1), DEADLINE.at_index(FIRST.index + 2)
TODAY = (SECOND.due_on + dt.timedelta(days=2)).isoformat()


def day(base: dt.date, days: int) -> str:
    return (base + dt.timedelta(days=days)).isoformat()


SECRETARY = APPLICANT[0]
REPORT = {"no_activity": True, "signed_by_chair": "Budi Santoso", "signed_by_secretary": "Siti Sekretaris"}


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest, amqp_uri: str, tmp_path: Path) -> Iterator[World]:
    with running_world(request, request.param, amqp_uri, tmp_path, env={"SATU_TODAY": TODAY}) as world:
        yield world


def remind(world: World, day: str) -> tuple[int, int]:
    """`satu remind --today DAY`: (reminders recorded, overdue cases announced)."""
    run = world.satu("remind", "--today", day)
    assert run.returncode == 0, run.stderr
    words = (run.stdout + run.stderr).split()
    return int(words[0]), int(words[words.index("and") + 1])


def test_a_report_from_due_to_accepted_with_reminders_and_compliance(world: World) -> None:
    applicant, verifier = world.sign_in(SECRETARY), world.client(world.staff["verifier"])
    organisation_id = applicant.get("/api/me").json()["organisation_id"]

    def reporting_status() -> str:
        return str(verifier.get(f"/api/organisations/{organisation_id}").json()["reporting_status"])

    # What the organisation owes, as of the system's today.
    due = applicant.get("/api/reports/due").json()
    assert [(row["period"], row["due_on"], row["overdue"]) for row in due] == [
        (FIRST.key, FIRST.due_on.isoformat(), True), (SECOND.key, SECOND.due_on.isoformat(), True),
        (THIRD.key, THIRD.due_on.isoformat(), False),
    ]  # fmt: skip

    # The same in the browser pages the reminder mails link to (signed in with the session cookie).
    with httpx.Client(base_url=world.base) as browser:
        assert browser.get("/reports", follow_redirects=False).headers["location"] == "/login?next=/reports"
        browser.post("/api/session", json={"email": SECRETARY, "password": world.passwords[SECRETARY]})
        page = browser.get("/reports")
        assert page.status_code == 200 and FIRST.label in page.text and "terlambat" in page.text
        assert indonesian_date(FIRST.due_on) in page.text

    # The sweep pages through the registry's directory (a read model: wait for the ormas to be in it).
    eventually(
        lambda: any(o["organisation_id"] == organisation_id for o in verifier.get("/api/organisations").json()["items"])
    )
    # An SKM filed today and left waiting: its 15 working days pass in the months the sweeps cover.
    skm = applicant.post("/api/cases", json={"attachments": [{"file_id": upload_pdf(applicant), "kind": "deed"}]})
    assert skm.status_code == 201, skm.text
    eventually(lambda: in_queue(verifier, skm.json()["id"]))
    reminders, overdue = remind(world, day(FIRST.due_on, -14))  # 14 days before FIRST is due
    assert reminders == 1
    assert remind(world, day(FIRST.due_on, -14)) == (0, 0)  # the timer again, or another replica: nothing twice
    reminder = mail_about(world, SECRETARY, "Pengingat laporan semester")
    assert FIRST.label in reminder["Subject"]
    assert f"Jatuh tempo: {indonesian_date(FIRST.due_on)}" in reminder.get_content()

    reminders, later = remind(world, day(FIRST.due_on, 1))  # a day late
    assert reminders == 1
    overdue += later
    assert "tidak aktif" in mail_about(world, SECRETARY, "Laporan semester terlambat").get_content()
    eventually(lambda: reporting_status() == "late")
    reminders, later = remind(world, day(SECOND.due_on, 1))  # SECOND missed too: two in a row
    assert reminders == 1 and overdue + later == 1  # the SKM was announced overdue once, by one sweep
    history = verifier.get(f"/api/cases/{skm.json()['id']}/history").json()
    assert history[-1]["type"] == "Case.Overdue" and history[-1]["data"]["days_used"] > 15
    eventually(lambda: reporting_status() == "inactive")

    def missed_in_the_directory() -> list[list[str]]:  # the staff list is a read model: it follows shortly
        inactive = verifier.get("/api/organisations", params={"reporting_status": "inactive"}).json()["items"]
        return [o["missed_periods"] for o in inactive if o["organisation_id"] == organisation_id]

    eventually(lambda: missed_in_the_directory() == [[FIRST.key, SECOND.key]])

    # The organisation drafts its FIRST report, updates the draft ("no activity" is a valid report) and
    # submits it; the verifier returns it once; it is corrected and accepted with a numbered receipt.
    filing = {"service": "report", "form": {**REPORT, "period": FIRST.key, "no_activity": False}}
    draft = applicant.post("/api/cases", json=filing)
    assert draft.status_code == 201 and draft.json()["status"] == "draft", draft.text
    report_id = draft.json()["id"]
    assert draft.json()["subject"] == FIRST.key and not draft.json()["sla"]["running"]
    updated = applicant.post(
        f"/api/cases/{report_id}/actions/update_draft", json={"form": {**REPORT, "period": FIRST.key}}
    )
    assert updated.status_code == 200 and updated.json()["form"]["no_activity"] is True, updated.text
    retried = applicant.post("/api/cases", json=filing)  # the first filing again (its answer was lost)
    assert retried.status_code == 201 and retried.json()["id"] == report_id and retried.json()["status"] == "draft"
    again = applicant.post("/api/cases", json={"service": "report", "form": {**REPORT, "period": FIRST.key}})
    assert again.status_code == 409 and again.json()["error"]["field"] == "form.period"
    assert draft.json()["reference"] in again.json()["error"]["message"]
    assert applicant.get("/api/reports/due").json()[0]["status"] == "draft"  # started, not yet filed
    assert applicant.post(f"/api/cases/{report_id}/actions/submit").status_code == 200
    assert "akan diperiksa" in mail_about(world, SECRETARY, "Laporan sedang diperiksa").get_content()
    eventually(lambda: in_queue(verifier, report_id))
    returned = verifier.post(
        f"/api/cases/{report_id}/actions/return_for_revision", json={"reason": "Tanda tangan ketua belum ada"}
    )
    assert returned.status_code == 200 and not returned.json()["sla"]["running"]
    assert "Tanda tangan ketua belum ada" in mail_about(world, SECRETARY, "Laporan perlu perbaikan").get_content()
    corrected = applicant.post(
        f"/api/cases/{report_id}/actions/resubmit", json={"form": {**REPORT, "period": FIRST.key}}
    )
    assert corrected.status_code == 200 and corrected.json()["status"] == "resubmitted", corrected.text
    accepted = verifier.post(f"/api/cases/{report_id}/actions/accept", json={"note": "Lengkap"})
    assert accepted.status_code == 200, accepted.text
    receipt = accepted.json()["letter"]
    assert receipt["number"] == f"TT-LAP/0001/KESBANGPOL/{TODAY[:4]}" and receipt["issued_on"] == TODAY
    assert (
        f"Nomor tanda terima: TT-LAP/0001/KESBANGPOL/{TODAY[:4]}"
        in mail_about(world, SECRETARY, ": Laporan diterima").get_content()
    )

    # The receipt: a real PDF naming the period and what was reported, whose QR code opens the public
    # verification page, which says it is genuine.
    response = eventually(lambda: (r := applicant.get(f"/api/cases/{report_id}/letter")).status_code == 200 and r)
    assert isinstance(response, httpx.Response)
    text = pdf_text(response.content)
    assert "TANDA TERIMA LAPORAN SEMESTER" in text and receipt["number"] in text
    assert FIRST.label in text and "Perkumpulan Pemuda Peduli Balikpapan" in text
    assert "Kegiatan dalam periode : tidak ada kegiatan" in text
    [url] = decode_qr_codes(response.content)
    assert url == f"{world.base}/verify/{receipt['verification_code']}"
    page = httpx.get(url)
    assert page.status_code == 200 and "Surat ini asli" in page.text and receipt["number"] in page.text
    assert world.client().get(f"/api/verify/{receipt['verification_code']}").json()["genuine"] is True

    # One report accepted: one period still missed (late); both accepted: up to date again.
    eventually(lambda: reporting_status() == "late")
    activity_file = upload_pdf(applicant, "kegiatan.pdf")
    activity = {"held_on": day(SECOND.starts_on, 70), "title": "Kerja bakti lingkungan Klandasan Ilir"}
    second = applicant.post(
        "/api/cases",
        json={
            "service": "report",
            "form": {**REPORT, "period": SECOND.key, "no_activity": False, "activities": [activity]},
            "attachments": [{"file_id": activity_file, "kind": "activity_report"}],
        },
    )
    assert second.status_code == 201, second.text
    assert applicant.post(f"/api/cases/{second.json()['id']}/actions/submit").status_code == 200
    assert verifier.post(f"/api/cases/{second.json()['id']}/actions/accept").json()["letter"]["sequence"] == 2
    eventually(lambda: reporting_status() == "up_to_date")
    due = applicant.get("/api/reports/due").json()
    assert [(row["period"], row["status"], row["overdue"]) for row in due] == [
        (FIRST.key, "accepted", False), (SECOND.key, "accepted", False), (THIRD.key, "not_filed", False),
    ]  # fmt: skip
