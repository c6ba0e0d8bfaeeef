"""Audit replay: a case's stored events as records (who, what, when, why) and past-state lookup."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from contracts.errors import InvalidInput

_ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic"}
_CARRIED = {"case_facts"}  # the case's own facts, repeated on each event for its consumers: not part of a step


def event_record(domain_event: Any) -> dict[str, Any]:
    data = {key: value for key, value in vars(domain_event).items() if key not in _ENVELOPE | _CARRIED}
    actor = data.pop("actor", None)
    return {
        "version": domain_event.originator_version,
        "type": type(domain_event).__qualname__,
        "at": domain_event.timestamp.isoformat(),
        "actor": actor,
        "data": data,
    }


def pick_version(events: Sequence[Any], version: int | None, at: dt.datetime | None) -> int:
    """The version to show: the one asked for, or the last one recorded at or before ``at``."""
    last = events[-1].originator_version
    if version is not None:
        if not 1 <= version <= last:
            raise InvalidInput(f"version must be between 1 and {last}", field="version")
        return version
    if at is not None:
        moment = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
        earlier = [e.originator_version for e in events if e.timestamp <= moment]
        if not earlier:
            raise InvalidInput("the case did not exist at that time", field="at")
        return earlier[-1]
    return last
