from __future__ import annotations

from typing import Any

import pytest

from infra.catalogue import load_catalogue
from services.notifications.mailer import OutgoingMail
from services.notifications.messages import compose_case_mail, compose_reminder_mail

CATALOGUE = load_catalogue()
BASE_URL = "https://ormas.balikpapan.go.id/"
CASE_ID = "0b9e6c1e-5d7a-4f4e-9a51-7d3c2a1f0e42"


def _data(**extra: Any) -> dict[str, Any]:
    return {
        "case_id": CASE_ID,
        "reference": "SKM-2026-000123",
        "service": "skm",
        "organisation_name": "Perkumpulan Warga Gunung Sari",
        **extra,
    }


def _compose(event_type: str, **extra: Any) -> OutgoingMail | None:
    return compose_case_mail(event_type, _data(**extra), "sekretariat@contoh.or.id", "evt-1", BASE_URL, CATALOGUE)


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("case.submitted.v1", "Permohonan diterima"),
        ("case.revision_requested.v1", "Perlu perbaikan"),
        ("case.resubmitted.v1", "Perbaikan diterima"),
        ("case.forwarded.v1", "Diteruskan ke kepala bidang"),
        ("case.approved.v1", "Disetujui"),
        ("case.rejected.v1", "Ditolak"),
    ],
)
def test_each_known_type_produces_a_complete_mail(event_type: str, status: str) -> None:
    mail = _compose(event_type, reason="x", letter_number="400.7/001/Kesbangpol")

    assert mail is not None
    assert mail.subject == f"[Satu Ormas] SKM-2026-000123: {status}"
    assert mail.to == "sekretariat@contoh.or.id"
    assert mail.message_id == "<evt-1@satu-ormas>"
    assert "Yth. Pengurus Perkumpulan Warga Gunung Sari," in mail.body
    assert f"Status: {status}" in mail.body
    assert "Nomor permohonan: SKM-2026-000123" in mail.body
    # trailing slash of the base URL must not produce "//cases"
    assert f"https://ormas.balikpapan.go.id/cases/{CASE_ID}" in mail.body
    assert "Kesbangpol" in mail.body and "Kota Balikpapan" in mail.body
    assert "otomatis" in mail.body


@pytest.mark.parametrize(
    ("event_type", "label"),
    [("case.revision_requested.v1", "Catatan perbaikan"), ("case.rejected.v1", "Alasan penolakan")],
)
def test_reason_appears_in_body(event_type: str, label: str) -> None:
    reason = "Lampiran AD/ART belum ditandatangani ketua dan sekretaris."
    mail = _compose(event_type, reason=reason)
    assert mail is not None
    assert f"{label}: {reason}" in mail.body


def test_approved_mail_carries_letter_number_and_download_link() -> None:
    mail = _compose("case.approved.v1", letter_number="400.7/123/Kesbangpol/2026")
    assert mail is not None
    assert "Nomor surat: 400.7/123/Kesbangpol/2026" in mail.body
    assert "diunduh" in mail.body
    assert f"/cases/{CASE_ID}" in mail.body


def test_letter_number_is_read_from_the_nested_contract_shape() -> None:
    # contracts.events.CaseEventV1 carries the number as data["letter"]["number"].
    mail = _compose("case.approved.v1", letter={"number": "400.7/124/Kesbangpol/2026", "year": 2026})
    assert mail is not None
    assert "Nomor surat: 400.7/124/Kesbangpol/2026" in mail.body


def test_reason_is_not_shown_for_types_without_one() -> None:
    mail = _compose("case.submitted.v1", reason="internal note")
    assert mail is not None
    assert "internal note" not in mail.body


def test_missing_reason_still_produces_mail() -> None:
    mail = _compose("case.rejected.v1")
    assert mail is not None
    assert "Alasan penolakan" not in mail.body


def test_unknown_type_returns_none() -> None:
    assert _compose("case.archived.v1") is None
    assert _compose("case.submitted.v2") is None


