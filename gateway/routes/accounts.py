"""Accounts and sessions: sign-up, sign-in/out, the caller's own account, staff accounts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from contracts.organisations import AccountCreate, AddressOnly, ConfirmationToken, Credentials, StaffAccountCreate
from contracts.views import AccountView, ConfirmationView, SessionView, SignUpView
from gateway.account_limits import (
    LINKS_PER_ACCOUNT,
    LINKS_PER_ADDRESS,
    SIGN_UPS_PER_ADDRESS,
    limit_sign_ins,
)
from gateway.auth import (
    CurrentCaller,
    caller_of_account,
    clear_session_cookie,
    issue_token,
    set_session_cookie,
)
from gateway.commands import CommandId
from gateway.deps import Limits, Rpc, SettingsDep, client_address
from gateway.openapi import refusals

router = APIRouter(prefix="/api", tags=["accounts"])


@router.post(
    "/accounts",
    response_model=SignUpView,
    status_code=202,
    responses=refusals(rate_limited="too many sign-ups from this address (the limit named; Retry-After)"),
)
def register_applicant(
    payload: AccountCreate, rpc: Rpc, limits: Limits, request: Request, command: CommandId
) -> dict[str, Any]:
    """Sign up as an ormas board member (role applicant). The answer is the same whether or not the
    address has an account: a link to confirm it goes to the address (for an address that has an account,
    a notice to its owner instead). Until confirmed, the account may sign in but not record an
    organisation; an account not confirmed within 7 days expires.

    Example: `{"email": "sekretaris@ormas.or.id", "password": "panjang-sekali-123",
    "full_name": "Siti Aminah"}` -> 202 `{"email": "sekretaris@ormas.or.id", "status": "confirmation_sent"}`
    """
    limits.check(SIGN_UPS_PER_ADDRESS, client_address(request))
    rpc.service("registry").register_applicant(payload.model_dump(mode="json"), command_id=command)
    return {"email": str(payload.email).strip().lower(), "status": "confirmation_sent"}


@router.post(
    "/accounts/confirmation",
    response_model=ConfirmationView,
    responses=refusals(conflict="the address is confirmed already"),
)
def confirm_address(payload: ConfirmationToken, rpc: Rpc, command: CommandId) -> dict[str, Any]:
    """Confirm an account's address with the token of the mailed link (once; within 24 hours).

    Example: `{"token": "0b9e....5f1c....MEUCIQ..."}` -> `{"email": "...", "status": "confirmed"}`
    """
    return rpc.service("registry").confirm_email(payload.token, command_id=command)


@router.post(
    "/accounts/confirmation/resend",
    response_model=SignUpView,
    status_code=202,
    responses=refusals(rate_limited="too many links asked for (the limit named; Retry-After)"),
)
def resend_confirmation(
    payload: AddressOnly, rpc: Rpc, limits: Limits, request: Request, command: CommandId
) -> dict[str, Any]:
    """A new confirmation link (the earlier ones stop working); the same answer for any address.

    Example: `{"email": "sekretaris@ormas.or.id"}` -> 202
    """
    limits.check(LINKS_PER_ADDRESS, client_address(request))
    limits.check(LINKS_PER_ACCOUNT, str(payload.email).lower(), field="email")
    return rpc.service("registry").resend_confirmation(payload.model_dump(mode="json"), command_id=command)


@router.post(
    "/session",
    response_model=SessionView,
    responses=refusals(
        not_authenticated="wrong e-mail or password", rate_limited="too many sign-ins (the limit named; Retry-After)"
    ),
)
def sign_in(
    payload: Credentials, response: Response, rpc: Rpc, settings: SettingsDep, limits: Limits, request: Request
) -> dict[str, Any]:
    """Sign in. Returns a token (send it as `Authorization: Bearer <token>`) and sets the session cookie.

    Example: `{"email": "sekretaris@ormas.or.id", "password": "panjang-sekali-123"}`
    -> `{"token": "eyJ...", "account": {"id": "...", "role": "applicant", "organisation_id": null, ...}}`
    """
    limit_sign_ins(limits, request, str(payload.email))
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
def register_staff(payload: StaffAccountCreate, caller: CurrentCaller, rpc: Rpc, command: CommandId) -> dict[str, Any]:
    """Create a Kesbangpol staff account (admins only; the registry checks the role).

    Example: `{"email": "verifikator@kesbangpol.go.id", "password": "panjang-sekali-123",
    "full_name": "Budi Santoso", "role": "verifier"}`
    """
    return rpc.service("registry").register_staff(caller, payload.model_dump(mode="json"), command_id=command)
