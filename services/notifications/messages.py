"""Bahasa Indonesia texts for case status-change e-mails.

Only whitelisted fields of the event payload are rendered, so personal data
that travels in events (NIK, addresses, phone numbers) never ends up in mail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from services.notifications.mailer import OutgoingMail


@dataclass(frozen=True)
class _Wording:
    status: str  # short status, used in subject and body
    paragraph: str  # what happened and what the organisation should do next
    # (label, candidate paths into data) rendered when a value is present; several
    # paths because the brief says "letter_number" while CaseEventV1 nests letter.number.
    details: tuple[tuple[str, tuple[str, ...]], ...] = ()


_WORDING: dict[str, _Wording] = {
    "case.submitted.v1": _Wording(
        status="Permohonan diterima",
        paragraph="Permohonan Anda telah kami terima dan akan segera diperiksa oleh petugas.",
    ),
    "case.revision_requested.v1": _Wording(
        status="Perlu perbaikan",
        paragraph=(
            "Permohonan Anda memerlukan perbaikan sebelum dapat diproses lebih lanjut. "
            "Silakan lengkapi atau perbaiki data sesuai catatan berikut, lalu ajukan kembali "
            "melalui tautan di bawah."
        ),
        details=(("Catatan perbaikan", ("reason",)),),
    ),
    "case.resubmitted.v1": _Wording(
        status="Perbaikan diterima",
        paragraph="Perbaikan permohonan Anda telah kami terima dan akan diperiksa kembali oleh petugas.",
    ),
    "case.forwarded.v1": _Wording(
        status="Diteruskan ke kepala bidang",
        paragraph=(
            "Permohonan Anda telah selesai diperiksa dan diteruskan kepada kepala bidang untuk mendapatkan persetujuan."
        ),
    ),
    "case.approved.v1": _Wording(
        status="Disetujui",
        paragraph="Permohonan Anda telah disetujui. Surat dapat diunduh melalui tautan di bawah.",
        details=(("Nomor surat", ("letter_number", "letter.number")),),
    ),
    "case.rejected.v1": _Wording(
        status="Ditolak",
        paragraph="Dengan berat hati kami sampaikan bahwa permohonan Anda ditolak.",
        details=(("Alasan penolakan", ("reason",)),),
    ),
}

_FOOTER = (
    "Hormat kami,\n"
    "Badan Kesatuan Bangsa dan Politik (Kesbangpol) {region}\n"
    "\n"
    "--\n"
    "Pesan ini dikirim secara otomatis oleh sistem Satu Ormas. Mohon tidak membalas e-mail ini."
)


def _single_line(value: Any) -> str:
    # Values end up in the Subject header, where CR/LF would be rejected (or worse, injected).
    return " ".join(str(value).split())


def _lookup(data: Mapping[str, Any], paths: tuple[str, ...]) -> str:
    """First non-blank value among dotted `paths` ("letter.number"), else ""."""
    for path in paths:
        value: Any = data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None and str(value).strip():
            return str(value).strip()
    return ""


def compose_case_mail(
    event_type: str,
    data: dict[str, Any],
    to: str,
    event_id: str,
    public_base_url: str,
    region_name: str = "Kota Balikpapan",
) -> OutgoingMail | None:
    wording = _WORDING.get(event_type)
    if wording is None:
        return None  # not every case event is worth an e-mail

    reference = _single_line(data["reference"])
    case_url = f"{public_base_url.rstrip('/')}/cases/{quote(str(data['case_id']), safe='')}"

    lines = [
        f"Yth. Pengurus {_single_line(data['organisation_name'])},",
        "",
        wording.paragraph,
        "",
        f"Nomor permohonan: {reference}",
        f"Layanan: {_single_line(data['service']).upper()}",
        f"Status: {wording.status}",
    ]
    for label, paths in wording.details:
        # A missing reason/letter number must not block the mail (the consumer
        # would retry forever); the case page linked below shows the full record.
        value = _lookup(data, paths)
        if value:
            lines.append(f"{label}: {value}")
    lines += ["", "Lihat detail permohonan:", case_url, "", _FOOTER.format(region=_single_line(region_name))]

    return OutgoingMail(
        message_id=f"<{event_id}@satu-ormas>",
        to=to,
        subject=f"[Satu Ormas] {reference}: {wording.status}",
        body="\n".join(lines) + "\n",
    )
