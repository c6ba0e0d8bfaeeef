"""The fonts letters are set in: typst's embedded Libertinus Serif, then fonts from pinned pip packages.

Libertinus Serif (built into typst) keeps the letter's look; every character it lacks falls back, in
order, to Noto Serif (the rest of Latin with its accents, Greek, Cyrillic), Amiri (Arabic) and Noto Sans
CJK TC (Han, simplified and traditional; also kana and hangul). The files come from pip packages
pinned in requirements.lock, so the run command, the Docker image and the tests all print with the very
same fonts and never with whatever the machine happens to have installed.

`contracts/printable.py` refuses, at the organisation form, any character none of these packaged
fonts covers; its data is generated from these files by `scripts/font-coverage` (`coverage()` below).
"""

from __future__ import annotations

import functools
import json
import unicodedata
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from contracts.printable import DATA_FILE

# Embedded in the typst wheel; not a file we can read, so it counts for nothing in the coverage
# data (a character only it has is refused: over-cautious, never a box on paper).
PRIMARY_FAMILY = "Libertinus Serif"


@dataclass(frozen=True)
class PackagedFont:
    family: str  # the family name typst knows it by
    distribution: str  # the pip distribution (as pinned in requirements.lock)
    package: str  # the importable package that ships the file
    folder: str  # inside the package; typst is given the folder (it ignores font *file* paths)
    regular: str  # the upright regular file, the one user-supplied text is set in


PACKAGED_FONTS: tuple[PackagedFont, ...] = (
    # Variable font (wdth, wght); typst instantiates regular and bold from it.
    PackagedFont("Noto Serif", "fontpkg-noto-serif", "fontpkg_noto_serif", "files", "NotoSerif[wdth,wght].ttf"),
    # Amiri rather than Noto Sans Arabic: Noto draws dotted letters as a dotless base plus separate
    # dot glyphs, so the PDF's text layer reads back as duplicated/missing letters; Amiri maps one
    # glyph to one letter and its Naskh style suits a serif letter.
    PackagedFont("Amiri", "fontpkg-amiri", "fontpkg_amiri", "files", "Amiri-Regular.ttf"),
    # One collection for JP/KR/SC/TC/HK, identical character sets; TC prefers traditional glyph
    # shapes, which Chinese-Indonesian association names mostly use.
    PackagedFont("Noto Sans CJK TC", "manimgx-fonts-cjk", "manimgx_fonts_cjk", "", "NotoSansCJK-VF.otf.ttc"),
)

# The order typst tries them in, per character (the template's `set text(font: ...)`).
FAMILIES: tuple[str, ...] = (PRIMARY_FAMILY, *(font.family for font in PACKAGED_FONTS))


def _folder(font: PackagedFont) -> Path:
    # importlib finds the package wherever pip put it (venv, system site-packages, Docker image).
    folder = resources.files(font.package)
    if font.folder:
        folder = folder / font.folder
    if not isinstance(folder, Path):  # a zipped install would need extracting; pip never zips these
        raise RuntimeError(f"font package {font.package} is not installed as plain files")
    return folder


@functools.cache
def font_dirs() -> tuple[str, ...]:
    """The folders to hand to typst as `font_paths`; raises if a font package is missing."""
    dirs: list[str] = []
    for font in PACKAGED_FONTS:
        folder = _folder(font)
        if not (folder / font.regular).is_file():
            raise RuntimeError(f"font file {font.regular} missing from {folder}; reinstall {font.package}")
        dirs.append(str(folder))
    return tuple(dirs)


def regular_font_files() -> list[tuple[str, Path]]:
    """(family, file) of every packaged font's upright regular face."""
    return [(font.family, _folder(font) / font.regular) for font in PACKAGED_FONTS]


def coverage() -> list[tuple[int, int]]:
    """Every code point some packaged regular face maps to a glyph, as sorted inclusive ranges.

    Needs fontTools (a test/dev dependency only): run by `scripts/font-coverage` and by the test that
    keeps the committed data equal to the installed fonts.
    """
    from fontTools.ttLib import TTCollection, TTFont

    code_points: set[int] = set()
    for family, path in regular_font_files():
        faces = TTCollection(path, lazy=True).fonts if path.suffix == ".ttc" else [TTFont(path, lazy=True)]
        # In a collection, only the face typst selects by this family name counts.
        chosen = [face for face in faces if _family_names(face) & {family}]
        if not chosen:
            raise RuntimeError(f"{path} has no face named {family!r}")
        for face in chosen:
            cmap = face.getBestCmap()
            # A code point mapped to .notdef would print the empty box we are trying to avoid. Control
            # characters (NUL, CR: some fonts map them to an empty glyph for old software) are not
            # text; contracts/printable.py decides about line breaks and tabs itself.
            code_points.update(
                cp for cp, glyph in cmap.items() if glyph != ".notdef" and unicodedata.category(chr(cp)) != "Cc"
            )
    return _ranges(code_points)


def coverage_data() -> dict[str, object]:
    """The content of contracts/printable_ranges.json for the fonts installed now."""
    return {
        "about": "Code points the letter fonts print; generated by scripts/font-coverage, do not edit.",
        "fonts": [
            f"{font.family} ({font.regular}, {font.distribution} {metadata.version(font.distribution)})"
            for font in PACKAGED_FONTS
        ],
        "ranges": [f"{first:04X}-{last:04X}" for first, last in coverage()],
    }


def write_coverage_data() -> Path:
    # One range per line: a font upgrade shows up as a readable diff.
    DATA_FILE.write_text(json.dumps(coverage_data(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return DATA_FILE


def _family_names(face: Any) -> set[str]:
    names = face["name"]
    # 1: family; 16: typographic family (a face "Noto Sans CJK TC Bold" is family 1 "... Bold").
    return {str(record) for record in names.names if record.nameID in (1, 16)}


def _ranges(code_points: set[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for cp in sorted(code_points):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return ranges
