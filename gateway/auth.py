"""Session tokens: issued at sign-in, read from ``Authorization: Bearer`` or the session cookie.

The token only says who the caller is; what they may do is decided by the services, which receive
the caller signed by the gateway for each call alone (gateway/rpc.py, ``contracts.identity.sign_call``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from pydantic import ValidationError

from contracts.errors import NotAuthenticated
from contracts.identity import Caller, Role
from gateway.deps import SettingsDep
from infra.settings import Settings

COOKIE_NAME = "satu_session"
_SALT = "satu-session"

_bearer = HTTPBearer(auto_error=False, description="the token returned by POST /api/session")
_cookie = APIKeyCookie(name=COOKIE_NAME, auto_error=False, description="set by POST /api/session")


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.session_key, salt=_SALT)


def issue_token(settings: Settings, caller: Caller) -> str:
    return _serializer(settings).dumps(caller.model_dump(mode="json"))


def caller_of_account(account: dict[str, object]) -> Caller:
    return Caller.model_validate(
        {"user_id": account["id"], "role": account["role"], "organisation_id": account.get("organisation_id")}
    )


def read_token(settings: Settings, token: str) -> Caller:
    try:
        data = _serializer(settings).loads(token, max_age=settings.token_ttl_seconds)
    except SignatureExpired:
        raise NotAuthenticated("your session has expired; please sign in again") from None
    except BadData:
        raise NotAuthenticated("the session token is invalid; please sign in again") from None
    try:
        caller = Caller.model_validate(data)
    except ValidationError:
        raise NotAuthenticated("the session token is invalid; please sign in again") from None
    if caller.role is Role.SYSTEM:  # services never act through the HTTP entry
        raise NotAuthenticated("the session token is invalid; please sign in again")
    return caller


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=settings.token_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.public_base_url.startswith("https://"),
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE_NAME,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.public_base_url.startswith("https://"),
    )


async def current_caller(
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Caller:
    token = bearer.credentials if bearer is not None else cookie
    if not token:
        raise NotAuthenticated("sign in first (POST /api/session)")
    return read_token(settings, token)


CurrentCaller = Annotated[Caller, Depends(current_caller)]
