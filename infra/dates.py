"""Dates in Bahasa Indonesia, spelled out here rather than through a locale: the Indonesian locale is
rarely installed in containers, and setlocale is process-global."""

from __future__ import annotations

import datetime as dt

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni",
          "Juli", "Agustus", "September", "Oktober", "November", "Desember")  # fmt: skip


def indonesian_date(day: dt.date) -> str:
    """`date(2026, 7, 31)` -> "31 Juli 2026"."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
