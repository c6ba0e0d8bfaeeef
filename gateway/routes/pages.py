"""Pages for people (Bahasa Indonesia): sign-in, sign-out and the case page every status e-mail links to.

Errors here are answered with HTML pages, never with the API's JSON: someone clicked a link in a mail.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from contracts.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from contracts.identity import Caller
from contracts.organisations import Credentials
from gateway import pages
from gateway.account_limits import limit_sign_ins
from gateway.auth import (
    COOKIE_NAME,
    caller_of_account,
    clear_session_cookie,
    issue_token,
    read_token,
    set_session_cookie,
)
from gateway.commands import CommandId
from gateway.deps import Rpc, SettingsDep
from gateway.errors import TooManyRequests
from infra.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(tags=["pages"], include_in_schema=False)

_INCOMPLETE = "Isi alamat e-mail yang benar dan kata sandi Anda."


def _issuer(request: Request) -> dict[str, str]:
    return {"issuer": request.app.state.words.issuer}


def _session(request: Request, settings: Settings) -> Caller | None:
    token = request.cookies.get(COOKIE_NAME)
    try:
        return read_token(settings, token) if token else None
    except NotAuthenticated:  # expired or forged: sign in again
        return None


def _to_login(next_path: str, settings: Settings) -> Response:
    response = RedirectResponse(f"/login?next={quote(next_path, safe='/')}", status_code=303)
    clear_session_cookie(response, settings)
    return response


def _login_form(
    request: Request, settings: Settings, next_path: str, email: str = "", error: str = "", status: int = 200
) -> Response:
    context = {"next": next_path, "email": email[:200], "error": error, **_issuer(request)}
    return pages.render(request, "login.html", context, status_code=status, headers=pages.PRIVATE)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, settings: SettingsDep, next: str = "/") -> Response:
    """The sign-in form. Example: `GET /login?next=/cases/0b9e...`"""
    return _login_form(request, settings, pages.safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    rpc: Rpc,
    settings: SettingsDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Sign in from the form; sets the session cookie and goes on to `next` (a path on this site only).

    Example (form-encoded): `email=sekretaris@ormas.or.id&password=...&next=/cases/0b9e...` -> 303 to `next`
    """
    target = pages.safe_next(next)
    try:
        credentials = Credentials(email=email.strip(), password=password)
    except ValidationError:
        return _login_form(request, settings, target, email, _INCOMPLETE, status=422)
    try:
        limit_sign_ins(request.app.state.limiter, request, credentials.email)
        account = rpc.vouched("registry").authenticate(credentials.model_dump(mode="json"))
    except (NotAuthenticated, InvalidInput, PermissionDenied, TooManyRequests) as refused:
        # The registry's own words, in Bahasa Indonesia (the same text the API gives as message_id).
        return _login_form(request, settings, target, email, refused.message_id, status=401)
    except pages.FAILED as error:
        log.warning("sign-in page: registry unavailable (%s)", type(error).__name__)
        return pages.problem(request, 503)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, issue_token(settings, caller_of_account(account)), settings)
    return response


_MAX_TOKEN = 300


@router.get("/verify-email", response_class=HTMLResponse, include_in_schema=False)
def confirm_email_page(request: Request, token: str = "") -> Response:
    """The page the mailed link opens: a button that confirms (a link preview or a mail scanner opening
    the link must not use up the single-use link; only a person's press does)."""
    context = {"token": token[:_MAX_TOKEN], **_issuer(request)}
    return pages.render(request, "confirm_email.html", context, headers=pages.PRIVATE)


@router.post("/verify-email", response_class=HTMLResponse, include_in_schema=False)
def confirm_email(
    request: Request, rpc: Rpc, settings: SettingsDep, command: CommandId, token: Annotated[str, Form()] = ""
) -> Response:
    """Confirm the address: the page says so, or says why not in Bahasa Indonesia."""
    try:
        confirmed = rpc.service("registry").confirm_email(token[:_MAX_TOKEN], command_id=command)
    except (InvalidInput, Conflict) as refused:
        refusal: dict[str, Any] = {"error": refused.message_id, **_issuer(request)}
        return pages.render(request, "confirm_email.html", refusal, status_code=refused.status, headers=pages.PRIVATE)
    except pages.FAILED as error:
        log.warning("confirmation page: registry unavailable (%s)", type(error).__name__)
        return pages.problem(request, 503)
    done: dict[str, Any] = {"confirmed": True, "email": confirmed["email"], **_issuer(request)}
    return pages.render(request, "confirm_email.html", done, headers=pages.PRIVATE)


