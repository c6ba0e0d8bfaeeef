"""Accounts and sessions: sign-up, sign-in/out, the caller's own account, staff accounts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from contracts.organisations import AccountCreate, Credentials, StaffAccountCreate
from contracts.views import AccountView, SessionView
from gateway.auth import (
    CurrentCaller,
    caller_of_account,
    clear_session_cookie,
    issue_token,
    set_session_cookie,
)
from gateway.deps import Rpc, SettingsDep
from gateway.openapi import refusals

router = APIRouter(prefix="/api", tags=["accounts"])


@router.post(
    "/accounts",
    response_model=AccountView,
    status_code=201,
    responses=refusals(conflict="an account with this e-mail already exists"),
)
def register_applicant(payload: AccountCreate, rpc: Rpc) -> dict[str, Any]:
    """Sign up as an ormas board member (role applicant).

    Example: `{"email": "sekretaris@ormas.or.id", "password": "panjang-sekali-123",
    "full_name": "Siti Aminah"}`
    """
    return rpc.service("registry").register_applicant(payload.model_dump(mode="json"))


@router.post("/session", response_model=SessionView, responses=refusals(not_authenticated="wrong e-mail or password"))
def sign_in(payload: Credentials, response: Response, rpc: Rpc, settings: SettingsDep) -> dict[str, Any]:
    """Sign in. Returns a token (send it as `Authorization: Bearer <token>`) and sets the session cookie.

    Example: `{"email": "sekretaris@ormas.or.id", "password": "panjang-sekali-123"}`
    -> `{"token": "eyJ...", "account": {"id": "...", "role": "applicant", "organisation_id": null, ...}}`
    """
    account = rpc.vouched("registry").authenticate(payload.model_dump(mode="json"))
    token = issue_token(settings, caller_of_account(account))
    set_session_cookie(response, token, settings)
    return {"token": token, "account": account}


@router.delete("/session", status_code=204)
def sign_out(settings: SettingsDep) -> Response:
    """Sign out: clears the session cookie (a bearer token simply expires). No body."""
    response = Response(status_code=204)
    clear_session_cookie(response, settings)
    return response


@router.get("/me", response_model=AccountView)
def my_account(caller: CurrentCaller, rpc: Rpc) -> dict[str, Any]:
    """The signed-in account.

    Response: `{"id": "...", "email": "sekretaris@ormas.or.id", "full_name": "Siti Aminah",
    "role": "applicant", "organisation_id": "..."}`
    """
    return rpc.service("registry").get_account(caller, caller.user_id)


@router.post(
    "/staff",
    response_model=AccountView,
    status_code=201,
    responses=refusals(
        forbidden="only admins create staff accounts", conflict="an account with this e-mail already exists"
    ),
)
def register_staff(payload: StaffAccountCreate, caller: CurrentCaller, rpc: Rpc) -> dict[str, Any]:
    """Create a Kesbangpol staff account (admins only; the registry checks the role).

    Example: `{"email": "verifikator@kesbangpol.go.id", "password": "panjang-sekali-123",
    "full_name": "Budi Santoso", "role": "verifier"}`
    """
    return rpc.service("registry").register_staff(caller, payload.model_dump(mode="json"))
