"""Who is calling: the gateway signs the caller, every service verifies the signature and the role.

Services never trust a bare role field: anything able to publish on the broker could forge one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from enum import StrEnum

from pydantic import BaseModel, ValidationError

from contracts.errors import NotAuthenticated, PermissionDenied


class Role(StrEnum):
    APPLICANT = "applicant"
    VERIFIER = "verifier"
    APPROVER = "approver"
    ADMIN = "admin"
    AUDITOR = "auditor"
    SYSTEM = "system"  # service-to-service calls


STAFF_ROLES = frozenset({Role.VERIFIER, Role.APPROVER, Role.ADMIN, Role.AUDITOR})


class Caller(BaseModel):
    user_id: str
    role: Role
    organisation_id: str | None = None

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = ", ".join(sorted(role.value for role in roles))
            raise PermissionDenied(f"role '{self.role.value}' may not do this (allowed: {allowed})")

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES or self.role is Role.SYSTEM


def _digest(body: dict[str, object], secret: str) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(secret.encode(), canonical, hashlib.sha256).hexdigest()


# A signed caller is good for one request; a copy captured from the broker soon stops working.
SIGNED_CALLER_SECONDS = 300


def sign_caller(caller: Caller, secret: str, now: float | None = None) -> dict[str, object]:
    expires = int((time.time() if now is None else now) + SIGNED_CALLER_SECONDS)
    body = {**caller.model_dump(mode="json"), "expires": expires}
    return {**body, "signature": _digest(body, secret)}


def verify_caller(payload: object, secret: str) -> Caller:
    if not isinstance(payload, dict) or "signature" not in payload:
        raise NotAuthenticated("missing caller identity")
    body = {key: value for key, value in payload.items() if key != "signature"}
    if not hmac.compare_digest(str(payload["signature"]), _digest(body, secret)):
        raise NotAuthenticated("caller identity signature is invalid")
    expires = body.get("expires")
    if not isinstance(expires, int) or expires < time.time():
        raise NotAuthenticated("caller identity has expired")
    try:
        return Caller.model_validate(body)
    except ValidationError:
        raise NotAuthenticated("caller identity is malformed") from None


def system_caller(service: str) -> Caller:
    return Caller(user_id=f"service:{service}", role=Role.SYSTEM)
