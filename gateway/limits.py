"""Request body size limits, enforced while the body streams in (before anything is parsed).

A declared ``Content-Length`` over the limit is refused at once; a body that grows past it
(chunked uploads) stops as soon as it does. Either way the client gets the usual error JSON.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import error_response, too_large_field

_MESSAGE = "the request is larger than allowed"


class BodyTooLarge(HTTPException):
    # An HTTPException so FastAPI's body parsing lets it through to the error handlers unchanged.
    def __init__(self) -> None:
        super().__init__(status_code=413, detail=_MESSAGE)


class BodyLimit:
    def __init__(self, app: ASGIApp, default: int, per_path: dict[str, int]) -> None:
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
        if declared.isdigit() and int(declared) > limit:
            field = too_large_field(headers.get("content-type", ""))
            await error_response(413, "too_large", _MESSAGE, field)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        await self.app(scope, limited_receive, send)
