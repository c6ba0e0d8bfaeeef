"""The receipt (tanda terima) of an accepted half-yearly report: a one-page PDF with its number, the
organisation, the period and what the report said, and a QR code that decodes to its verification address."""

from __future__ import annotations

import pytest

from services.documents.letters import LayoutError, check_layout, render_letter
from services.submissions.hooks import form_facts
from tests.support.factories import letter_content, pdf_bytes
from tests.support.pdf import decode_qr_codes, page_count, pdf_text

URL = "https://satu-ormas.example.id/verify/7c1e9a0d5b7e4a1f8c6d2e0b9a7f5c3d"
REPORT = {
    "period": "2026-S1",
    "activities": [],
    "no_activity": True,
    "board_changed": False,
    "board_change_note": None,
    "office_changed": False,
    "new_address": None,
    "signed_by_chair": "Budi Santoso",
    "signed_by_secretary": "Siti Aminah",
}


def receipt(**form: object) -> bytes:
    return render_letter(
        letter_content(
            template="receipt",
            letter_title="TANDA TERIMA LAPORAN SEMESTER",
            number="TT-LAP/0001/KESBANGPOL/2026",
            organisation_name="Perkumpulan 漢字 Tionghoa",
            subject_label="laporan Semester I (Januari–Juni) 2026",
            verification_url=URL,
            facts=form_facts({**REPORT, **form}) or {},
        )
    )


def test_a_receipt_names_the_period_and_what_was_reported_and_is_verifiable() -> None:
    pdf = receipt()
    text = pdf_text(pdf)
    assert "TANDA TERIMA LAPORAN SEMESTER" in text and "TT-LAP/0001/KESBANGPOL/2026" in text
    assert "laporan Semester I (Januari–Juni) 2026" in text and "Perkumpulan 漢字 Tionghoa" in text
    assert "telah menerima" in text and "melaporkan keberadaannya" not in text  # not the SKM wording
    assert "Kegiatan dalam periode : tidak ada kegiatan" in text
    assert "Perubahan pengurus : tidak ada" in text and "Perubahan alamat sekretariat : tidak ada" in text
    assert "Ketua Budi Santoso dan Sekretaris Siti Aminah" in text
    assert decode_qr_codes(pdf) == [URL]
    assert page_count(pdf) == 1


def test_a_receipt_counts_the_activities_and_names_a_new_address() -> None:
    activities = [{"held_on": f"2026-0{month}-10", "title": "Rapat anggota"} for month in (1, 2, 3)]
    text = pdf_text(
        receipt(no_activity=False, activities=activities, office_changed=True, new_address="Jl. Ahmad Yani No. 5")
    )
    assert "Kegiatan dalam periode : 3 kegiatan" in text
    assert "Perubahan alamat sekretariat : ada: Jl. Ahmad Yani No. 5" in text


def test_a_receipt_recorded_before_facts_travelled_still_renders_without_the_summary() -> None:
    text = pdf_text(render_letter(letter_content(template="receipt", subject_label="laporan 2026-S1")))
    assert "telah menerima laporan 2026-S1" in text and "Isi laporan" not in text


def test_an_unknown_template_is_refused() -> None:
    with pytest.raises(ValueError, match="no document template"):
        render_letter(letter_content(template="../../etc/passwd"))
    with pytest.raises(ValueError, match="no document template"):
        render_letter(letter_content(template="_layout"))


def test_a_document_that_is_not_one_page_is_not_issued() -> None:
    check_layout(pdf_bytes(1), letter_content())  # a one-page letter passes
    with pytest.raises(LayoutError, match="rendered to 2 pages, not 1: not issued"):
        check_layout(pdf_bytes(2), letter_content())
