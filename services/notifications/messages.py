"""Bahasa Indonesia e-mails for case steps and report reminders, worded by the region's definitions.

What a mail says about a step (status, paragraph, the label of the reason) is the workflow definition's,
and the office that signs it is the region profile's, so a region rewords its mails by editing its folder.
The envelope around those words is the same for every mail. Only whitelisted fields of the event payload
are rendered, so personal data that travels in events (NIK, addresses, phone numbers) never ends up in mail.

What people typed (the organisation's name, a reason) goes in as one line of plain text with anything a
mail client would turn into a link written out harmlessly ("evil[.]com", "https[:]//"): a mail from the
office links to the office's own public address only, never to something a stranger typed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from contracts.text import as_one_line
from contracts.workflow import MailText, RegionProfile, Workflow
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


@dataclass(frozen=True)
class Draft:
    """A mail but for its recipient: composed before the registry is asked for the address, so a step
    that mails nothing costs no lookup (and cannot be held up by the registry)."""

    message_id: str  # from the event id: a duplicate event is recognisable down to the mail client
    subject: str
    body: str

    def to(self, address: str) -> OutgoingMail:
        return OutgoingMail(message_id=self.message_id, to=address, subject=self.subject, body=self.body)


Composer = Callable[[str, Mapping[str, Any], str, str, Catalogue], "Draft | None"]


NAME_LIMIT = 200  # an organisation's name, as recorded (contracts.organisations)
REASON_LIMIT = 1000  # the case page, linked from every mail, shows a longer reason in full

# Top-level domains a mail client turns "name.tld" into a link for, as far as people are likely to type
# them. Not every two-letter country code: "M.Si" or "S.Pd" after a name are degrees, not hosts.
_LINKED_TLDS = (
    "com|net|org|info|biz|io|co|id|me|xyz|top|app|dev|site|online|link|click|ly|gl|to|cc|tk|ru|cn|shop|"
    "store|live|icu|club|vip|pw|ws|us|uk|eu|de"
)
_LINKISH = re.compile(
    rf"(?i)\b[a-z][a-z0-9+-]*://\S+|\bwww\.\S+|\b(?:[a-z0-9-]+\.)+(?:{_LINKED_TLDS})\b"
    r"|\b\d{1,3}(?:\.\d{1,3}){3}\b"
)


def _single_line(value: Any) -> str:
    # Values end up in the Subject header, where CR/LF would be rejected (or worse, injected); a
    # definition's words are region-edited text too.
    return as_one_line(value)


def typed(value: Any, limit: int) -> str:
    """Text a person typed, as a mail may carry it: one plain line, at most ``limit`` characters, and no
    address a mail client would make a link of ("https://evil.com/x" -> "https[:]//evil[.]com/x")."""
    return _LINKISH.sub(_defanged, as_one_line(value, limit))


def _defanged(found: re.Match[str]) -> str:
    return found.group(0).replace("://", "[:]//").replace(".", "[.]")


def _lookup(data: Mapping[str, Any], paths: tuple[str, ...]) -> str:
    """First non-blank value among dotted `paths` ("letter.number"), else ""."""
    for path in paths:
        value: Any = data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None and str(value).strip():
            return _single_line(value)
    return ""


def case_wording(workflow: Workflow | None, event_type: str, data: Mapping[str, Any]) -> MailText | None:
    """The definition's words for this step, or None when the step is no news for the organisation.

    A step names its action; the opening event names none and is the filing. An event of a case filed
    before the kernel names no action either: it is matched by its type to the action that emits it now,
    so it mails the words it always did."""
    if workflow is None:
        return None
    action = data.get("action")
    if action:
        # Not checked against the action's current event: a definition renaming it must not silence
        # the mails of steps already recorded. A step of no definition (sla_overdue) mails nothing.
        defined = workflow.action(str(action))
        return defined.mail if defined is not None else None
    if event_type == workflow.filing.event:
        return workflow.filing.mail
    return next((a.mail for a in workflow.actions.values() if a.event == event_type), None)


def compose_case_mail(
    event_type: str, data: Mapping[str, Any], event_id: str, public_base_url: str, catalogue: Catalogue
) -> Draft | None:
    workflow = catalogue.workflow(str(data.get("service", "")))
    wording = case_wording(workflow, event_type, data)
    if workflow is None or wording is None:
        return None
    reference = _single_line(data["reference"])
    details = [
        f"Nomor permohonan: {reference}",
        f"Layanan: {_single_line(workflow.label)}",
        f"Status: {_single_line(wording.status)}",
    ]
    # A missing reason or number must not block the mail (the consumer would retry forever); the case
    # page linked below shows the full record.
    reason = _lookup(data, ("reason",))
    if wording.reason_label and reason:
        details.append(f"{_single_line(wording.reason_label)}: {typed(reason, REASON_LIMIT)}")
    number = _lookup(data, ("letter_number", "letter.number"))
    if number:
        receipt = _lookup(data, ("letter.kind",)) == "receipt"
        details.append(f"{'Nomor tanda terima' if receipt else 'Nomor surat'}: {number}")
    link = f"{public_base_url.rstrip('/')}/cases/{quote(str(data['case_id']), safe='')}"
    follow = ("Lihat detail permohonan:", link)
    return _draft(event_id, f"{reference}: {wording.status}", data, wording, details, follow, catalogue.region)


def compose_reminder_mail(
    event_type: str, data: Mapping[str, Any], event_id: str, public_base_url: str, catalogue: Catalogue
) -> Draft | None:
    """A periodic report is due soon (``*.reminder_due.v1``) or overdue (``*.overdue.v1``)."""
    workflow = catalogue.workflow(str(data.get("workflow", "")))
    # The type says which side of the due date the reminder is on; any other report.* event mails nothing.
    overdue, due = event_type.endswith(".overdue.v1"), event_type.endswith(".reminder_due.v1")
    if workflow is None or workflow.deadline is None or not (overdue or due):
        return None
    wording = workflow.deadline.mail_after if overdue else workflow.deadline.mail_before
    if wording is None:
        return None  # a region may remind on one side of the due date only
    period = _single_line(data["period_label"])
    details = [
        f"Layanan: {_single_line(workflow.label)}",
        f"Periode: {period}",
        f"Jatuh tempo: {indonesian_date(dt.date.fromisoformat(str(data['due_on'])))}",
    ]
    # The organisation's reports page (the gateway is to serve it; its home page lists cases only).
    link = f"{public_base_url.rstrip('/')}/reports"
    follow = ("Buat dan kirim laporan melalui tautan berikut:", link)
    return _draft(event_id, f"{wording.status}: {period}", data, wording, details, follow, catalogue.region)


def _draft(
    event_id: str,
    subject: str,
    data: Mapping[str, Any],
    wording: MailText,
    details: list[str],
    follow: tuple[str, str],  # what the link is for, and the link
    region: RegionProfile,
) -> Draft:
    """The envelope every mail shares: greeting, the definition's paragraph, the details, a link, the footer."""
    lines = [f"Yth. Pengurus {typed(data['organisation_name'], NAME_LIMIT)},", "", wording.paragraph.strip(), ""]
    lines += [*details, "", *follow, "", footer(region)]
    return Draft(
        message_id=f"<{event_id}@satu-ormas>",
        subject=f"[Satu Ormas] {_single_line(subject)}",
        body="\n".join(lines) + "\n",
    )


def footer(region: RegionProfile) -> str:
    return _FOOTER.format(
        office=_single_line(region.office_name), short=_single_line(region.office_short_name),
        region=_single_line(region.name),
    )  # fmt: skip
