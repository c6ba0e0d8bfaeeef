"""Mails are worded by the region's workflow definitions and region profile, inside one envelope."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.catalogue import Catalogue, load_catalogue
from services.notifications.messages import Draft, compose_case_mail, compose_reminder_mail

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


def _compose(event_type: str, catalogue: Catalogue = CATALOGUE, **extra: Any) -> Draft | None:
    return compose_case_mail(event_type, _data(**extra), "evt-1", BASE_URL, catalogue)


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
def test_each_walking_skeleton_type_produces_a_complete_mail(event_type: str, status: str) -> None:
    mail = _compose(event_type, reason="x", letter_number="400.7/001/Kesbangpol")

    assert mail is not None
    assert mail.subject == f"[Satu Ormas] SKM-2026-000123: {status}"
    assert mail.message_id == "<evt-1@satu-ormas>"
    assert mail.to("sekretariat@contoh.or.id").to == "sekretariat@contoh.or.id"
    assert "Yth. Pengurus Perkumpulan Warga Gunung Sari," in mail.body
    assert f"Status: {status}" in mail.body
    assert "Nomor permohonan: SKM-2026-000123" in mail.body
    # trailing slash of the base URL must not produce "//cases"
    assert f"https://ormas.balikpapan.go.id/cases/{CASE_ID}" in mail.body
    assert "Kesbangpol" in mail.body and "Kota Balikpapan" in mail.body
    assert "otomatis" in mail.body


# What the walking skeleton's own table mailed for a rejection, word for word, but for the service's name
# (now the definition's label rather than "SKM").
OLD_REJECTION = f"""Yth. Pengurus Perkumpulan Warga Gunung Sari,

Dengan berat hati kami sampaikan bahwa permohonan Anda ditolak.

Nomor permohonan: SKM-2026-000123
Layanan: Surat Keterangan Melapor
Status: Ditolak
Alasan penolakan: Dokumen tidak lengkap.

Lihat detail permohonan:
https://ormas.balikpapan.go.id/cases/{CASE_ID}

Hormat kami,
Badan Kesatuan Bangsa dan Politik (Kesbangpol) Kota Balikpapan

