"""The one place that turns errors into HTTP responses.

Every error body is ``{"error": {"code": str, "message": str, "field": str | null}}``. Expected
errors carry their own status (``contracts.errors.ServiceError``); anything unexpected is logged
here by type and reference only (messages may hold personal data) and never shown as a traceback.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from http import HTTPStatus
from typing import Any

from amqp.exceptions import ConnectionError as AmqpConnectionError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from kombu.exceptions import OperationalError
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService
from starlette.exceptions import HTTPException as StarletteHTTPException

from contracts.errors import ServiceError
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


class TooLarge(ServiceError):
    status = 413
    code = "too_large"


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "unsupported_media_type"


def error_response(
    status: int, code: str, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "field": field}}
    return JSONResponse(body, status_code=status, headers=headers)


def too_large_field(content_type: str) -> str:
    # Only the upload takes multipart; there the oversized thing is the file.
    return "file" if content_type.startswith("multipart/") else "body"


def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return error_response(exc.status, exc.code, exc.message, exc.field, headers)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
    if first.get("type") == "json_invalid":
        return error_response(422, "malformed_json", "the request body is not valid JSON", None)
    location = [str(part) for part in first.get("loc", ())]
    if location and location[0] in _LOCATIONS:
        where, location = location[0], location[1:]
    else:
        where = "body"
    message = str(first.get("msg", "invalid input")).removeprefix("Value error, ")
    return error_response(422, "invalid_input", message, ".".join(location) or where)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(status).phrase
    field = None
    if status == 413:
        field = too_large_field(request.headers.get("content-type", ""))
    elif status == 404 and message == "Not Found":
        message = f"no such address: {request.url.path}"
    code = _HTTP_CODES.get(status, "http_error")
    return error_response(status, code, message, field, dict(exc.headers or {}) or None)


def _remote_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RemoteError)
    reference = uuid.uuid4().hex[:12]
    # exc.value may quote user input; the service logged the full story itself.
    log.error("service raised %s on %s %s (ref %s)", exc.exc_type, request.method, request.url.path, reference)
    message = f"a service failed while handling the request; please try again later (reference {reference})"
    return error_response(502, "service_error", message)


def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("service unavailable (%s) on %s %s", type(exc).__name__, request.method, request.url.path)
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
