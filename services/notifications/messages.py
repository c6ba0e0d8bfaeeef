"""Bahasa Indonesia e-mails for case steps and reminders, worded by the region's workflow definitions.

Only whitelisted fields of the event payload are rendered, so personal data
that travels in events (NIK, addresses, phone numbers) never ends up in mail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from contracts.workflow import MailText, RegionProfile
from infra.catalogue import Catalogue
from infra.dates import indonesian_date
from services.notifications.mailer import OutgoingMail

_FOOTER = (
    "Hormat kami,\n"
    "{office} ({short}) {region}\n"
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


Composer = Callable[[str, dict[str, Any], str, str, str, Catalogue], "OutgoingMail | None"]


def case_wording(catalogue: Catalogue, event_type: str, data: Mapping[str, Any]) -> MailText | None:
    """The definition's words for this step of this service, or None when the step sends no mail.

    A step names its action; the opening event is the filing; an event of a case filed before the kernel
    names no action and is matched by its event type to the SKM action that emits it today."""
    workflow = catalogue.workflow(str(data.get("service", "")))
    if workflow is None:
        return None
    action = data.get("action")
    if action:
        defined = workflow.actions.get(str(action))
        return defined.mail if defined is not None and defined.event == event_type else None
    if event_type == workflow.filing.event:
        return workflow.filing.mail
    return next((a.mail for a in workflow.actions.values() if a.event == event_type), None)


def compose_case_mail(
    event_type: str,
    data: dict[str, Any],
    to: str,
    event_id: str,
    public_base_url: str,
    catalogue: Catalogue,
) -> OutgoingMail | None:
    wording = case_wording(catalogue, event_type, data)
    if wording is None:
        return None  # not every step is news for the organisation (a field visit, an assignment)
    workflow = catalogue.workflow(str(data["service"]))
    reference = _single_line(data["reference"])
    case_url = f"{public_base_url.rstrip('/')}/cases/{quote(str(data['case_id']), safe='')}"
    lines = [
        f"Yth. Pengurus {_single_line(data['organisation_name'])},",
        "",
        wording.paragraph,
        "",
        f"Nomor permohonan: {reference}",
        f"Layanan: {_single_line(workflow.label if workflow else data['service'])}",
        f"Status: {wording.status}",
    ]
    # A missing reason or number must not block the mail (the consumer would retry forever); the
    # case page linked below shows the full record.
    reason = _lookup(data, ("reason",))
    if wording.reason_label and reason:
        lines.append(f"{wording.reason_label}: {reason}")
    number = _lookup(data, ("letter_number", "letter.number"))
    if number:
        kind = _lookup(data, ("letter.kind",))
        lines.append(f"{'Nomor tanda terima' if kind == 'receipt' else 'Nomor surat'}: {number}")
    lines += ["", "Lihat detail permohonan:", case_url, "", footer(catalogue.region)]
    return OutgoingMail(
        message_id=f"<{event_id}@satu-ormas>",
        to=to,
        subject=f"[Satu Ormas] {reference}: {wording.status}",
        body="\n".join(lines) + "\n",
    )


def compose_reminder_mail(
    event_type: str,
    data: dict[str, Any],
    to: str,
    event_id: str,
    public_base_url: str,
    catalogue: Catalogue,
) -> OutgoingMail | None:
    """A periodic obligation is due soon (``*.reminder_due.v1``) or overdue (``*.overdue.v1``)."""
    workflow = catalogue.workflow(str(data.get("workflow", "")))
    deadline = workflow.deadline if workflow else None
    if deadline is None:
        return None
    wording = deadline.mail_after if event_type.endswith(".overdue.v1") else deadline.mail_before
    if wording is None:
        return None
    period = _single_line(data["period_label"])
    due = indonesian_date(dt.date.fromisoformat(str(data["due_on"])))
    lines = [
        f"Yth. Pengurus {_single_line(data['organisation_name'])},",
        "",
        wording.paragraph,
        "",
        f"Laporan: {_single_line(workflow.label if workflow else '')} {period}",
        f"Jatuh tempo: {due}",
        "",
        "Masuk ke Satu Ormas untuk membuat dan mengirim laporan:",
        f"{public_base_url.rstrip('/')}/",
        "",
        footer(catalogue.region),
    ]
    return OutgoingMail(
        message_id=f"<{event_id}@satu-ormas>",
        to=to,
        subject=f"[Satu Ormas] {wording.status}: {period}",
        body="\n".join(lines) + "\n",
    )


def footer(region: RegionProfile) -> str:
    return _FOOTER.format(
        office=_single_line(region.office_name), short=_single_line(region.office_short_name),
        region=_single_line(region.name),
    )  # fmt: skip