@router.post("/logout")
def logout(settings: SettingsDep) -> Response:
    """Sign out: clears the session cookie and shows the sign-in form."""
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, settings)
    return response


HOME_PAGE_ROWS = 50


@router.get("/", response_class=HTMLResponse)
def home(request: Request, rpc: Rpc, settings: SettingsDep, cursor: str = "") -> Response:
    """Where signing in lands without `next`: the caller's cases, newest first, each linking to its page, 50
    to a page with a link to the next (`/?cursor=...`; a cursor that cannot be read shows the first page)."""
    caller = _session(request, settings)
    if caller is None:
        return _to_login("/", settings)
    submissions = rpc.service("submissions")
    try:
        try:
            page = submissions.list_cases(caller, None, pages.cursor_or_none(cursor), HOME_PAGE_ROWS)
        except InvalidInput:  # a mangled link: start from the newest
            page = submissions.list_cases(caller, None, None, HOME_PAGE_ROWS)
    except NotAuthenticated:
        return _to_login("/", settings)
    except pages.FAILED as error:
        log.warning("home page: submissions unavailable (%s)", type(error).__name__)
        return pages.problem(request, 503)
    words = request.app.state.words
    context = {
        "cases": pages.case_list(page["items"], words.timezone, words),
        "next_page": f"/?cursor={quote(page['next_cursor'])}" if page["next_cursor"] else None,
        "signed_in": True,
        **_issuer(request),
    }
    return pages.render(request, "home.html", context, headers=pages.PRIVATE)


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, rpc: Rpc, settings: SettingsDep) -> Response:
    """The organisation's half-yearly reports: each period owed, its due date, its report (reminder mails
    link here). Example: `GET /reports` -> HTML; without a session -> 303 to `/login?next=/reports`"""
    caller = _session(request, settings)
    if caller is None:
        return _to_login("/reports", settings)
    try:
        due = rpc.service("submissions").reports_due(caller)
    except NotAuthenticated:
        return _to_login("/reports", settings)
    except (PermissionDenied, Conflict):  # staff, or an account without an organisation yet
        due = None
    except pages.FAILED as error:
        log.warning("reports page: submissions unavailable (%s)", type(error).__name__)
        return pages.problem(request, 503)
    context = {"reports": pages.report_rows(due) if due is not None else None, "signed_in": True, **_issuer(request)}
    return pages.render(request, "reports.html", context, headers=pages.PRIVATE)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(case_id: str, request: Request, rpc: Rpc, settings: SettingsDep) -> Response:
    """The case as its applicant (or staff) sees it: status, reason, timeline, files, letter.

    Example: `GET /cases/0b9e...` -> HTML; without a valid session -> 303 to `/login?next=/cases/0b9e...`
    """
    caller = _session(request, settings)
    if caller is None:
        return _to_login(f"/cases/{quote(case_id, safe='')}", settings)
    if len(case_id) > 64:
        return pages.problem(request, 404)
    submissions = rpc.service("submissions")
    try:
        case = submissions.get_case(caller, case_id)
    except NotAuthenticated:
        return _to_login(f"/cases/{quote(case_id, safe='')}", settings)
    except (NotFound, PermissionDenied, InvalidInput):
        return pages.problem(request, 404)
    except pages.FAILED as error:
        log.warning("case page: submissions unavailable (%s)", type(error).__name__)
        return pages.problem(request, 503)
    try:
        timeline = submissions.case_timeline(caller, case_id)
    except (NotFound, *pages.FAILED) as error:  # the read model may lag; the case itself is what matters
        log.info("case page without timeline (%s)", type(error).__name__)
        timeline = None
    context = pages.case_page_context(case, timeline, request.app.state.words.timezone, request.app.state.words)
    context |= {"signed_in": True, **_issuer(request)}
    return pages.render(request, "case.html", context, headers=pages.PRIVATE)
