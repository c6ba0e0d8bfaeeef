from __future__ import annotations

from typing import Any

import pytest

from services.notifications.mailer import OutgoingMail
from services.notifications.messages import compose_case_mail

BASE_URL = "https://ormas.balikpapan.go.id/"
CASE_ID = "0b9e6c1e-5d7a-4f4e-9a51-7d3c2a1f0e42"


def _data(**extra: Any) -> dict[str, Any]:
    return {
        "case_id": CASE_ID,
        "reference": "SKM-2026-000123",
        "service": "skm",
        "organisation_name": "Perkumpulan Warga Gunung Sari",
        **extra,
    }


def _compose(event_type: str, **extra: Any) -> OutgoingMail | None:
    return compose_case_mail(event_type, _data(**extra), "sekretariat@contoh.or.id", "evt-1", BASE_URL)


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("case.submitted.v1", "Permohonan diterima"),
        ("case.revision_requested.v1", "Perlu perbaikan"),
        ("case.resubmitted.v1", "Perbaikan diterima"),
        ("case.forwarded.v1", "Diteruskan ke kepala bidang"),
        ("case.approved.v1", "Disetujui"),
        ("case.rejected.v1", "Ditolak"),
    ],
)
def test_each_known_type_produces_a_complete_mail(event_type: str, status: str) -> None:
    mail = _compose(event_type, reason="x", letter_number="400.7/001/Kesbangpol")

    assert mail is not None
    assert mail.subject == f"[Satu Ormas] SKM-2026-000123: {status}"
    assert mail.to == "sekretariat@contoh.or.id"
    assert mail.message_id == "<evt-1@satu-ormas>"
    assert "Yth. Pengurus Perkumpulan Warga Gunung Sari," in mail.body
    assert f"Status: {status}" in mail.body
    assert "Nomor permohonan: SKM-2026-000123" in mail.body
    # trailing slash of the base URL must not produce "//cases"
    assert f"https://ormas.balikpapan.go.id/cases/{CASE_ID}" in mail.body
    assert "Kesbangpol" in mail.body and "Kota Balikpapan" in mail.body
    assert "otomatis" in mail.body


@pytest.mark.parametrize(
    ("event_type", "label"),
    [("case.revision_requested.v1", "Catatan perbaikan"), ("case.rejected.v1", "Alasan penolakan")],
)
def test_reason_appears_in_body(event_type: str, label: str) -> None:
    reason = "Lampiran AD/ART belum ditandatangani ketua dan sekretaris."
    mail = _compose(event_type, reason=reason)
    assert mail is not None
    assert f"{label}: {reason}" in mail.body


def test_approved_mail_carries_letter_number_and_download_link() -> None:
    mail = _compose("case.approved.v1", letter_number="400.7/123/Kesbangpol/2026")
    assert mail is not None
    assert "Nomor surat: 400.7/123/Kesbangpol/2026" in mail.body
    assert "diunduh" in mail.body
    assert f"/cases/{CASE_ID}" in mail.body


def test_letter_number_is_read_from_the_nested_contract_shape() -> None:
    # contracts.events.CaseEventV1 carries the number as data["letter"]["number"].
    mail = _compose("case.approved.v1", letter={"number": "400.7/124/Kesbangpol/2026", "year": 2026})
    assert mail is not None
    assert "Nomor surat: 400.7/124/Kesbangpol/2026" in mail.body


def test_reason_is_not_shown_for_types_without_one() -> None:
    mail = _compose("case.submitted.v1", reason="internal note")
    assert mail is not None
    assert "internal note" not in mail.body


def test_missing_reason_still_produces_mail() -> None:
    mail = _compose("case.rejected.v1")
    assert mail is not None
    assert "Alasan penolakan" not in mail.body


def test_unknown_type_returns_none() -> None:
    assert _compose("case.archived.v1") is None
    assert _compose("case.submitted.v2") is None


def test_personal_data_in_payload_is_not_rendered() -> None:
    mail = _compose(
        "case.rejected.v1",
        reason="Dokumen tidak lengkap.",
        nik="6471012345678901",
        chairperson_name="Budi Santoso",
        phone="081234567890",
        address="Jl. Jenderal Sudirman No. 1",
        organisation={"chair_nik": "6471019876543210", "address": "Jl. Ahmad Yani 5"},
    )
    assert mail is not None
    text = mail.subject + mail.body
    for secret in (
        "6471012345678901",
        "6471019876543210",
        "Budi Santoso",
        "081234567890",
        "Sudirman",
        "Yani",
    ):
        assert secret not in text


def test_newlines_in_reference_cannot_break_the_subject() -> None:
    mail = compose_case_mail(
        "case.submitted.v1",
        _data(reference="SKM-2026-000123\r\nBcc: x@evil.example"),
        "a@b.c",
        "evt-2",
        BASE_URL,
    )
    assert mail is not None
    assert "\n" not in mail.subject and "\r" not in mail.subject


def test_message_id_is_deterministic_per_event() -> None:
    first = _compose("case.submitted.v1")
    again = _compose("case.submitted.v1")
    assert first is not None and again is not None
    assert first.message_id == again.message_id
