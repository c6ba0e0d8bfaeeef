"""The one place that turns errors into HTTP responses.

Every error body is ``ErrorBody``: ``{"error": {"code", "message", "message_id", "field"}}`` with a
stable code, the English message, its Bahasa Indonesia text (``contracts.messages``) and the field
at fault or null. Expected errors carry their own status (``contracts.errors.ServiceError``);
anything unexpected is logged here by type and reference only (messages may hold personal data)
and never shown as a traceback.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from http import HTTPStatus
from typing import Any

from amqp.exceptions import ConnectionError as AmqpConnectionError
from fastapi import FastAPI, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from kombu.exceptions import OperationalError
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import get_route_path

from contracts.errors import ServiceError
from contracts.messages import indonesian
from contracts.validation import invalid_input
from gateway.rpc import ServiceUnavailable

log = logging.getLogger(__name__)

UNAVAILABLE = (RpcTimeout, UnknownService, ServiceUnavailable, OSError, OperationalError, AmqpConnectionError)

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
}
_LOCATIONS = {"body", "query", "path", "header", "cookie"}
_JSON = "application/json"
_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


class ErrorDetail(BaseModel):
    code: str = Field(description="stable and machine-readable, e.g. invalid_input, not_found, conflict")
    message: str = Field(description="what went wrong, in English")
    message_id: str = Field(description="the same in Bahasa Indonesia: the text to show people")
    field: str | None = Field(description="the input at fault as a dotted path (board.0.nik), or null")


class ErrorBody(BaseModel):
    """Every error the API answers (4xx and 5xx) has this body."""

    error: ErrorDetail


class TooLarge(ServiceError):
    status = 413
    code = "too_large"

    @classmethod
    def over(cls, limit: int, field: str) -> TooLarge:
        """The error for a body over ``limit`` bytes; it names the limit as people read it (10 MB).
        Two whole sentences rather than one with the subject filled in: the catalogue keys on each."""
        if field == "file":
            return cls(f"the file is larger than the limit of {size_text(limit)}", field=field)
        return cls(f"the request body is larger than the limit of {size_text(limit)}", field=field)


class TooManyRequests(ServiceError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, field: str | None = None, message_id: str | None = None) -> None:
        super().__init__(message, field, message_id)
        self.retry_after = 60

    @classmethod
    def over(cls, rule: Any, retry_after: int, field: str | None = None) -> TooManyRequests:
        """The error for one hit too many: names the rule and its limit, says when to try again."""
        error = cls(f"too many requests ({rule.name}: at most {rule.describe()}); try again later", field=field)
        error.retry_after = retry_after
        return error


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "unsupported_media_type"


class BodyTooLarge(StarletteHTTPException):
    """A body that grew past its limit while streaming in. An HTTPException, because FastAPI's body
    parsing turns any other exception into a 400 but lets these through to the handlers unchanged."""

    def __init__(self, error: TooLarge) -> None:
        super().__init__(status_code=413, detail=error.message)
        self.error = error


def size_text(size: int) -> str:
    """10485760 -> "10 MB": whole units where they fit (the same in English and Bahasa Indonesia)."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> JSONResponse:
    detail = ErrorDetail(
        code=code, message=message, message_id=message_id or indonesian(code, message, field), field=field
    )
    return JSONResponse(ErrorBody(error=detail).model_dump(mode="json"), status_code=status, headers=headers)


def service_error_response(exc: ServiceError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    return error_response(exc.status, exc.code, exc.message, exc.field, headers, exc.message_id)


def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return service_error_response(exc)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    expected = _unreadable_media_type(request)
    if expected is not None:
        return service_error_response(UnsupportedMediaType(f"the body must be sent as {expected}", field="body"))
    first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
    if first.get("type") == "json_invalid":
        return error_response(422, "malformed_json", "the request body is not valid JSON", None)
    location = [str(part) for part in first.get("loc", ())]
    where = location.pop(0) if location and location[0] in _LOCATIONS else "body"
    return service_error_response(invalid_input(first, location, where))


def _unreadable_media_type(request: Request) -> str | None:
    """The media type the operation reads, if the request sent a body of another one.

    FastAPI hands a JSON operation a body of any other type as raw bytes, and a form operation an
    empty form; either then fails validation. The real fault is the type, so it gets a 415.
    """
    body_field = getattr(request.scope.get("route"), "body_field", None)
    if body_field is None or not _has_body(request.headers):
        return None
    sent = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if isinstance(body_field.field_info, params.Form):
        return None if sent in _FORMS else _FORMS[0]
    return None if sent == _JSON or sent.endswith("+json") else _JSON


def _has_body(headers: Headers) -> bool:
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, BodyTooLarge):
        return service_error_response(exc.error)
    status = exc.status_code
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(status).phrase
    headers = dict(exc.headers or {})
    field = "body" if status == 400 else None
    if status == 404 and message == "Not Found":
        message = f"no such address: {request.url.path}"
    elif status == 405:
        # Starlette's Allow names the methods of the first route on this path only; list them all.
        allowed = _allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        message = f"{request.method} is not allowed here; use {', '.join(allowed)}"
    code = _HTTP_CODES.get(status, "http_error")
    return error_response(status, code, message, field, headers or None)


def _allowed_methods(request: Request) -> list[str]:
    path = get_route_path(request.scope)
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        if route.methods and route.path_regex.match(path):
            methods |= route.methods
    return sorted(methods)


# A service's own question to another went unanswered (a part restarting, the broker away): as unavailable as
# an unanswered call of the gateway's own, and as safe to retry (a command asks its questions before it records
# anything, and a command id makes a retry of one that did record change nothing).
UNANSWERED_INSIDE = {RpcTimeout.__name__}


def _remote_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RemoteError)
    if exc.exc_type in UNANSWERED_INSIDE:
        return _unavailable(request, exc)
    reference = uuid.uuid4().hex[:12]
    # exc.value may quote user input; the service logged the full story itself.
    log.error("service raised %s on %s %s (ref %s)", exc.exc_type, request.method, request.url.path, reference)
    message = f"a service failed while handling the request; please try again later (reference {reference})"
    return error_response(502, "service_error", message)


def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    kind = exc.exc_type if isinstance(exc, RemoteError) else type(exc).__name__  # a service's own, named
    log.warning("service unavailable (%s) on %s %s", kind, request.method, request.url.path)
    return error_response(503, "service_unavailable", "the service is temporarily unavailable; please retry")


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    reference = uuid.uuid4().hex[:12]
    # Frames only: the exception's message may hold personal data.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error(
        "unexpected %s on %s %s (ref %s)\n%s",
        type(exc).__name__,
        request.method,
        request.url.path,
        reference,
        frames,
    )
    return error_response(500, "internal_error", f"an unexpected error occurred (reference {reference})")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RemoteError, _remote_error)
    for unavailable in UNAVAILABLE:
        app.add_exception_handler(unavailable, _unavailable)
    app.add_exception_handler(Exception, _unexpected)
