"""The organisation form's printability check: what the letter fonts can print, and how a refusal reads."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from contracts.printable import DATA_FILE, describe_unprintable, is_printable, unprintable_characters


def test_committed_coverage_equals_the_installed_fonts() -> None:
    pytest.importorskip("fontTools", reason="fontTools (requirements-test.lock) reads the font files")
    from tests.support.font_coverage import coverage_data

    committed = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    # On failure: a font package changed; run scripts/font-coverage and commit the result.
    assert committed == coverage_data()


@pytest.mark.parametrize(
    "text",
    [
        "Perkumpulan 漢字 Tionghoa",  # traditional Han
        "Perkumpulan 汉字 Tionghoa 广东会馆",  # simplified Han
        "Yayasan 福建會館 Balikpapan",
        "Jam'iyyah النهضة",
        "جمعية النهضة الإسلامية",
        "مُحَمَّد",  # Arabic vowel marks
        "Paguyuban Sénior Café Ñusantara",
        "Muḥammad Ṣāliḥ, Nguyễn Thị Ánh, Łódź, Ærø, Ș",
        'Ormas #1 *Bintang* [Timur] $100 @home <x> _a_ \\ "q" `code` ~ // =h= - + 1. /term: x',
    ],
)
def test_names_in_latin_han_and_arabic_are_printable(text: str) -> None:
    assert unprintable_characters(text) == []


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("Ormas Ceria 🙂", ["🙂"]),
        ("Ormas \U0001f1ee\U0001f1e9", ["\U0001f1ee", "\U0001f1e9"]),  # a flag: regional indicators
        ("Logo \ue000", ["\ue000"]),  # private use: means something different in every font
        ("Logo \U000f0001", ["\U000f0001"]),
        ("Marga \U00020000", ["\U00020000"]),  # a rare Han character (Extension B) the CJK font lacks
        ("Null\x00byte", ["\x00"]),
        ("Unit\x1fsep", ["\x1f"]),
    ],
)
def test_characters_no_shipped_font_has_are_refused(text: str, refused: list[str]) -> None:
    assert unprintable_characters(text) == refused


def test_each_refused_character_is_named_once_in_order_of_appearance() -> None:
    assert unprintable_characters("🙂 a \ue000 b 🙂 \ue000 🙃") == ["🙂", "\ue000", "🙃"]


def test_accents_typed_as_combining_marks_are_judged_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "Sénior Café Ñusantara Nguyễn")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    assert unprintable_characters(decomposed) == []
    # A mark with no precomposed letter stays a mark, which the fonts have.
    assert unprintable_characters("n\u0308 q\u0323") == []


def test_spaces_line_breaks_and_invisible_joiners_are_printable() -> None:
    assert unprintable_characters(" \u00a0\u2009\u202f\u3000") == []  # spaces the fonts draw
    assert unprintable_characters("a\tb\nc\r\nd") == []  # become spacing or a break, not a glyph
    assert unprintable_characters("می\u200cخواهم \u200d \ufe0f \u00ad") == []  # never drawn by the shaper


def test_is_printable_looks_at_one_character() -> None:
    assert is_printable("漢")
    assert is_printable("ض")
    assert is_printable("é")
    assert not is_printable("🙂")


def test_message_names_the_character_and_its_code_point() -> None:
    assert describe_unprintable(["🙂"]) == "contains characters the letters cannot print: 🙂 (U+1F642)"


def test_message_shows_invisible_characters_and_marks_readably() -> None:
    message = describe_unprintable(["\ue000", "\x00", "\u1dff"])
    assert message == "contains characters the letters cannot print: U+E000, U+0000, \u25cc\u1dff (U+1DFF)"


def test_message_names_five_characters_and_counts_the_rest() -> None:
    chars = [chr(0x1F600 + i) for i in range(8)]
    assert describe_unprintable(chars) == (
        "contains characters the letters cannot print: "
        "😀 (U+1F600), 😁 (U+1F601), 😂 (U+1F602), 😃 (U+1F603), 😄 (U+1F604) and 3 more"
    )


def test_the_check_needs_neither_fonts_nor_frameworks() -> None:
    # The registry and the gateway run it: it must not pull in typst, fontTools, the font packages
    # or pydantic.
    code = (
        "import sys, contracts.printable as p; p.unprintable_characters('漢 🙂');"
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    loaded = set(json.loads(result.stdout.replace("'", '"')))
    assert not loaded & {"typst", "fontTools", "fontpkg_amiri", "manimgx_fonts_cjk", "pydantic", "services"}
