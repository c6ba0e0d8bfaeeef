"""Server-rendered pages (Bahasa Indonesia): jinja2 templates with autoescaping always on."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from nameko.exceptions import RemoteError
from starlette.responses import Response

from contracts.cases import attachment_label
from contracts.errors import DatabaseUnavailable
from contracts.paging import CURSOR_PATTERN
from gateway.csrf import CSRF_COOKIE, new_form_token, set_form_token
from gateway.errors import UNAVAILABLE
from infra.catalogue import Catalogue
from infra.dates import indonesian_date as format_indonesian_date

_STATUS_LABELS = {"valid": "Berlaku", "revoked": "Dicabut", "expired": "Kedaluwarsa"}
_ROLES = {"applicant": "Pemohon", "verifier": "Verifikator", "approver": "Kepala bidang", "admin": "Admin"}
# Indonesia's three zones go by their own names; elsewhere the zone's abbreviation is shown.
_ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
# Pages carry no scripts and no third-party content, post forms only to this site and are never framed.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    # Nothing leaves for other sites; "no-referrer" would also make browsers send "Origin: null" with
    # this site's own forms, which the cross-site guard (gateway/csrf.py) must then refuse.
    "Referrer-Policy": "same-origin",
}
PRIVATE = {"Cache-Control": "no-store"}  # pages with a case's details must not stay in shared caches
# What a page answers with the 503 page (``problem``), not the API's JSON: a service unreachable or failed, or its
# database away.
FAILED = (*UNAVAILABLE, RemoteError, DatabaseUnavailable)

_templates = Jinja2Templates(
    env=jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)
)


def indonesian_date(value: str) -> str:
    """'2026-03-12' -> '12 Maret 2026' (unparseable values are shown as they are)."""
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    return format_indonesian_date(day)


def local_time(value: str, zone: str) -> str:
    """'2026-11-28T06:05:00+00:00' in Asia/Makassar -> '28 November 2026 14:05 WITA' (naive means UTC)."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    local = (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(ZoneInfo(zone))
    name = _ZONE_NAMES.get(zone) or local.tzname() or ""
    return f"{format_indonesian_date(local.date())} {local:%H:%M} {name}".rstrip()


def status_label(status: str) -> str:
    return _STATUS_LABELS.get(status, status)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, else "/" (no open redirect).

    Browsers read "\\" as "/" and drop tabs and newlines, so "/\\evil" or "/\\t/evil" would leave the site.
    """
    if not target or len(target) > 2000 or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ch.isspace() or not ch.isprintable() for ch in target):
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


class Words:
    """The words of the pages, from the region's workflow definitions (one vocabulary per status everywhere:
    the same labels as GET /api/workflows and the mails)."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    @property
    def issuer(self) -> str:
        """ "Badan Kesatuan Bangsa dan Politik Kota Balikpapan": the office, as the region names it."""
        return f"{self.catalogue.region.office_name} {self.catalogue.region.name}"

    @property
    def timezone(self) -> str:
        return self.catalogue.region.timezone

    def service(self, key: object) -> str:
        workflow = self.catalogue.workflow(str(key))
        return workflow.label if workflow else str(key)

    def state(self, service: object, state: object) -> str:
        workflow = self.catalogue.workflow(str(service))
        defined = workflow.states.get(str(state)) if workflow else None
        return defined.label if defined else str(state)


def sla_summary(sla: dict[str, Any] | None, zone: str) -> dict[str, Any] | None:
    """The service-level clock in words: limit, days used and left, due moment, paused or overdue."""
    if not sla or sla.get("sla_days") is None:
        return None
    days = lambda value: f"{float(value):.1f}".replace(".", ",")  # noqa: E731 - Indonesian decimal comma
    return {
        "limit": sla["sla_days"],
        "used": days(sla["days_used"]),
        "left": days(max(0.0, float(sla["days_left"]))),
        "due": local_time(str(sla["due_at"]), zone) if sla.get("due_at") else None,
        "running": bool(sla.get("running")),
        "overdue": bool(sla.get("overdue")),
    }


def case_page_context(
    case: dict[str, Any], timeline: list[dict[str, Any]] | None, zone: str, words: Words
) -> dict[str, Any]:
    """What the case page shows, in Indonesian, from ``get_case`` and ``case_timeline``."""
    case_id = quote(str(case["id"]), safe="")
    attachments = [
        {
            "label": attachment_label(str(item.get("kind", ""))),
            "filename": item.get("filename", ""),
            "size_kb": max(1, round(int(item.get("size") or 0) / 1024)),
            "url": f"/api/cases/{case_id}/attachments/{quote(str(item.get('file_id', '')), safe='')}",
        }
        for item in case.get("attachments") or []
    ]
    steps = [
        {
            "at": local_time(str(step.get("at", "")), zone),
            "iso": str(step.get("at", "")),
            "status": words.state(case.get("service"), step.get("status")),
            "by": _ROLES.get(str(step.get("actor_role")), ""),
            "reason": step.get("reason"),
            "note": step.get("note"),
        }
        for step in timeline or []
    ]
    letter = case.get("letter") or None
    approved = case.get("status") == "approved" and letter is not None
    return {
        "case": case,
        "service_name": words.service(case.get("service")),
        "status": case.get("status"),
        "status_label": words.state(case.get("service"), case.get("status")),
        "sla": sla_summary(case.get("sla"), zone),
        "assignee": (case.get("assignee") or {}).get("name") or None,
        "submitted_at": local_time(str(case.get("created_at", "")), zone) if case.get("created_at") else "",
        "attachments": attachments,
        "timeline": steps if timeline is not None else None,
        "letter_number": (letter or {}).get("number") if approved else None,
        "letter_url": f"/api/cases/{case_id}/letter" if approved else None,
    }


def cursor_or_none(cursor: str) -> str | None:
    """A page cursor from a link, if it looks like one (the service reads it; anything else starts afresh)."""
    return cursor if re.fullmatch(CURSOR_PATTERN, cursor) else None


def case_list(cases: list[dict[str, Any]], zone: str, words: Words) -> list[dict[str, str]]:
    """Rows of the caller's case list (read model of ``list_cases``)."""
    return [
        {
            "url": f"/cases/{quote(str(row.get('case_id', '')), safe='')}",
            "reference": str(row.get("reference", "")),
            "service_name": words.service(row.get("service")),
            "organisation_name": str(row.get("organisation_name", "")),
            "status_label": words.state(row.get("service"), row.get("status")),
            "updated_at": local_time(str(row.get("updated_at", "")), zone),
        }
        for row in cases
    ]


def report_rows(due: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the reports page (``reports_due``), dates in Bahasa."""
    return [
        {
            "label": row["label"],
            "due_on": indonesian_date(str(row["due_on"])),
            "status_label": row["status_label"],
            "overdue": bool(row["overdue"]),
            "url": f"/cases/{quote(str(row['case_id']), safe='')}" if row.get("case_id") else None,
        }
        for row in due
    ]


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    # Every page carries the form token its forms post back (sign-in, sign-out): see gateway/csrf.py.
    token = request.cookies.get(CSRF_COOKIE) or new_form_token()
    response = _templates.TemplateResponse(
        request, name, {**context, "csrf_token": token}, status_code=status_code, headers=_HEADERS | (headers or {})
    )
    set_form_token(response, token, request.app.state.settings)
    return response


def problem(request: Request, status: int) -> Response:
    """The error page for people (503: a service or its database is away; try again later)."""
    context = {"status": status, "issuer": request.app.state.words.issuer}
    return render(request, "error.html", context, status_code=status, headers=PRIVATE)
