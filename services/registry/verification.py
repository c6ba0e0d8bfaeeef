"""E-mail address confirmation: an applicant's account proves its address with a single-use link before it
may record an organisation (and so file anything).

The link's token is ``<account id>.<nonce>.<signature>``: the registry signs "verify-email:<account>:<nonce>"
with its own Ed25519 key. Only the nonce is stored (in the account's events); the token is never stored
anywhere, and only the registry can make one: the notifications service asks the registry for it when it
writes the mail (as it asks for the address). A link works while its nonce is the account's newest (asking
for a new link retires the old one), within LINK_HOURS of being issued, and once.
"""

from __future__ import annotations

import datetime as dt
import secrets

from contracts.keys import Keyring, Signer
from contracts.organisations import CONFIRMATION_LINK_HOURS, UNCONFIRMED_ACCOUNT_DAYS

LINK_HOURS = CONFIRMATION_LINK_HOURS
UNCONFIRMED_DAYS = UNCONFIRMED_ACCOUNT_DAYS  # then it cannot sign in, and its address may sign up again


def new_nonce() -> str:
    return secrets.token_hex(16)


def _message(account_id: str, nonce: str) -> bytes:
    return f"verify-email:{account_id}:{nonce}".encode()


def make_token(signer: Signer, account_id: str, nonce: str) -> str:
    return f"{account_id}.{nonce}.{signer.sign(_message(account_id, nonce))}"


def read_token(token: str, keyring: Keyring) -> tuple[str, str] | None:
    """(account id, nonce) of a token the registry made, or None for anything else."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    account_id, nonce, signature = parts
    if not keyring.is_signed_by("registry", signature, _message(account_id, nonce)):
        return None
    return account_id, nonce


def link_expired(issued_at: dt.datetime, now: dt.datetime) -> bool:
    return now - issued_at > dt.timedelta(hours=LINK_HOURS)


def unconfirmed_expired(registered_at: dt.datetime, now: dt.datetime) -> bool:
    return now - registered_at > dt.timedelta(days=UNCONFIRMED_DAYS)
