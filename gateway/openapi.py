"""The OpenAPI document lists, for every operation, the errors it can answer, each with ``ErrorBody``.

Most follow from what the operation is, so they are derived here rather than repeated on each
route: one that needs a session can answer 401; one with path parameters 404 (the id names
nothing the caller may see); one with parameters or a body 422; one with a body 400 (unreadable),
413 (over the size limit) and 415 (not the media type it reads); one that calls a service 503.
What only the services know (403: the caller's role may not; 409: the record's state does not
allow it; 401 where signing in is the operation) each route declares with ``refusals(...)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from gateway.deps import get_rpc
from gateway.errors import ErrorBody

_REF = "#/components/schemas/{model}"
_ERROR_REF = _REF.format(model="ErrorBody")
_FASTAPI_422 = ("HTTPValidationError", "ValidationError")  # FastAPI's own 422 body, which this API never sends

_STATUSES = {
    "not_authenticated": 401, "forbidden": 403, "not_found": 404, "conflict": 409, "too_large": 413,
    "rate_limited": 429,
}  # fmt: skip
_DESCRIPTIONS = {
    400: "The body could not be read (not UTF-8, or a broken multipart form).",
    401: "No valid session: sign in with POST /api/session and send the token.",
    404: "Nothing with this id, or nothing the caller may see.",
    413: "The body is larger than the limit; the message names the limit.",
    415: "The body is not of the media type this operation reads.",
    422: "A parameter or the body is invalid; `field` names it.",
    503: "A service is unavailable for the moment; retry later.",
}


def refusals(**descriptions: str) -> dict[int | str, dict[str, Any]]:
    """Error responses only the services can tell, for a route decorator's ``responses``.

    ``refusals(forbidden="admins only", conflict="the e-mail is already registered")``; the keys are
    the error codes (not_authenticated, forbidden, not_found, conflict).
    """
    return {_STATUSES[code]: {"description": text} for code, text in descriptions.items()}


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` document every operation's errors (built once, then cached by FastAPI)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = FastAPI.openapi(app)
            document_errors(spec, app)
            headers_are_never_null(spec)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def headers_are_never_null(spec: dict[str, Any]) -> None:
    """An optional header (Idempotency-Key) is a string or absent; FastAPI writes ``str | None`` as "string
    or null", and a header cannot carry a null."""
    for path in spec.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema", {})
                if parameter.get("in") == "header" and "anyOf" in schema:
                    kinds = [kind for kind in schema.pop("anyOf") if kind.get("type") != "null"]
                    schema.update(kinds[0] if len(kinds) == 1 else {"anyOf": kinds})


def document_errors(spec: dict[str, Any], app: FastAPI) -> None:
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorBody.model_json_schema(ref_template=_REF)
    schemas.update(error_schema.pop("$defs", {}), ErrorBody=error_schema)
    # Route contexts, not app.routes: FastAPI keeps included routers as branches with their prefix apart.
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = spec["paths"][route.path_format][method.lower()]
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # FastAPI's, with its own body; derived again below with ours
            for status in _derived_statuses(route, operation):
                responses.setdefault(str(status), {"description": _DESCRIPTIONS[status]})
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = {"application/json": {"schema": {"$ref": _ERROR_REF}}}
            operation["responses"] = dict(sorted(responses.items()))
    for name in _FASTAPI_422:
        schemas.pop(name, None)


def _derived_statuses(route: RouteContext, operation: dict[str, Any]) -> Iterator[int]:
    parameters = operation.get("parameters", [])
    if operation.get("security"):
        yield 401
    if any(parameter["in"] == "path" for parameter in parameters):
        yield 404
    if "requestBody" in operation:
        yield from (400, 413, 415)
    if parameters or "requestBody" in operation:
        yield 422
    if get_rpc in _calls(route.dependant):
        yield 503


def _calls(dependant: Dependant) -> set[Any]:
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found
