"""Can the letters print this text? A check the organisation form runs before anything is recorded.

The SKM letter prints the organisation's name, abbreviation, address and board names with a fixed set
of fonts (services/documents/fonts.py). A character none of them has would come out as an empty box on
an official letter, so the form refuses it up front, naming the character.

Stdlib only, and no font files needed: the registry and the gateway run this too. The code points the
fonts cover are precomputed from the fonts' character maps into `printable_ranges.json` by
`scripts/font-coverage`; a unit test recomputes them from the installed fonts so the two cannot drift.
"""

from __future__ import annotations

import bisect
import functools
import json
import unicodedata
from collections.abc import Iterable
from pathlib import Path

DATA_FILE = Path(__file__).with_name("printable_ranges.json")

# Line and tab characters are not glyphs: typst turns them into a break or a space. (Whether a
# one-line field may hold them at all is the form's business, not printability's.)
_LAYOUT_CHARACTERS = frozenset("\t\n\v\f\r\x85\u2028\u2029")

# Unicode's Default_Ignorable_Code_Point set (DerivedCoreProperties.txt): the shaper never draws these,
# whatever the font, so they cannot become boxes. Among them are the zero-width (non-)joiners some
# Arabic-script names need and the variation selectors that follow Han characters or emoji.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)

# How many characters a message names before summing up the rest.
_NAMED_IN_MESSAGE = 5


@functools.cache
def _covered() -> tuple[list[int], list[int]]:
    """(firsts, lasts) of the covered ranges, sorted, for bisection."""
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    firsts: list[int] = []
    lasts: list[int] = []
    for item in data["ranges"]:
        first, last = item.split("-")
        firsts.append(int(first, 16))
        lasts.append(int(last, 16))
    return firsts, lasts


def _in_ranges(code_point: int, firsts: list[int], lasts: list[int]) -> bool:
    index = bisect.bisect_right(firsts, code_point) - 1
    return index >= 0 and code_point <= lasts[index]


def is_printable(char: str) -> bool:
    """Whether the letter fonts can print this one character (no box in its place)."""
    code_point = ord(char)
    # Private-use code points mean something different in every font: never trust one to print.
    if unicodedata.category(char) == "Co":
        return False
    if char in _LAYOUT_CHARACTERS:
        return True
    if _in_ranges(code_point, *_covered()):
        return True
    return any(first <= code_point <= last for first, last in _DEFAULT_IGNORABLE)


def unprintable_characters(text: str) -> list[str]:
    """The distinct characters of `text` the letters cannot print, in order of first appearance.

    Judged on the NFC form, which is what the letter prints: "e" followed by a combining acute
    accent counts as the one character "é". A combining mark with no precomposed letter is judged
    on its own (the fonts have the common ones).
    """
    found: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        if char not in found and not is_printable(char):
            found.append(char)
    return found


def _shown(char: str) -> str:
    category = unicodedata.category(char)
    if category[0] in "CZ":  # controls, formats, separators: invisible, so only the code point
        return f"U+{ord(char):04X}"
    if category in ("Mn", "Me"):  # a combining mark is drawn on a dotted circle, as character charts do
        return f"\u25cc{char} (U+{ord(char):04X})"
    return f"{char} (U+{ord(char):04X})"


def describe_unprintable(chars: Iterable[str]) -> str:
    """An English message for a form: "contains characters the letters cannot print: 🙂 (U+1F642)"."""
    chars = list(chars)
    named = ", ".join(_shown(char) for char in chars[:_NAMED_IN_MESSAGE])
    rest = len(chars) - _NAMED_IN_MESSAGE
    more = f" and {rest} more" if rest > 0 else ""
    return f"contains characters the letters cannot print: {named}{more}"
