"""The QR code on every issued document: its verification address as an SVG symbol for typst to place.

Every address one deployment prints has the same shape — its base URL, "/verify/", 32 hex digits — so
the symbol's version, error level and mask are chosen once per address length, by segno's full search
on a sample of that length, and reused. The search tries all eight masks, most of a symbol's cost in
pure Python; any mask makes a valid symbol that every reader decodes (the search only prefers the one
with the fewest finder-like patterns for its sample), and a choice that depends on the length alone
keeps a document's bytes the same in whichever process renders it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import segno

QUIET_ZONE = 4  # light modules around the symbol, as ISO/IEC 18004 asks; part of the printed 4 cm
_DARK_RUN = re.compile(rb"\x01+")  # segno's matrix: one byte per module, 1 = dark


@dataclass(frozen=True)
class SymbolShape:
    version: int
    error: str
    mask: int


@functools.lru_cache(maxsize=16)
def shape_for(length: int) -> SymbolShape:
    """The symbol for an address of ``length`` bytes: the smallest version at level M (survives ~15%
    damage: stamps, folds), its error level raised as far as that version's room allows."""
    sample = segno.make_qr("0" * length, mode="byte", error="m", boost_error=True)
    return SymbolShape(int(sample.version), sample.error, sample.mask)  # make_qr: never a Micro QR ("M1")


def verification_qr_svg(url: str) -> str:
    """The symbol encoding ``url``, drawn as one filled path of its dark runs (vector: sharp at any
    print or scan resolution), the quiet zone included in its view box."""
    shape = shape_for(len(url.encode()))
    symbol = segno.make_qr(
        url, mode="byte", version=shape.version, error=shape.error, mask=shape.mask, boost_error=False
    )
    size = len(symbol.matrix) + 2 * QUIET_ZONE
    runs = "".join(
        f"M{run.start() + QUIET_ZONE} {y + QUIET_ZONE}h{run.end() - run.start()}v1h-{run.end() - run.start()}z"
        for y, row in enumerate(symbol.matrix)
        for run in _DARK_RUN.finditer(row)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">'
        f'<path d="{runs}"/></svg>'
    )
