"""Response headers every answer of the gateway carries (a pure ASGI middleware).

- `X-Content-Type-Options: nosniff` everywhere: a browser never guesses a JSON body or a download is HTML.
- `Cache-Control: no-store` on every answer to a request that carried a token or the session cookie:
  a case, a letter or an organisation's data must not stay in a shared or back/forward cache.
- `Strict-Transport-Security` when the public address is https: browsers never fall back to http.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.auth import COOKIE_NAME

HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Headers(scope=scope)
        personal = "authorization" in request or f"{COOKIE_NAME}=" in request.get("cookie", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if personal:
                    headers["Cache-Control"] = "no-store"
                if self.https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
