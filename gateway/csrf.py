"""Cross-site request forgery: a page on another site must not act with an officer's cookie.

A state-changing request (POST, PUT, PATCH, DELETE) is refused with 403, before any route runs, when
- it is authenticated by the session cookie (a valid one, not a bearer token) and does not come from
  this site: its `Origin` (or, failing that, `Referer`) is not this gateway's public address, or it
  lacks the `X-Satu-Request` header, which a browser sends cross-site only after a CORS preflight this
  gateway never grants;
- it is one of the HTML forms (sign-in, sign-out) and does not come from this site, or its hidden
  `csrf_token` field does not match the `satu_csrf` cookie set with the form (double submit).
Bearer-token clients (integrators, the API docs) are not affected: a foreign page cannot set that header.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.errors import NotAuthenticated
from gateway.auth import COOKIE_NAME, read_token
from gateway.errors import error_response
from infra.settings import Settings

CSRF_COOKIE = "satu_csrf"
CSRF_FIELD = "csrf_token"
REQUEST_HEADER = "x-satu-request"
FORMS = frozenset({"/login", "/logout", "/verify-email"})
# Signing up and signing in act as no one yet (and take JSON bodies, which a foreign page cannot send
# without a CORS preflight this gateway never grants).
SESSIONLESS = frozenset(
    {"/api/session", "/api/accounts", "/api/accounts/confirmation", "/api/accounts/confirmation/resend"}
)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_BODY_LIMIT = 64 * 1024


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def new_form_token() -> str:
    return secrets.token_urlsafe(24)


def set_form_token(response: Response, token: str, settings: Settings) -> None:
    """The cookie half of the double submit; the page carries the other half in its form."""
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, samesite="strict", path="/",
        secure=settings.public_base_url.startswith("https://"),
    )  # fmt: skip


class CrossSiteGuard:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.own_origin = origin_of(settings.public_base_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["path"] in FORMS:
            body, replay = await _read_body(receive)
            if not self._same_site(headers) or not _form_token_matches(Request(scope), body):
                await _refused(scope, receive, send)
                return
            await self.app(scope, replay, send)
            return
        if (
            scope["path"] not in SESSIONLESS
            and self._cookie_session(scope, headers)
            and not (self._same_site(headers) and REQUEST_HEADER in headers)
        ):
            await _refused(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _same_site(self, headers: Headers) -> bool:
        claimed = headers.get("origin") or origin_of(headers.get("referer", ""))
        scheme = urlsplit(self.own_origin).scheme or "http"
        # This gateway under its public address, or under the address the browser used to reach it.
        own = {self.own_origin, f"{scheme}://{headers.get('host', '')}".lower()}
        return bool(claimed) and claimed.lower() in own

    def _cookie_session(self, scope: Scope, headers: Headers) -> bool:
        if headers.get("authorization", "").lower().startswith("bearer "):
            return False
        token = Request(scope).cookies.get(COOKIE_NAME)
        if not token:
            return False
        try:
            read_token(self.settings, token)
        except NotAuthenticated:
            return False  # a stale or made-up cookie authenticates nothing; the route answers 401 if it must
        return True


def _form_token_matches(request: Request, body: bytes) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = parse_qs(body.decode("latin-1"), max_num_fields=20).get(CSRF_FIELD, [""])[0]
    return bool(cookie) and hmac.compare_digest(cookie, sent)


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """Read a form's (small) body, and give the route a receive that plays it back."""
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False) and sum(map(len, chunks)) <= FORM_BODY_LIMIT
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


async def _refused(scope: Scope, receive: Receive, send: Send) -> None:
    response = error_response(403, "cross_site_refused", "a request from another site was refused", None)
    await response(scope, receive, send)
