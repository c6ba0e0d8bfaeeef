"""The one-command system's parts and their states, written by its supervisor (ops/supervisor.py) to
``<var>/parts.json`` and shown by the gateway's /health."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any

STATUS_FILE = "parts.json"


def write_status(path: Path, parts: dict[str, dict[str, Any]]) -> None:
    document = {"updated_at": dt.datetime.now(dt.UTC).isoformat(), "parts": parts}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".parts-")
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle)
    os.replace(temporary, path)


def read_status(path: Path) -> dict[str, Any] | None:
    """The parts' states as the supervisor last wrote them, or None when no supervisor runs here."""
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    parts = document.get("parts") if isinstance(document, dict) else None
    return parts if isinstance(parts, dict) else None
