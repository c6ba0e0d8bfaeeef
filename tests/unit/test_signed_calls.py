"""Signed calls: a caller is vouched for by the holder that signs it, for one call to one method of one
service with these arguments, once, for a short while; events are signed by their store's relay alone."""

from __future__ import annotations

import datetime as dt

import pytest

from contracts.errors import NotAuthenticated
from contracts.events import IntegrationEvent
from contracts.identity import (
    CALL_WINDOW_SECONDS,
    Caller,
    CallVerifier,
    Role,
    UntrustedReply,
    sign_call,
    system_caller,
    vouch,
    vouched,
)
from contracts.keys import Keyring, Signer

GATEWAY, SUBMISSIONS, RELAY = (
    Signer.generate("gateway"),
    Signer.generate("submissions"),
    Signer.generate("relay-registry"),
)
KEYRING = Keyring.of(GATEWAY, SUBMISSIONS, RELAY)
ADMIN = Caller(user_id="u-admin", role=Role.ADMIN)
ARGS = ("c-1", "approve", {"note": "Lengkap"})


def registry() -> CallVerifier:
    return CallVerifier(KEYRING, "registry")


def test_a_call_signed_by_the_gateway_for_this_call_is_accepted_once() -> None:
    verifier = registry()
    signed = sign_call(ADMIN, GATEWAY, "registry", "get_account", ["u-admin"], {})
    assert verifier.verify(signed, "get_account", ["u-admin"], {}) == ADMIN
    with pytest.raises(NotAuthenticated, match="used before"):  # captured off the broker and replayed
        verifier.verify(signed, "get_account", ["u-admin"], {})
    assert verifier.refused["replayed"] == 1


def test_a_signature_moved_to_another_method_or_arguments_or_service_is_refused() -> None:
    # The attack: an admin's ordinary GET /api/me, captured and replayed on register_staff.
    captured = sign_call(ADMIN, GATEWAY, "registry", "get_account", ["u-admin"], {})
    verifier = registry()
    with pytest.raises(NotAuthenticated, match="another call"):
        verifier.verify(captured, "register_staff", [{"email": "evil@x.id", "role": "admin"}], {})
    with pytest.raises(NotAuthenticated, match="other arguments"):
        verifier.verify(captured, "get_account", ["u-someone-else"], {})
    with pytest.raises(NotAuthenticated, match="another call"):
        CallVerifier(KEYRING, "submissions").verify(captured, "get_account", ["u-admin"], {})
    assert verifier.refused["moved"] == 2


def test_a_call_signed_longer_ago_than_the_window_is_refused() -> None:
    signed = sign_call(ADMIN, GATEWAY, "registry", "get_account", ["u"], {}, now=1_000_000.0)
    verifier = registry()
    with pytest.raises(NotAuthenticated, match="expired"):
        verifier.verify(signed, "get_account", ["u"], {}, now=1_000_000.0 + CALL_WINDOW_SECONDS + 1)
    assert verifier.verify(signed, "get_account", ["u"], {}, now=1_000_000.0 + CALL_WINDOW_SECONDS - 1) == ADMIN


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p["caller"].update(role="admin"),
        lambda p: p["caller"].update(organisation_id="someone-else"),
        lambda p: p.update(holder="submissions"),
        lambda p: p.pop("signature"),
    ],
)
def test_a_tampered_or_unsigned_caller_is_refused(tamper) -> None:  # type: ignore[no-untyped-def]
    payload = sign_call(Caller(user_id="u1", role=Role.APPLICANT, organisation_id="o1"), GATEWAY, "registry", "m")
    tamper(payload)
    with pytest.raises(NotAuthenticated):
        registry().verify(payload, "m", [], {})


def test_a_key_outside_the_keyring_is_refused() -> None:
    stranger = Signer.generate("gateway")  # the right name, not the right key
    with pytest.raises(NotAuthenticated, match="signature is invalid"):
        registry().verify(sign_call(ADMIN, stranger, "registry", "m"), "m", [], {})


def test_only_the_gateway_vouches_for_people_and_a_service_only_for_itself() -> None:
    verifier = registry()
    with pytest.raises(NotAuthenticated, match="submissions may not act as admin"):
        verifier.verify(sign_call(ADMIN, SUBMISSIONS, "registry", "m"), "m", [], {})
    with pytest.raises(NotAuthenticated, match="may not act as system"):
        verifier.verify(sign_call(system_caller("documents"), SUBMISSIONS, "registry", "m"), "m", [], {})
    own = system_caller("submissions")
    assert verifier.verify(sign_call(own, SUBMISSIONS, "registry", "m"), "m", [], {}) == own
    assert verifier.refused["not_allowed"] == 2


def test_the_signature_covers_the_arguments_as_they_arrive_over_the_wire() -> None:
    when = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    signed = sign_call(ADMIN, GATEWAY, "registry", "m", (when, ("a", "b")), {"k": 1})
    assert registry().verify(signed, "m", [when, ["a", "b"]], {"k": 1}) == ADMIN


def event(source: str) -> IntegrationEvent:
    return IntegrationEvent(
        event_id="e-1", event_type="account.registered.v1", source=source, aggregate_id="a-1", aggregate_version=1,
        occurred_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
        data={"account_id": "a-1", "role": "applicant", "registered_by": "self"},
    )  # fmt: skip


def test_an_event_is_authentic_only_when_signed_by_its_stores_relay() -> None:
    signed = event("registry").signed(RELAY)
    assert signed.is_authentic(KEYRING)
    forged = signed.model_copy(update={"aggregate_id": "a-2"})
    assert not forged.is_authentic(KEYRING)
    with pytest.raises(ValueError, match="may not sign submissions events"):
        event("submissions").signed(RELAY)
    # A consumer holds only public keys: its own key signs nothing a consumer accepts.
    consumer = event("registry").model_copy(update={"signature": SUBMISSIONS.sign(b"anything")})
    assert not consumer.is_authentic(KEYRING)


DOCUMENTS = Signer.generate("documents")
ANSWERS = Keyring.of(DOCUMENTS, GATEWAY)


def test_an_answer_with_authority_is_taken_only_with_its_services_proof_for_this_request() -> None:
    genuine = {"genuine": True, "number": "SKM/0001/KESBANGPOL/2026"}
    reply = vouch(genuine, DOCUMENTS, "verify_letter", ["a" * 32], {})
    assert vouched(reply, ANSWERS, "documents", "verify_letter", ["a" * 32], {}) == genuine
    with pytest.raises(UntrustedReply, match="not documents'"):  # the proof of another request's answer
        vouched(reply, ANSWERS, "documents", "verify_letter", ["b" * 32], {})
    with pytest.raises(UntrustedReply, match="not documents'"):  # an answer altered on the way
        vouched(
            {**reply, "result": {**genuine, "number": "PALSU"}}, ANSWERS, "documents", "verify_letter", ["a" * 32], {}
        )
    rogue = vouch(genuine, Signer.generate("documents"), "verify_letter", ["a" * 32], {})  # a rogue consumer
    with pytest.raises(UntrustedReply):
        vouched(rogue, ANSWERS, "documents", "verify_letter", ["a" * 32], {})
    with pytest.raises(UntrustedReply, match="without a proof"):
        vouched(genuine, ANSWERS, "documents", "verify_letter", ["a" * 32], {})
    old = vouch(genuine, DOCUMENTS, "verify_letter", ["a" * 32], {}, now=1_000_000.0)
    with pytest.raises(UntrustedReply, match="stale"):
        vouched(old, ANSWERS, "documents", "verify_letter", ["a" * 32], {})
