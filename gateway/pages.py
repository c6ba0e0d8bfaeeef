"""Server-rendered pages (Bahasa Indonesia): jinja2 templates with autoescaping always on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

# fmt: off
_MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni",
           "Juli", "Agustus", "September", "Oktober", "November", "Desember")
# fmt: on
_STATUS_LABELS = {"valid": "Berlaku", "revoked": "Dicabut", "expired": "Kedaluwarsa"}
# Pages carry no scripts and no third-party content.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_templates = Jinja2Templates(
    env=jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)
)


def indonesian_date(value: str) -> str:
    """'2026-03-12' -> '12 Maret 2026' (unparseable values are shown as they are)."""
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def status_label(status: str) -> str:
    return _STATUS_LABELS.get(status, status)


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    return _templates.TemplateResponse(request, name, context, status_code=status_code, headers=_HEADERS)
