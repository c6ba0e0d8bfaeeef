"""Realistic sample inputs shared by the tests."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import hashlib
import io
import uuid
from typing import Any

from pypdf import PdfWriter

from ops.seed import DEMO_ORGANISATION
from services.documents.letters import LetterContent


def organisation_payload(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(DEMO_ORGANISATION)
    payload.update(changes)
    return payload


def organisation_snapshot(
    organisation_id: str = "org-1", name: str = "Perkumpulan Pemuda Peduli Balikpapan"
) -> dict[str, Any]:
    """What the registry returns for an organisation, as the submissions service receives it."""
    return {"id": organisation_id, **organisation_payload(name=name)}


def attachment(kind: str = "cover_letter", content: bytes = b"%PDF-1.7 sample") -> dict[str, Any]:
    return {
        "file_id": uuid.uuid4().hex,
        "kind": kind,
        "filename": f"{kind}.pdf",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }


def pdf_bytes(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def letter_content(**changes: Any) -> LetterContent:
    """A realistic SKM letter; ``changes`` replace single fields."""
    content = LetterContent(
        letter_title="SURAT KETERANGAN MELAPOR",
        number="SKM/0001/KESBANGPOL/2026",
        issued_on=datetime.date(2026, 11, 28),
        organisation_name="Perkumpulan Pemuda Peduli Lingkungan",
        organisation_abbreviation="P3L",
        legal_form="Badan Hukum Perkumpulan",
        address="Jl. Jenderal Sudirman No. 12, RT 05",
        kelurahan="Klandasan Ilir",
        kecamatan="Balikpapan Kota",
        chair_name="H. Ahmad Fauzi, S.E.",
        verification_url="https://satu-ormas.example.id/verify/3f2a9c0d5b7e4a1f8c6d2e0b9a7f5c3d",
    )
    return dataclasses.replace(content, **changes)
