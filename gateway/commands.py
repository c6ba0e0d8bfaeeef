"""Every command the gateway passes on carries a command id: the client's Idempotency-Key, or one made
for this HTTP request. The service records it with the events the command produced (contracts/commands.py),
so a command that arrives again (a retry with the same key, an RPC redelivered after a broker restart) returns
what it did the first time and changes nothing."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Header

from contracts.commands import IDEMPOTENCY_KEY_PATTERN

IDEMPOTENCY_HELP = (
    "Optional, 8-100 letters, digits, '-' or '_': send the same key when retrying a command whose answer was "
    "lost (timeout, 503): the first attempt's result is returned instead of doing it twice (a second case, a "
    "second step)."
)


async def command_id(
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN, description=IDEMPOTENCY_HELP)
    ] = None,
) -> str:
    return idempotency_key or f"cmd-{uuid.uuid4().hex}"


CommandId = Annotated[str, Depends(command_id)]
