"""The people of an office and their cases, in the in-process services (tests/support/in_process.py):
accounts made the way the running system makes them, and cases moved through the services' own RPC
(test support; no tests here)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from argon2 import PasswordHasher

from contracts.identity import Caller, Role
from services.registry.application import RegistryApplication
from services.registry.verification import make_token
from tests.support.factories import attachment, organisation_payload
from tests.support.in_process import Cluster
from tests.support.scenario import FIELD_VISIT

PASSWORD = "kata-sandi-panjang"
# argon2id as the registry uses it, at its lowest cost: at the production cost (~0.2 s a hash) every
# sign-in of the suite would take that long, and the cost changes no rule.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def cheap_password_hashing(monkeypatch: Any) -> None:
    monkeypatch.setattr(RegistryApplication, "hasher", CHEAP_HASHER)


def enrol(cluster: Cluster, email: str, role: str = "applicant", organisation: str | None = None) -> dict[str, Any]:
    """An account as the running system gets one: an applicant signs up (and records an organisation
    named ``organisation``, if given); staff through the bootstrap path the seed uses (ops/seed.py: the
    registry's application on its store). Returns the account as the registry shows it."""
    registry = cluster["registry"]
    details = {"email": email, "password": PASSWORD, "full_name": f"Akun {email.split('@')[0]}"}
    if role != Role.APPLICANT.value:
        staff = cluster.application("registry").bootstrap_staff({**details, "role": role})  # type: ignore[attr-defined]
        cluster.relay()
        return dict(staff)
    account = dict(registry.register_applicant(details))
    confirm_address(cluster, account["id"])
    if organisation is not None:
        recorded = registry.record_organisation(signed(cluster, account), organisation_payload(name=organisation))
        account["organisation_id"] = recorded["id"]
    return account


def confirm_address(cluster: Cluster, account_id: str) -> None:
    """Follow the mailed link, as its person would: the token the registry makes for the account's newest
    link (what the notifications service mails), sent back through the registry's public call."""
    nonce = cluster.application("registry").repository.get(UUID(account_id)).verification_nonce  # type: ignore[attr-defined]
    token = make_token(cluster.signer("registry"), account_id, nonce)
    cluster["registry"].confirm_email(token)


def signed(cluster: Cluster, account: dict[str, Any]) -> Caller:
    """The caller the gateway would send for ``account`` once signed in (signed for each call it goes with)."""
    who = Caller(user_id=account["id"], role=account["role"], organisation_id=account.get("organisation_id"))
    return cluster.sign(who)


def file_case(cluster: Cluster, applicant: dict[str, Any]) -> dict[str, Any]:
    """An SKM filing with one attachment, as the gateway passes it on."""
    return dict(cluster["submissions"].submit_case(signed(cluster, applicant), {"attachments": [attachment()]}))


def approve(cluster: Cluster, case_id: str, verifier: dict[str, Any], approver: dict[str, Any]) -> dict[str, Any]:
    """The field visit, the forward and the approval that issue the case's letter."""
    submissions = cluster["submissions"]
    submissions.act(signed(cluster, verifier), case_id, "record_field_visit", FIELD_VISIT)
    submissions.act(signed(cluster, verifier), case_id, "forward", {})
    return dict(submissions.act(signed(cluster, approver), case_id, "approve", {}))