def test_personal_data_in_payload_is_not_rendered() -> None:
    mail = _compose(
        "case.rejected.v1",
        reason="Dokumen tidak lengkap.",
        nik="6471012345678901",
        chairperson_name="Budi Santoso",
        phone="081234567890",
        address="Jl. Jenderal Sudirman No. 1",
        organisation={"chair_nik": "6471019876543210", "address": "Jl. Ahmad Yani 5"},
    )
    assert mail is not None
    text = mail.subject + mail.body
    for secret in (
        "6471012345678901",
        "6471019876543210",
        "Budi Santoso",
        "081234567890",
        "Sudirman",
        "Yani",
    ):
        assert secret not in text


def test_newlines_in_reference_cannot_break_the_subject() -> None:
    mail = compose_case_mail(
        "case.submitted.v1",
        _data(reference="SKM-2026-000123\r\nBcc: x@evil.example"),
        "a@b.c",
        "evt-2",
        BASE_URL,
        CATALOGUE,
    )
    assert mail is not None
    assert "\n" not in mail.subject and "\r" not in mail.subject


def test_message_id_is_deterministic_per_event() -> None:
    first = _compose("case.submitted.v1")
    again = _compose("case.submitted.v1")
    assert first is not None and again is not None
    assert first.message_id == again.message_id


def test_a_hold_is_worded_by_the_definition_with_its_reason() -> None:
    mail = _compose("case.held.v1", action="hold", reason="Perlu evaluasi tim")
    assert mail is not None and mail.subject.endswith(": Ditangguhkan untuk evaluasi")
    assert "Alasan: Perlu evaluasi tim" in mail.body and "Layanan: Surat Keterangan Melapor" in mail.body


def test_steps_that_are_no_news_for_the_organisation_send_nothing() -> None:
    assert _compose("case.field_visit_recorded.v1", action="record_field_visit") is None
    assert _compose("case.assigned.v1", action="take") is None
    assert _compose("case.overdue.v1", action="sla_overdue") is None


def test_an_accepted_report_mails_its_receipt_number() -> None:
    receipt = {"number": "TT-LAP/0001/KESBANGPOL/2026", "kind": "receipt"}
    mail = _compose("case.accepted.v1", service="report", action="accept", letter=receipt)
    assert mail is not None and "Nomor tanda terima: TT-LAP/0001/KESBANGPOL/2026" in mail.body
    assert "Layanan: Laporan Semester" in mail.body and mail.subject.endswith(": Laporan diterima")


def _reminder(event_type: str, offset: int) -> OutgoingMail | None:
    data = {
        "obligation_id": "o-1", "organisation_id": "org-1", "organisation_name": "Perkumpulan Warga Gunung Sari",
        "workflow": "report", "period": "2026-S1", "period_label": "Semester I (Januari–Juni) 2026",
        "due_on": "2026-07-31", "offset_days": offset, "missed_in_a_row": 0,
    }  # fmt: skip
    return compose_reminder_mail(event_type, data, "s@contoh.or.id", "evt-9", BASE_URL, CATALOGUE)


def test_reminders_before_and_after_the_due_date() -> None:
    before, after = _reminder("report.reminder_due.v1", -14), _reminder("report.overdue.v1", 1)
    assert before is not None and after is not None
    assert before.subject == "[Satu Ormas] Pengingat laporan semester: Semester I (Januari–Juni) 2026"
    assert "Jatuh tempo: 31 Juli 2026" in before.body and "akan jatuh tempo" in before.body
    assert after.subject.startswith("[Satu Ormas] Laporan semester terlambat") and "tidak aktif" in after.body
    assert before.message_id == "<evt-9@satu-ormas>"


def test_a_region_rewords_a_mail_without_code(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "skm.toml").write_text(
        '[actions.reject.mail]\nstatus = "Tidak disetujui"\nparagraph = "Mohon maaf, permohonan tidak disetujui."\n'
    )
    (tmp_path / "region.toml").write_text(
        'key = "tebo"\nname = "Kabupaten Tebo"\ntimezone = "Asia/Jakarta"\ntimezone_label = "WIB"\n'
    )
    catalogue = load_catalogue(tmp_path)
    mail = compose_case_mail("case.rejected.v1", _data(action="reject"), "a@b.c", "evt-3", BASE_URL, catalogue)
    assert mail is not None and mail.subject.endswith(": Tidak disetujui")
    assert "Mohon maaf, permohonan tidak disetujui." in mail.body and "Kabupaten Tebo" in mail.body
