"""Text a person typed that ends up in an official document, a mail subject or a list: one line of
plain text, whatever was pasted.

NFC-normalised (an "é" typed as e + accent is stored as "é"), whitespace runs collapsed to one space
and trimmed; control, format and separator characters (Unicode Cc, Cf, Zl, Zp: newlines, tabs, NUL,
bidi overrides such as U+202E, zero-width characters) are refused rather than silently removed, so
what is stored is exactly what every page and letter shows. Pure: stdlib only.
"""

from __future__ import annotations

import unicodedata

REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "a formatting character",
    "Zl": "a line break",
    "Zp": "a paragraph break",
}


def one_line(value: object) -> object:
    """The plain single line of ``value``; ValueError naming the first character that cannot be in one."""
    if not isinstance(value, str):
        return value
    text = unicodedata.normalize("NFC", value)
    for char in text:
        category = unicodedata.category(char)
        if category in REFUSED_CATEGORIES:
            if char in "\t\n\r":
                raise ValueError("must be a single line (no line breaks or tabs)")
            raise ValueError(f"must be plain text: contains {REFUSED_CATEGORIES[category]} (U+{ord(char):04X})")
    return " ".join(text.split())


def as_one_line(value: object, limit: int | None = None) -> str:
    """``value`` shown on one line of plain text whatever it holds, never refused: for text recorded
    earlier (or free text such as a reason) that goes where one line is all there may be, a mail.
    Line breaks and other control or separator characters become spaces, format characters (bidi
    overrides, zero-width characters) are dropped, whitespace collapses; longer than ``limit`` is cut
    with an ellipsis."""
    text = unicodedata.normalize("NFC", str(value))
    kept = "".join(
        "" if category == "Cf" else " " if category in REFUSED_CATEGORIES else char
        for char, category in ((char, unicodedata.category(char)) for char in text)
    )
    line = " ".join(kept.split())
    if limit is not None and len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line
