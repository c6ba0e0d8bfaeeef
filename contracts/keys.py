"""Ed25519 keys by holder: each part of the system signs with its own private key, and every part can
check anyone's signature with the public keys (the keyring) but forge no one's.

A holder is a named part: ``gateway``, a service (``registry``…), a relay (``relay-submissions``), or
``cli`` (the operator's commands). What each holder may vouch for is decided where a signature is
checked (contracts/identity.py for calls, contracts/events.py for events).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def canonical(value: object) -> bytes:
    """The bytes a signature covers: JSON with sorted keys; dates and the like as their text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Signer:
    holder: str
    key: Ed25519PrivateKey

    def sign(self, message: bytes) -> str:
        return _b64(self.key.sign(message))

    @classmethod
    def generate(cls, holder: str) -> Signer:
        return cls(holder, Ed25519PrivateKey.generate())

    def public_key(self) -> Ed25519PublicKey:
        return self.key.public_key()


class Keyring:
    """The public keys of every holder."""

    def __init__(self, public_keys: dict[str, Ed25519PublicKey]) -> None:
        self.public_keys = dict(public_keys)

    def knows(self, holder: str) -> bool:
        return holder in self.public_keys

    def is_signed_by(self, holder: str, signature: object, message: bytes) -> bool:
        key = self.public_keys.get(holder)
        if key is None or not isinstance(signature, str):
            return False
        try:
            key.verify(_unb64(signature), message)
        except (InvalidSignature, ValueError):
            return False
        return True

    @classmethod
    def of(cls, *signers: Signer) -> Keyring:
        return cls({signer.holder: signer.public_key() for signer in signers})
