"""The receipt (tanda terima) of an accepted half-yearly report: a one-page PDF with its number, the
organisation and the period, and a QR code that decodes to its verification address."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from services.documents.letters import render_letter
from tests.support.factories import letter_content
from tests.support.pdf import decode_qr_codes, pdf_text

URL = "https://satu-ormas.example.id/verify/7c1e9a0d5b7e4a1f8c6d2e0b9a7f5c3d"


def test_a_receipt_names_the_period_and_is_verifiable() -> None:
    pdf = render_letter(
        letter_content(
            template="receipt",
            letter_title="TANDA TERIMA LAPORAN SEMESTER",
            number="TT-LAP/0001/KESBANGPOL/2026",
            organisation_name="Perkumpulan 漢字 Tionghoa",
            subject_label="laporan Semester I (Januari–Juni) 2026",
            verification_url=URL,
        )
    )
    text = pdf_text(pdf)
    assert "TANDA TERIMA LAPORAN SEMESTER" in text and "TT-LAP/0001/KESBANGPOL/2026" in text
    assert "laporan Semester I (Januari–Juni) 2026" in text and "Perkumpulan 漢字 Tionghoa" in text
    assert "telah menerima" in text and "melaporkan keberadaannya" not in text  # not the SKM wording
    assert decode_qr_codes(pdf) == [URL]
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1


def test_an_unknown_template_is_refused() -> None:
    with pytest.raises(ValueError, match="no document template"):
        render_letter(letter_content(template="../../etc/passwd"))
    with pytest.raises(ValueError, match="no document template"):
        render_letter(letter_content(template="_layout"))
