"""Read back generated PDFs the way a person (or a phone camera) would."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import zxingcpp
from pypdf import PdfReader

# Roughly a desk scanner: low enough to be quick, high enough that a ~3 cm QR
# code has several pixels per module.
_SCAN_DPI = 200


def pdf_text(pdf: bytes) -> str:
    """All text of the PDF, with every whitespace run collapsed to one space.

    Line breaks depend on layout, not content, so tests should not see them.
    """
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages).strip()


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def decode_qr_codes(pdf: bytes) -> list[str]:
    """Rasterise every page and return the text of each barcode found, page by page."""
    texts: list[str] = []
    document = pdfium.PdfDocument(pdf)
    try:
        for page in document:
            bitmap = page.render(scale=_SCAN_DPI / 72, grayscale=True)
            # Grayscale bitmaps are one byte per pixel; rows may be padded, hence
            # the explicit stride. Wrapping the raw buffer avoids a numpy/Pillow dependency.
            view = zxingcpp.ImageView(
                memoryview(bitmap.buffer).cast("B"),
                bitmap.width,
                bitmap.height,
                zxingcpp.ImageFormat.Lum,
                row_stride=bitmap.stride,
            )
            texts.extend(barcode.text for barcode in zxingcpp.read_barcodes(view))
            bitmap.close()
            page.close()
    finally:
        document.close()
    return texts
