"""The Surat Keterangan Melapor PDF: what a reader sees and what a scanner decodes."""

from __future__ import annotations

import datetime
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.documents.letters import LetterContent, format_date_id, render_letter
from tests.support.factories import letter_content
from tests.support.pdf import decode_qr_codes, page_count, pdf_text

URL = "https://satu-ormas.example.id/verify/3f2a9c0d5b7e4a1f8c6d2e0b9a7f5c3d"
TRICKY_NAME = 'Ormas #1 *Bintang* [Timur] $100 @home <x> _a_ \\ "q" `code` ~ // =h= - + 1. /term: x'


def make_content(**changes: object) -> LetterContent:
    return letter_content(**{"verification_url": URL, **changes})


@pytest.fixture(scope="module")
def letter() -> bytes:
    return render_letter(make_content())


def test_letter_is_a_single_page_pdf(letter: bytes) -> None:
    assert letter.startswith(b"%PDF-")
    assert page_count(letter) == 1


def test_letter_shows_kop_title_number_and_organisation(letter: bytes) -> None:
    text = pdf_text(letter)
    for expected in (
        "BADAN KESATUAN BANGSA DAN POLITIK",
        "PEMERINTAH KOTA BALIKPAPAN",
        "SURAT KETERANGAN MELAPOR",
        "Nomor: SKM/0001/KESBANGPOL/2026",
        "Perkumpulan Pemuda Peduli Lingkungan",
        "P3L",
        "Badan Hukum Perkumpulan",
        "Jl. Jenderal Sudirman No. 12, RT 05",
        "Klandasan Ilir",
        "Balikpapan Kota",
        "H. Ahmad Fauzi, S.E.",
        "telah melaporkan keberadaannya kepada Badan Kesatuan Bangsa dan Politik Kota Balikpapan",
        "Kepala Badan Kesatuan Bangsa dan Politik",
    ):
        assert expected in text


def test_letter_is_dated_in_indonesian_at_balikpapan(letter: bytes) -> None:
    assert "Balikpapan, 28 November 2026" in pdf_text(letter)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (datetime.date(2027, 1, 1), "1 Januari 2027"),
        (datetime.date(2026, 2, 9), "9 Februari 2026"),
        (datetime.date(2026, 3, 31), "31 Maret 2026"),
        (datetime.date(2026, 5, 5), "5 Mei 2026"),
        (datetime.date(2026, 8, 17), "17 Agustus 2026"),
        (datetime.date(2026, 10, 20), "20 Oktober 2026"),
        (datetime.date(2026, 12, 25), "25 Desember 2026"),
    ],
)
def test_dates_use_indonesian_month_names(day: datetime.date, expected: str) -> None:
    assert format_date_id(day) == expected


def test_rendered_date_follows_issued_on() -> None:
    pdf = render_letter(make_content(issued_on=datetime.date(2027, 1, 1)))
    assert "Balikpapan, 1 Januari 2027" in pdf_text(pdf)


def test_missing_abbreviation_prints_a_dash() -> None:
    text = pdf_text(render_letter(make_content(organisation_abbreviation=None)))
    assert "Singkatan : -" in text
    assert "None" not in text


def test_qr_code_decodes_to_exactly_the_verification_url(letter: bytes) -> None:
    assert decode_qr_codes(letter) == [URL]


def test_long_verification_url_still_decodes_and_is_printed() -> None:
    url = "https://satu-ormas.balikpapan.go.id/verify/" + "0123456789abcdef" * 8
    pdf = render_letter(make_content(verification_url=url))
    assert decode_qr_codes(pdf) == [url]
    # A long URL may wrap across lines; the characters must all be there in order.
    assert url in "".join(pdf_text(pdf).split())


def test_reader_is_told_to_scan_and_sees_the_url(letter: bytes) -> None:
    text = pdf_text(letter)
    assert "Pindai kode QR untuk memeriksa keaslian surat ini" in text
    assert URL in text


def test_typst_special_characters_print_literally() -> None:
    pdf = render_letter(
        make_content(
            organisation_name=TRICKY_NAME,
            organisation_abbreviation="#let x = 1",
            chair_name="$x^2$ <label> @ref",
            address='#import "/etc/passwd"',
        )
    )
    text = pdf_text(pdf)
    assert TRICKY_NAME in text
    assert "#let x = 1" in text
    assert "$x^2$ <label> @ref" in text
    assert '#import "/etc/passwd"' in text


def test_region_and_office_are_configurable() -> None:
    pdf = render_letter(
        make_content(
            region_name="Kota Samarinda",
            letter_title="SURAT KETERANGAN TERDAFTAR",
            signer_title="Kepala Badan Kesbangpol",
        )
    )
    text = pdf_text(pdf)
    assert "PEMERINTAH KOTA SAMARINDA" in text
    assert "SURAT KETERANGAN TERDAFTAR" in text
    assert "Samarinda, 28 November 2026" in text
    assert "Kepala Badan Kesbangpol Kota Samarinda" in text
    assert "Balikpapan" not in text.replace("Balikpapan Kota", "")  # only the kecamatan name remains


def test_consecutive_renders_are_identical(letter: bytes) -> None:
    assert render_letter(make_content()) == letter
    assert render_letter(make_content()) == letter


def test_renders_differ_only_where_the_content_differs(letter: bytes) -> None:
    other = render_letter(make_content(number="SKM/0002/KESBANGPOL/2026"))
    assert other != letter
    # Same-length number: identical layout, so the texts match once the number is swapped.
    assert pdf_text(other) == pdf_text(letter).replace("SKM/0001/", "SKM/0002/")


def test_concurrent_renders_from_four_threads() -> None:
    contents = [
        make_content(
            number=f"SKM/{i:04d}/KESBANGPOL/2026",
            verification_url=f"https://satu-ormas.example.id/verify/{i:032x}",
        )
        for i in range(1, 9)
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        pdfs = list(pool.map(render_letter, contents))

    for content, pdf in zip(contents, pdfs, strict=True):
        assert pdf == render_letter(content)  # same bytes as a render on its own
        assert decode_qr_codes(pdf) == [content.verification_url]
        expected = pdf_text(pdfs[0]).replace(contents[0].number, content.number)
        expected = expected.replace(contents[0].verification_url, content.verification_url)
        assert pdf_text(pdf) == expected
