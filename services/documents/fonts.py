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
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

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
