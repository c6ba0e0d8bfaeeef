"""How often one client address, or one e-mail address, may sign up, sign in or ask for a confirmation
link (gateway/ratelimit.py counts; the API and the sign-in page both apply them)."""

from __future__ import annotations

from fastapi import Request

from gateway.deps import client_address
from gateway.ratelimit import Limiter, Rule

SIGN_UPS_PER_ADDRESS = Rule("sign-ups per address", 10, 3600)
SIGN_INS_PER_ADDRESS = Rule("sign-ins per address", 30, 600)
SIGN_INS_PER_ACCOUNT = Rule("sign-ins per e-mail address", 10, 600)
LINKS_PER_ADDRESS = Rule("confirmation links per address", 10, 3600)
LINKS_PER_ACCOUNT = Rule("confirmation links per e-mail address", 3, 3600)


def limit_sign_ins(limits: Limiter, request: Request, email: str) -> None:
    limits.check(SIGN_INS_PER_ADDRESS, client_address(request))
    limits.check(SIGN_INS_PER_ACCOUNT, email.strip().lower(), field="email")