--
Pesan ini dikirim secara otomatis oleh sistem Satu Ormas. Mohon tidak membalas e-mail ini.
"""


def test_an_event_of_a_case_filed_before_the_kernel_mails_the_old_text() -> None:
    old = _compose("case.rejected.v1", reason="Dokumen tidak lengkap.")  # no action: matched by its type
    kernel = _compose("case.rejected.v1", reason="Dokumen tidak lengkap.", action="reject")
    assert old is not None and kernel is not None
    assert old.body == OLD_REJECTION and kernel.body == OLD_REJECTION


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
    mail = _compose("case.approved.v1", action="approve", letter={"number": "400.7/124/Kesbangpol/2026", "year": 2026})
    assert mail is not None
    assert "Nomor surat: 400.7/124/Kesbangpol/2026" in mail.body


def test_reason_is_not_shown_for_steps_without_one() -> None:
    mail = _compose("case.submitted.v1", reason="internal note")
    assert mail is not None
    assert "internal note" not in mail.body


def test_missing_reason_still_produces_mail() -> None:
    mail = _compose("case.rejected.v1", action="reject")
    assert mail is not None
    assert "Alasan penolakan" not in mail.body


def test_unknown_type_or_service_returns_none() -> None:
    assert _compose("case.archived.v1") is None
    assert _compose("case.submitted.v2") is None
    assert _compose("case.submitted.v1", service="hibah") is None


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
    for secret in ("6471012345678901", "6471019876543210", "Budi Santoso", "081234567890", "Sudirman", "Yani"):
        assert secret not in text


def test_newlines_in_reference_cannot_break_the_subject() -> None:
    mail = _compose("case.submitted.v1", reference="SKM-2026-000123\r\nBcc: x@evil.example")
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
    assert "Waktu layanan dihentikan sementara" in mail.body
    assert "Alasan: Perlu evaluasi tim" in mail.body and "Layanan: Surat Keterangan Melapor" in mail.body


def test_steps_that_are_no_news_for_the_organisation_send_nothing() -> None:
    assert _compose("case.field_visit_recorded.v1", action="record_field_visit") is None
    assert _compose("case.assigned.v1", action="take") is None
    assert _compose("case.released.v1", action="release") is None
    assert _compose("case.overdue.v1", action="sla_overdue") is None
    assert _compose("case.drafted.v1", service="report") is None  # a report's draft is the organisation's own


def test_an_accepted_report_mails_its_receipt_number() -> None:
    receipt = {"number": "TT-LAP/0001/KESBANGPOL/2026", "kind": "receipt"}
    mail = _compose("case.accepted.v1", service="report", action="accept", letter=receipt)
    assert mail is not None and "Nomor tanda terima: TT-LAP/0001/KESBANGPOL/2026" in mail.body
    assert "Layanan: Laporan Semester" in mail.body and mail.subject.endswith(": Laporan diterima")


def _reminder(event_type: str, offset: int, catalogue: Catalogue = CATALOGUE) -> Draft | None:
    data = {
        "obligation_id": "o-1", "organisation_id": "org-1", "organisation_name": "Perkumpulan Warga Gunung Sari",
        "workflow": "report", "period": "2026-S1", "period_label": "Semester I (Januari–Juni) 2026",
        "due_on": "2026-07-31", "offset_days": offset, "missed_in_a_row": 0,
    }  # fmt: skip
    return compose_reminder_mail(event_type, data, "evt-9", BASE_URL, catalogue)


def test_reminders_before_and_after_the_due_date() -> None:
    before, after = _reminder("report.reminder_due.v1", -14), _reminder("report.overdue.v1", 1)
    assert before is not None and after is not None
    assert before.subject == "[Satu Ormas] Pengingat laporan semester: Semester I (Januari–Juni) 2026"
    assert "akan jatuh tempo" in before.body and "tidak aktif" not in before.body
    assert after.subject == "[Satu Ormas] Laporan semester terlambat: Semester I (Januari–Juni) 2026"
    assert "telah melewati tanggal jatuh tempo" in after.body and "tidak aktif" in after.body
    for mail in (before, after):
        assert "Periode: Semester I (Januari–Juni) 2026" in mail.body and "Jatuh tempo: 31 Juli 2026" in mail.body
        assert "Layanan: Laporan Semester" in mail.body and "https://ormas.balikpapan.go.id/reports\n" in mail.body
        assert mail.body.startswith("Yth. Pengurus Perkumpulan Warga Gunung Sari,")
        assert mail.body.endswith("Mohon tidak membalas e-mail ini.\n") and mail.message_id == "<evt-9@satu-ormas>"


def test_other_report_events_are_no_reminders() -> None:
    assert _reminder("report.recorded.v1", -14) is None


def write(folder: Path, relative: str, text: str) -> None:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_a_region_rewords_its_mails_and_signs_them_without_code(tmp_path: Path) -> None:
    write(
        tmp_path,
        "workflows/skm.toml",
        '[actions.reject.mail]\nstatus = """Tidak\ndisetujui"""\n'  # a multi-line status stays one line in the subject
        'paragraph = "Mohon maaf, permohonan tidak disetujui."\n',
    )
    write(tmp_path, "workflows/report.toml", '[deadline.mail_before]\nstatus = "Jangan lupa"\nparagraph = "Segera."\n')
    write(
        tmp_path,
        "region.toml",
        'key = "tebo"\nname = "Kabupaten Tebo"\noffice_name = "Badan Kesbangpol"\noffice_short_name = "Bakesbangpol"\n'
        'timezone = "Asia/Jakarta"\ntimezone_label = "WIB"\n',
    )
    catalogue = load_catalogue(tmp_path)

    mail = _compose("case.rejected.v1", catalogue, action="reject", reason="Ganda")
    assert mail is not None and mail.subject == "[Satu Ormas] SKM-2026-000123: Tidak disetujui"  # one line
    assert "Mohon maaf, permohonan tidak disetujui." in mail.body and "Alasan penolakan: Ganda" in mail.body
    assert "Badan Kesbangpol (Bakesbangpol) Kabupaten Tebo" in mail.body and "Balikpapan" not in mail.body
    reminder = _reminder("report.reminder_due.v1", -3, catalogue)
    assert reminder is not None and reminder.subject.startswith("[Satu Ormas] Jangan lupa: Semester I")
    assert "\nSegera.\n" in reminder.body and "Kabupaten Tebo" in reminder.body


def test_links_a_person_typed_are_written_out_harmlessly() -> None:
    # An organisation named like a link, or a reason with an address, must not become a link in a mail
    # that comes from the office: the mail links to the office's own address only.
    mail = _compose(
        "case.revision_requested.v1",
        organisation_name="Ormas Resmi https://evil.example.com/login",
        reason="Unggah ulang di www.evil.com atau 203.0.113.9; gelar S.Pd dan M.Si tetap",
    )
    assert mail is not None
    assert "https://evil" not in mail.body and "www.evil.com" not in mail.body
    assert "https[:]//evil[.]example[.]com/login" in mail.body and "www[.]evil[.]com" in mail.body
    assert "203[.]0[.]113[.]9" in mail.body
    assert "S.Pd dan M.Si" in mail.body  # degrees after a name are not links
    assert f"{BASE_URL.rstrip('/')}/cases/{CASE_ID}" in mail.body  # the office's own link stays


def test_a_reason_cannot_push_bidi_or_control_characters_into_a_mail() -> None:
    mail = _compose("case.revision_requested.v1", reason="Alamat\u202e salah\nBaris kedua\x07")
    assert mail is not None
    assert "\u202e" not in mail.body and "\x07" not in mail.body and "Alamat salah Baris kedua" in mail.body
