"""Render the Surat Keterangan Melapor (SKM) letter as a one-page PDF."""

from __future__ import annotations

import datetime
import json
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import segno
import typst

TEMPLATE = Path(__file__).parent / "templates" / "letter.typ"

# Spelled out here rather than via locale/strftime: the Indonesian locale is
# rarely installed in containers and setlocale is process-global (not thread-safe).
_MONTHS_ID = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip

# Balikpapan is in WITA (UTC+8); used only to stamp the PDF creation date.
_WITA = datetime.timezone(datetime.timedelta(hours=8))

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


def format_date_id(day: datetime.date) -> str:
    """`date(2026, 11, 28)` -> "28 November 2026"."""
    return f"{day.day} {_MONTHS_ID[day.month - 1]} {day.year}"


def place_name(region_name: str) -> str:
    """The place in the date line: "Kota Balikpapan" -> "Balikpapan"."""
    for prefix in _REGION_PREFIXES:
        if region_name.startswith(prefix):
            return region_name[len(prefix) :]
    return region_name


def _template_data(content: LetterContent) -> str:
    data = asdict(content)
    data["issued_on"] = content.issued_on.isoformat()
    data["organisation_abbreviation"] = content.organisation_abbreviation or "-"
    data["date"] = format_date_id(content.issued_on)
    data["place"] = place_name(content.region_name)
    return json.dumps(data, ensure_ascii=False)


def render_letter(content: LetterContent) -> bytes:
    """Return the letter as PDF bytes.

    Each call compiles a copy of the template in its own temporary directory,
    next to that call's QR code, so concurrent renders share no files and the
    template's relative `image("qr.svg")` resolves inside the compile root.
    """
    with tempfile.TemporaryDirectory(prefix="letter-") as tmp:
        workdir = Path(tmp)
        main = workdir / "letter.typ"
        shutil.copyfile(TEMPLATE, main)
        # At least level M (~15% damage: stamps, folds); boost_error raises it when the size allows.
        # Vector SVG stays sharp at any print or scan resolution.
        segno.make(content.verification_url, error="m", boost_error=True).save(
            str(workdir / "qr.svg"), kind="svg", border=4
        )
        pdf = typst.compile(
            main,
            root=workdir,
            # Embedded fonts only: same output on every machine, and no system font scan per call.
            ignore_system_fonts=True,
            sys_inputs={"data": _template_data(content)},
            # Fixed creation date so identical content yields identical bytes.
            timestamp=datetime.datetime.combine(content.issued_on, datetime.time(), tzinfo=_WITA),
        )
    return pdf
