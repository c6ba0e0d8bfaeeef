"""Keyset pages: a list answers with a page of rows and an opaque cursor that continues after its last row.

A cursor holds the last row's sort key (e.g. its time and id) so the next page starts exactly after it,
whatever was added meanwhile and however deep the page: no OFFSET scan, no row seen twice or skipped.
Clients treat it as opaque; the service that made it reads it back, and one it cannot read is refused
naming the ``cursor`` parameter.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from contracts.errors import InvalidInput

CURSOR_PATTERN = r"^[A-Za-z0-9_\-]{1,300}$"
DEFAULT_PAGE = 100
MAX_PAGE = 1000
BAD_CURSOR = "this page cursor is not valid; start again from the first page"


def encode_cursor(key: list[str]) -> str:
    """The cursor that continues after a row with this sort key."""
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, parts: int) -> list[str]:
    """The sort key a cursor of ``parts`` values holds; InvalidInput naming ``cursor`` for anything else."""
    try:
        key: Any = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidInput(BAD_CURSOR, field="cursor") from None
    if not isinstance(key, list) or len(key) != parts or not all(isinstance(part, str) for part in key):
        raise InvalidInput(BAD_CURSOR, field="cursor")
    return key


def page_size(limit: int) -> int:
    return max(1, min(int(limit), MAX_PAGE))


def page_of(rows: list[dict[str, Any]], limit: int, key: Callable[[dict[str, Any]], list[str]]) -> dict[str, Any]:
    """A page from up to ``limit + 1`` rows fetched in order: the extra row only says there is a next page."""
    items = rows[:limit]
    following = len(rows) > limit and items
    return {"items": items, "next_cursor": encode_cursor(key(items[-1])) if following else None}
