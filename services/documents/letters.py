"""Render an issued document — the SKM letter, a report's receipt (tanda terima) — as a one-page PDF:
the output's typst template (templates/<template>.typ, sharing _layout.typ) with the QR code to its
verification page."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import typst

from infra.dates import indonesian_date
from services.documents import fonts
from services.documents.qr import verification_qr_svg

TEMPLATES = Path(__file__).parent / "templates"  # <name>.typ for each output, _layout.typ shared

_REGION_PREFIXES = ("Kota ", "Kabupaten ", "Kab. ")


@dataclass(frozen=True)
class LetterContent:
    letter_title: str
    number: str
    issued_on: datetime.date
    organisation_name: str
    organisation_abbreviation: str | None
    legal_form: str
    address: str
    kelurahan: str
    kecamatan: str
    chair_name: str
    verification_url: str
    region_name: str = "Kota Balikpapan"
    office_name: str = "Badan Kesatuan Bangsa dan Politik"
    signer_title: str = "Kepala Badan Kesatuan Bangsa dan Politik"
    timezone: str = "Asia/Makassar"  # the region's; only stamps the PDF's creation date
    template: str = "letter"  # the output's template (workflow definition: outputs.<key>.template)
    subject_label: str = ""  # what the document is about, e.g. "Laporan Semester I (Januari–Juni) 2026"
    facts: dict[str, Any] = field(default_factory=dict)  # what it states of the case's form (LetterIssueV1.facts)


def place_name(region_name: str) -> str:
    """The place in the date line: "Kota Balikpapan" -> "Balikpapan"."""
    for prefix in _REGION_PREFIXES:
        if region_name.startswith(prefix):
            return region_name[len(prefix) :]
    return region_name


def _nfc(value: Any) -> Any:
    # NFC: the form's printability check (contracts/printable.py) judged the composed form, so print
    # exactly that ("e" + U+0301 becomes "é", one glyph every font here has).
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {key: _nfc(item) for key, item in value.items()}
    return value


def _template_data(content: LetterContent) -> str:
    data = _nfc(asdict(content))
    data["issued_on"] = content.issued_on.isoformat()
    data["organisation_abbreviation"] = content.organisation_abbreviation or "-"
    data["date"] = indonesian_date(content.issued_on)
    data["place"] = place_name(content.region_name)
    return json.dumps(data, ensure_ascii=False)


class _CompilerPool:
    """Typst compilers that keep the fonts loaded, and what they made of the templates, from one document
    to the next.

    `typst.compile` builds a new compiler per call, which searches the font folders and reads the
    32 MB CJK collection again. A `typst.Compiler` keeps them, and its root stays the templates folder,
    so the sources it parsed stay parsed. One instance refuses a second compile while the first runs
    ("Already borrowed"), so each render borrows an idle one or makes another, and at most `keep`
    wait between renders (each holds its loaded fonts in memory; more than one per core gains nothing).
    """

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._idle: list[typst.Compiler] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def borrow(self) -> Iterator[typst.Compiler]:
        with self._lock:
            compiler = self._idle.pop() if self._idle else None
        if compiler is None:
            compiler = typst.Compiler(
                root=TEMPLATES,
                font_paths=list(fonts.font_dirs()),
                # Packaged and embedded fonts only: same output on every machine, and no system font scan.
                ignore_system_fonts=True,
            )
        yield compiler  # not given back if the compile raised: its state is then unknown
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(compiler)


_compilers = _CompilerPool(keep=os.cpu_count() or 1)
_FONTS = json.dumps(fonts.FAMILIES)


def template_inputs(content: LetterContent) -> dict[str, str]:
    """What the template reads from ``sys.inputs``: the content, the font fallback list, the QR symbol."""
    return {"data": _template_data(content), "fonts": _FONTS, "qr": verification_qr_svg(content.verification_url)}


def creation_time(content: LetterContent) -> datetime.datetime:
    """Midnight of the issue day in the region (typst wants a fixed offset): identical content, identical bytes."""
    midnight = datetime.datetime.combine(content.issued_on, datetime.time(), tzinfo=ZoneInfo(content.timezone))
    offset = midnight.utcoffset() or datetime.timedelta()
    return midnight.replace(tzinfo=datetime.timezone(offset))


def render_letter(content: LetterContent) -> bytes:
    """Return the document as PDF bytes.

    The output's template is compiled where it lies (the templates are read-only, nothing is copied);
    the content and the QR code reach it as inputs, so concurrent renders share no files.
    """
    main = TEMPLATES / f"{content.template}.typ"
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", content.template) or not main.exists():
        raise ValueError(f"no document template '{content.template}'")
    with _compilers.borrow() as compiler:
        # Fixed creation date so identical content yields identical bytes.
        pdf = compiler.compile(input=main, sys_inputs=template_inputs(content), timestamp=creation_time(content))
    # compile() gives a list only for per-page images and None when told to write a file itself.
    assert isinstance(pdf, bytes)
    check_layout(pdf, content)
    return pdf


class LayoutError(Exception):
    """A rendered document does not have its template's shape: it is not issued (see check_layout)."""


# Every official document is one page: its number, its particulars, the signature and the QR code
# together. A second page means something pushed the signature away from what it certifies.
PAGES = 1


def check_layout(pdf: bytes, content: LetterContent) -> None:
    """Refuse a document that is not its template's page count: text someone typed must never move the
    signature and the QR code away from what they certify (or add pages of its own)."""
    pages = page_count(pdf)
    if pages != PAGES:
        raise LayoutError(f"{content.template} {content.number} rendered to {pages} pages, not {PAGES}: not issued")


_PDFIUM = threading.Lock()  # PDFium, the PDF engine of Chrome, is not thread-safe


def page_count(pdf: bytes) -> int:
    """Pages of a PDF, read by PDFium: a tenth of a millisecond, where pypdf reads every object header
    first (a millisecond, a tenth of a letter's rendering)."""
    with _PDFIUM:
        document = pdfium.PdfDocument(pdf)
        try:
            return len(document)
        finally:
            document.close()
