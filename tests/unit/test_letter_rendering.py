"""The Surat Keterangan Melapor PDF: what a reader sees and what a scanner decodes."""

from __future__ import annotations

import datetime
import io
import random
import re
import unicodedata
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pypdfium2 as pdfium
import pytest
import typst
from pypdf import PdfReader
from pypdf.generic import ContentStream, TextStringObject

from contracts.printable import unprintable_characters
from infra.dates import indonesian_date as format_date_id
from services.documents import fonts, qr
from services.documents.letters import LetterContent, render_letter
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


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8000", "https://satu-ormas.kesbangpol.balikpapan.go.id"])
def test_every_letter_of_a_deployment_decodes_to_its_own_address(base_url: str) -> None:
    # One symbol shape (version, error level) serves every address of the deployment's length:
    # whatever the verification code, a scanner reads back exactly that letter's address.
    codes = [uuid.UUID(int=random.Random(seed).getrandbits(128)).hex for seed in range(12)] + ["0" * 32, "f" * 32]
    for code in codes:
        url = f"{base_url}/verify/{code}"
        assert decode_qr_codes(render_letter(make_content(verification_url=url))) == [url]


def test_a_letter_renders_to_the_same_bytes_in_any_process() -> None:
    # The symbol's shape depends on the address's length alone, not on which letter a process rendered
    # first: a letter rendered again elsewhere (a lost PDF re-rendered on download) is byte-identical.
    letter = render_letter(make_content())
    qr.shape_for.cache_clear()
    render_letter(make_content(verification_url=URL[:-32] + "9" * 32))  # same length, other address first
    assert render_letter(make_content()) == letter


def test_reader_is_told_to_scan_and_sees_the_url(letter: bytes) -> None:
    text = pdf_text(letter)
    assert "Pindai kode QR untuk memeriksa keaslian dokumen ini" in text
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


# --- Names in any script the shipped fonts cover -------------------------------------------------

CHINESE_NAME = "Perkumpulan 漢字 Tionghoa"
ARABIC_NAME = "Jam'iyyah النهضة"
ACCENTED_NAME = "Paguyuban Sénior Café Ñusantara"


def page_fonts(page: Any) -> Any:
    """The page's font resources, by resource name (pypdf types them only as PdfObject)."""
    return page["/Resources"].get_object()["/Font"].get_object()


def fonts_by_character(pdf: bytes) -> dict[str, set[str]]:
    """Each character of the page's text layer -> the embedded fonts that draw it.

    Read from every font's ToUnicode map; names lose their subset tag ("ABCDEF+Amiri-Regular" ->
    "Amiri-Regular").
    """
    found: dict[str, set[str]] = {}
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    for reference in page_fonts(page).values():
        font = reference.get_object()
        name = str(font["/BaseFont"]).lstrip("/").split("+", 1)[-1]
        cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
        for target in re.findall(r"<[0-9A-Fa-f]+>\s*<([0-9A-Fa-f]+)>", cmap):
            for char in bytes.fromhex(target).decode("utf-16-be"):
                found.setdefault(char, set()).add(name)
    return found


def notdef_glyphs(pdf: bytes) -> int:
    """How many glyphs the page shows as .notdef (the empty box of a missing character).

    Typst embeds every font as a subset with 2-byte glyph ids (Identity-H) and keeps glyph 0 as
    .notdef, so a missing character is a 0x0000 code in a text-showing operator. The letter puts all
    its text in the page's own content stream.
    """
    reader = PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    resources = page_fonts(page)
    count = 0
    identity = False
    for operands, operator in ContentStream(page.get_contents(), reader).operations:
        if operator == b"Tf":
            identity = resources[operands[0]].get_object()["/Encoding"] == "/Identity-H"
        elif operator in (b"Tj", b"TJ", b"'", b'"') and identity:
            shown = (
                operands[-1]
                if operator != b"TJ"
                else [part for part in operands[0] if not isinstance(part, int | float)]
            )
            for string in shown if isinstance(shown, list) else [shown]:
                # pypdf decodes some byte strings to text; the glyph ids are the original bytes.
                raw = string.original_bytes if isinstance(string, TextStringObject) else bytes(string)
                count += sum(raw[i : i + 2] == b"\x00\x00" for i in range(0, len(raw) - 1, 2))
    return count


def pdfium_text(pdf: bytes) -> str:
    """The text as Chrome's and Android's PDF viewers (pdfium) extract it, whitespace collapsed."""
    document = pdfium.PdfDocument(pdf)
    try:
        return " ".join(" ".join(page.get_textpage().get_text_range().split()) for page in document)
    finally:
        document.close()


def test_the_template_names_every_font_family_typst_finds_in_the_packages() -> None:
    # A family renamed by a font package upgrade would silently fall out of the fallback list.
    found = typst.Fonts(include_system_fonts=False, include_embedded_fonts=True, font_paths=list(fonts.font_dirs()))
    assert set(fonts.FAMILIES) <= set(found.families())


