"""The verifier's field visit over HTTP: the SKM definition asks for it before a case is forwarded."""

from __future__ import annotations

from typing import Any

from tests.support.factories import pdf_bytes

FIELD_VISIT_FORM = {
    "visited_on": "2026-11-20",
    "officers": ["Rina Verifikator", "Joko Staf"],
    "findings": "Sekretariat ada di alamat yang tercatat; papan nama terpasang.",
    "office_matches_address": True,
}


def record_field_visit(verifier: Any, case_id: str) -> Any:
    """Upload the signed berita acara and record the visit; returns the HTTP response."""
    upload = verifier.post("/api/files", files={"file": ("berita-acara.pdf", pdf_bytes(), "application/pdf")})
    assert upload.status_code == 201, upload.text
    attachments = [{"file_id": upload.json()["file_id"], "kind": "field_report"}]
    return verifier.post(
        f"/api/cases/{case_id}/actions/record_field_visit", json={"form": FIELD_VISIT_FORM, "attachments": attachments}
    )
