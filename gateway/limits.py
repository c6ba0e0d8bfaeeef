"""Request body size limits, enforced while the body streams in (before anything is parsed).

A declared ``Content-Length`` over the limit is refused at once; a body that grows past it
(chunked uploads) stops as soon as it does. Either way the client gets the usual error JSON, and
its message names the limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import BodyTooLarge, TooLarge, service_error_response


@dataclass(frozen=True)
class Limit:
    """What a request body may hold, and the limit its sender is told."""

    body_bytes: int
    # An upload's body is the file wrapped in a multipart form: the sender is told the file's limit.
    stated_bytes: int


class BodyLimit:
    def __init__(self, app: ASGIApp, default: Limit, per_path: dict[str, Limit]) -> None:
        self.app = app
        self.default = default
        self.per_path = per_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.default)
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit.body_bytes:
            await service_error_response(_refusal(limit, headers))(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.body_bytes:
                    raise BodyTooLarge(_refusal(limit, headers))
            return message

        await self.app(scope, limited_receive, send)


def _refusal(limit: Limit, headers: Headers) -> TooLarge:
    # Only the upload takes multipart; there the oversized thing is the file.
    field = "file" if headers.get("content-type", "").startswith("multipart/") else "body"
    return TooLarge.over(limit.stated_bytes, field)