def test_chinese_name_prints_its_han_characters() -> None:
    pdf = render_letter(make_content(organisation_name=CHINESE_NAME, chair_name="林 漢 明"))
    assert CHINESE_NAME in pdf_text(pdf)
    assert "林 漢 明" in pdf_text(pdf)
    drawn_by = fonts_by_character(pdf)
    for char in "漢字林明":
        assert any(name.startswith("NotoSansCJK") for name in drawn_by[char]), (char, drawn_by.get(char))
    assert notdef_glyphs(pdf) == 0
    assert decode_qr_codes(pdf) == [URL]


def test_arabic_name_prints_in_reading_order() -> None:
    pdf = render_letter(make_content(organisation_name=ARABIC_NAME))
    # Right-to-left text comes back from both extractors in logical (typed) order, letter for letter.
    assert ARABIC_NAME in pdf_text(pdf)
    assert ARABIC_NAME in pdfium_text(pdf)
    drawn_by = fonts_by_character(pdf)
    for char in "النهضة":
        assert "Amiri-Regular" in drawn_by[char], (char, drawn_by.get(char))
    assert notdef_glyphs(pdf) == 0
    assert decode_qr_codes(pdf) == [URL]


def test_accented_latin_name_prints_its_accents() -> None:
    pdf = render_letter(make_content(organisation_name=ACCENTED_NAME, chair_name="Muḥammad Ṣāliḥ"))
    text = pdf_text(pdf)
    assert ACCENTED_NAME in text
    assert "Muḥammad Ṣāliḥ" in text
    assert {"é", "Ñ", "ḥ", "Ṣ", "ā"} <= set(fonts_by_character(pdf))
    assert notdef_glyphs(pdf) == 0


def test_letters_print_names_typed_with_combining_accents_as_composed_letters() -> None:
    decomposed = unicodedata.normalize("NFD", ACCENTED_NAME)
    assert decomposed != ACCENTED_NAME
    pdf = render_letter(make_content(organisation_name=decomposed))
    assert ACCENTED_NAME in pdf_text(pdf)
    assert notdef_glyphs(pdf) == 0


def test_one_name_mixing_latin_han_and_arabic_uses_each_scripts_font() -> None:
    name = "Yayasan 福建 Tionghoa dan النهضة Café"
    pdf = render_letter(make_content(organisation_name=name))
    assert name in pdf_text(pdf)
    drawn_by = fonts_by_character(pdf)
    assert any(font.startswith("NotoSansCJK") for font in drawn_by["福"])
    assert "Amiri-Regular" in drawn_by["ه"]
    assert any(font.startswith("LibertinusSerif-Regular") for font in drawn_by["é"])
    assert notdef_glyphs(pdf) == 0


def test_latin_letters_the_main_font_lacks_fall_back_to_noto_serif() -> None:
    pdf = render_letter(make_content(organisation_name="Perkumpulan \u2c6d\u0518"))  # Ɑ Ԙ: not in Libertinus
    drawn_by = fonts_by_character(pdf)
    assert "NotoSerif-Regular" in drawn_by["\u2c6d"]
    assert notdef_glyphs(pdf) == 0


# Samples of what the organisation form accepts, from every class of character it lets through.
ACCEPTED_SAMPLES = {
    "Latin with accents": "Ærø Łódź Şişli İğdır Ørsted Citroën",
    "Vietnamese": "Nguyễn Thị Ánh Hồng",
    "Latin extended": "Ɓɗ Ƙ ǅ Ǝ ȘȚ ꞌ",
    "Greek and Cyrillic": "Ελλάδα Москва Ԙ",
    "Arabic with vowel marks": "مُحَمَّد عَبْد ٱللَّٰه ١٢٣",
    "Arabic-script joiners": "می\u200cخواهم",
    "Han, traditional": "臺灣 廣東 會館 福建 龍",
    "Han, simplified": "广东 会馆 龙 汉",
    "CJK punctuation, kana and hangul": "「會館」、テスト 한국어",
    "spaces": "a\u00a0b\u2009c\u3000d\u202fe",
    "symbols": "No. 1 № 2 € ₹ © ® ™ – — … “ ” ‘ ’ « » • ½",
}


@pytest.mark.parametrize("sample", ACCEPTED_SAMPLES.values(), ids=ACCEPTED_SAMPLES.keys())
def test_every_kind_of_character_the_form_accepts_prints_as_a_glyph(sample: str) -> None:
    assert unprintable_characters(sample) == []
    pdf = render_letter(make_content(organisation_name=sample))
    assert notdef_glyphs(pdf) == 0


def test_a_character_the_form_refuses_would_have_printed_as_a_box() -> None:
    # Why the form check exists (and proof that notdef_glyphs sees boxes): no shipped font has emoji.
    assert unprintable_characters("Ormas 🙂") == ["🙂"]
    assert notdef_glyphs(render_letter(make_content(organisation_name="Ormas 🙂"))) == 1
