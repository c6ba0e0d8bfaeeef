"""Command ids: every command carries one (the client's Idempotency-Key, or one the gateway made for the
request), and the aggregate it changed remembers the recent ones with what each did, so a command that
arrives again (a retry, an RPC the broker redelivered after a restart) returns the first result and
changes nothing. Pure: the domains record and read these in their aggregates."""

from __future__ import annotations

import re

from contracts.errors import InvalidInput

IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9_\-]{8,100}$"
RECENT_COMMANDS = 100  # a command arrives again within seconds (a redelivery) or minutes (a retry)


def remember(recent: dict[str, str], command_id: str | None, what: str) -> None:
    """Note in ``recent`` (an aggregate's memory, in event order) that ``command_id`` did ``what``."""
    if command_id is None:
        return
    recent[command_id] = what
    if len(recent) > RECENT_COMMANDS:
        del recent[next(iter(recent))]


def checked_command_id(value: object) -> str | None:
    """A command id as it reaches a service: absent, or in the Idempotency-Key's form."""
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, value):
        raise InvalidInput("Idempotency-Key must be 8-100 letters, digits, '-' or '_'", field="Idempotency-Key")
    return value
