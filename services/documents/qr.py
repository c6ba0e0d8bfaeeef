"""The QR code on every issued document: its verification address as an SVG symbol for typst to place.

The symbol is encoded by zxing-cpp (C++: a tenth of a millisecond, where a pure-Python encoder took
two, a sixth of a letter). Every address one deployment prints has the same shape — its base URL,
"/verify/", 32 hex digits — so the symbol's version and error level are chosen once per address length
and reused: a document's bytes are then the same in whichever process renders it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import zxingcpp

QUIET_ZONE = 4  # light modules around the symbol, as ISO/IEC 18004 asks; part of the printed 4 cm
_DARK_RUN = re.compile(rb"\x00+")  # the symbol's image: one byte per module, 0 = dark
_STRONGER_FIRST = ("H", "Q")  # error levels worth trying in a version chosen for level M


@dataclass(frozen=True)
class SymbolShape:
    version: int
    error: str


def _symbol(text: str, error: str, version: int = 0) -> tuple[int, bytes]:
    """(modules per side, one byte per module row by row); version 0 lets the encoder pick the smallest."""
    options = {"ec_level": error, "version": version} if version else {"ec_level": error}
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, **options)
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    return image.shape[0], bytes(image)  # type: ignore[call-overload]  # a buffer, not typed as one


def _version(side: int) -> int:
    return (side - 17) // 4


@functools.lru_cache(maxsize=16)
def shape_for(length: int) -> SymbolShape:
    """The symbol for an address of ``length`` bytes: the smallest version at level M (survives ~15%
    damage: stamps, folds), its error level raised as far as that version's room allows. Sized on
    lowercase letters, which only byte mode holds, so any address of that length fits."""
    sample = "x" * length
    version = _version(_symbol(sample, "M")[0])
    for error in _STRONGER_FIRST:
        try:
            _symbol(sample, error, version)
        except ValueError:  # zxing-cpp: "Input too long for Version …"
            continue
        return SymbolShape(version, error)
    return SymbolShape(version, "M")


def verification_qr_svg(url: str) -> str:
    """The symbol encoding ``url``, drawn as one filled path of its dark runs (vector: sharp at any
    print or scan resolution), the quiet zone included in its view box."""
    shape = shape_for(len(url.encode()))
    side, modules = _symbol(url, shape.error, shape.version)
    size = side + 2 * QUIET_ZONE
    runs = "".join(
        f"M{run.start() - row * side + QUIET_ZONE} {row + QUIET_ZONE}h{len(run[0])}v1h-{len(run[0])}z"
        for row in range(side)
        for run in _DARK_RUN.finditer(modules, row * side, (row + 1) * side)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">'
        f'<path d="{runs}"/></svg>'
    )
