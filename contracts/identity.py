"""Who is calling: every call carries its caller, signed by the part that vouches for it, bound to the
service, method and arguments it was signed for, usable once; every service verifies it and the role.

Services never trust a bare role field: anything able to publish on the broker could forge one.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, NoReturn

from pydantic import BaseModel, ValidationError

from contracts.errors import NotAuthenticated, PermissionDenied
from contracts.keys import Keyring, Signer, canonical

log = logging.getLogger(__name__)


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


def arguments_digest(args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical([list(args), dict(kwargs)])).hexdigest()


# A signed call is good for one request, to one method of one service with these arguments, for this long
# (either side of the signer's clock): a copy captured off the broker cannot be used again or elsewhere.
CALL_WINDOW_SECONDS = 30

# The only holder that may vouch for a person (from a session it checked); every other holder may only
# speak for itself, as ``system`` with user id ``service:<holder>``.
PERSON_VOUCHERS = frozenset({"gateway"})


def sign_call(
    caller: Caller,
    signer: Signer,
    audience: str,
    method: str,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    now: float | None = None,
) -> dict[str, object]:
    """The caller argument of one RPC: ``caller`` vouched for by ``signer``, bound to ``audience.method``
    called with ``args``/``kwargs`` (the call's other arguments), once, now."""
    body = {
        "caller": caller.model_dump(mode="json"),
        "holder": signer.holder,
        "audience": audience,
        "method": method,
        "args": arguments_digest(args, kwargs or {}),
        "nonce": secrets.token_hex(16),
        "issued": int(time.time() if now is None else now),
    }
    return {**body, "signature": signer.sign(canonical(body))}


def sign_arguments(
    signer: Signer, service: str, method: str, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The arguments of ``service.method`` with their Caller (the first argument, or ``caller=``) replaced by
    its signature for this call; arguments without a Caller are returned as they are."""
    args, kwargs = tuple(args), dict(kwargs)
    if args and isinstance(args[0], Caller):
        return (sign_call(args[0], signer, service, method, args[1:], kwargs), *args[1:]), kwargs
    caller = kwargs.get("caller")
    if isinstance(caller, Caller):
        rest = {name: value for name, value in kwargs.items() if name != "caller"}
        kwargs["caller"] = sign_call(caller, signer, service, method, args, rest)
    return args, kwargs


class UntrustedReply(Exception):
    """An answer that carries authority came without its answering service's valid proof."""


def _reply_body(holder: str, method: str, args: str, result: object, issued: int) -> dict[str, object]:
    digest = hashlib.sha256(canonical(result)).hexdigest()
    return {"holder": holder, "method": method, "args": args, "result": digest, "issued": issued}


def vouch(
    result: object,
    signer: Signer,
    method: str,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    now: float | None = None,
) -> dict[str, object]:
    """An answer that carries authority (who signed in, whether a letter is genuine, a letter's content),
    signed by the answering service for the request it answers (its method and arguments), now."""
    issued = int(time.time() if now is None else now)
    body = _reply_body(signer.holder, method, arguments_digest(args, kwargs), result, issued)
    return {"result": result, "proof": {"issued": issued, "signature": signer.sign(canonical(body))}}


def vouched(
    reply: object,
    keyring: Keyring,
    service: str,
    method: str,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    now: float | None = None,
) -> Any:
    """The result of ``reply``, if ``service`` signed it for this very request within the call window."""
    if not isinstance(reply, dict) or not isinstance(reply.get("proof"), dict):
        raise UntrustedReply(f"{service}.{method} answered without a proof")
    proof = reply["proof"]
    issued = proof.get("issued")
    now = time.time() if now is None else now
    if not isinstance(issued, int) or abs(now - issued) > CALL_WINDOW_SECONDS:
        raise UntrustedReply(f"{service}.{method} answered with a stale proof")
    body = _reply_body(service, method, arguments_digest(args, kwargs), reply.get("result"), issued)
    if not keyring.is_signed_by(service, proof.get("signature"), canonical(body)):
        raise UntrustedReply(f"{service}.{method} answered with a proof that is not {service}'s for this request")
    return reply["result"]


class CallVerifier:
    """Checks the signed caller of each call a service receives; counts what it refuses, by reason."""

    def __init__(self, keyring: Keyring, audience: str, window: int = CALL_WINDOW_SECONDS) -> None:
        self.keyring = keyring
        self.audience = audience
        self.window = window
        self.refused: Counter[str] = Counter()
        self._nonces: dict[str, float] = {}
        self._lock = threading.Lock()

    def verify(
        self, payload: object, method: str, args: Sequence[Any], kwargs: Mapping[str, Any], now: float | None = None
    ) -> Caller:
        now = time.time() if now is None else now
        if not isinstance(payload, dict) or "signature" not in payload:
            self._refuse("missing", "missing caller identity")
        body = {key: value for key, value in payload.items() if key != "signature"}
        holder = str(body.get("holder", ""))
        if not self.keyring.is_signed_by(holder, payload["signature"], canonical(body)):
            self._refuse("bad_signature", "caller identity signature is invalid")
        if body.get("audience") != self.audience or body.get("method") != method:
            self._refuse("moved", "caller identity was signed for another call")
        if body.get("args") != arguments_digest(args, kwargs):
            self._refuse("moved", "caller identity was signed for other arguments")
        issued = body.get("issued")
        if not isinstance(issued, int) or abs(now - issued) > self.window:
            self._refuse("expired", "caller identity has expired")
        try:
            caller = Caller.model_validate(body.get("caller"))
        except ValidationError:
            self._refuse("malformed", "caller identity is malformed")
        if not vouches_for(holder, caller):
            self._refuse("not_allowed", f"{holder} may not act as {caller.role.value}")
        self._use_once(str(body.get("nonce", "")), now)
        return caller

    def _use_once(self, nonce: str, now: float) -> None:
        with self._lock:
            if len(nonce) < 16 or nonce in self._nonces:
                self._refuse("replayed", "caller identity was used before")
            self._nonces[nonce] = now + 2 * self.window
            if len(self._nonces) > 10_000:  # forget nonces whose calls could no longer pass the window
                self._nonces = {n: until for n, until in self._nonces.items() if until > now}

    def _refuse(self, reason: str, message: str) -> NoReturn:
        self.refused[reason] += 1
        log.warning("%s refused a call: %s", self.audience, message)
        raise NotAuthenticated(message)


def vouches_for(holder: str, caller: Caller) -> bool:
    if caller.role is Role.SYSTEM:
        return caller.user_id == f"service:{holder}"
    return holder in PERSON_VOUCHERS


def system_caller(service: str) -> Caller:
    return Caller(user_id=f"service:{service}", role=Role.SYSTEM)
