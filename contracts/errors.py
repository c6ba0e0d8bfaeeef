"""Errors that cross service boundaries.

Services raise these; nameko carries them over RPC (``deserialize_to_instance`` rebuilds the same
class in the caller) and the gateway maps each to one HTTP status in one place. Every error carries
its English message and its Bahasa Indonesia text (``contracts.messages``).
"""

from __future__ import annotations

from nameko.exceptions import deserialize_to_instance

from contracts.messages import indonesian


class ServiceError(Exception):
    """Base of every expected, user-facing error. ``field`` names the offending input, if any;
    ``message_id`` is the Bahasa Indonesia text (from the catalogue unless the raise site gives one)."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None, message_id: str | None = None) -> None:
        self.message = message
        # nameko sends ``args`` as strings (None would arrive as "None") and rebuilds ``cls(*args)``,
        # so an absent field travels as "" and is None again on arrival.
        self.field = field or None
        self.message_id = message_id or indonesian(self.code, message, self.field)
        super().__init__(message, self.field or "", self.message_id)

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "message_id": self.message_id, "field": self.field}


@deserialize_to_instance
class InvalidInput(ServiceError):
    status = 422
    code = "invalid_input"


@deserialize_to_instance
class NotFound(ServiceError):
    status = 404
    code = "not_found"


@deserialize_to_instance
class NotAuthenticated(ServiceError):
    status = 401
    code = "not_authenticated"


@deserialize_to_instance
class PermissionDenied(ServiceError):
    status = 403
    code = "forbidden"


@deserialize_to_instance
class Conflict(ServiceError):
    """The target exists but is in the wrong state for the action (or the value is already taken)."""

    status = 409
    code = "conflict"


@deserialize_to_instance
class DatabaseUnavailable(ServiceError):
    """A request the service could not serve because its database did not answer (a restart, a failover, a
    refused connection): a command sent again with the same Idempotency-Key is done once (its id is recorded
    with its events), so the caller may try again."""

    status = 503
    code = "service_unavailable"


# DatabaseUnavailable too: another service's, passed on by one that asked it (no traceback in the log for it).
EXPECTED_ERRORS = (InvalidInput, NotFound, NotAuthenticated, PermissionDenied, Conflict, DatabaseUnavailable)
