"""Where the holders' keys live: ``<keys_dir>/<holder>.key`` (private, mode 0600, only its holder needs it)
and ``<holder>.pub`` (public, every part reads them all).

`satu keys` (and `satu run`) creates the missing pairs; on a local or test system a part creates them
itself on first use. In production a missing key stops the part with one line naming the file. With
Docker secrets each container is given only its own private key (SATU_PRIVATE_KEY_FILE) and the public
keys folder. Rotation: docs/security.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from contracts.keys import Keyring, Signer
from infra.settings import Settings
from infra.topology import EVENT_STORES, SERVICE_NAMES

HOLDERS = ("gateway", "cli", *SERVICE_NAMES, *(store.relay for store in EVENT_STORES))


class KeyMissing(RuntimeError):
    pass


def ensure_keys(directory: Path, holders: tuple[str, ...] = HOLDERS) -> list[str]:
    """Create the key pair of every holder that has none; returns the holders whose pairs were made."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Parts starting together would each make pairs: the one lock makes the pairs whole (a public half
    # from one process beside a private key from another made every call of that holder "invalid").
    with open(directory / ".making-keys.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _make_missing(directory, holders)


def _make_missing(directory: Path, holders: tuple[str, ...]) -> list[str]:
    created = []
    for holder in holders:
        if (directory / f"{holder}.key").exists():
            continue
        signer = Signer.generate(holder)
        private = signer.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        public = signer.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # The public key first: a private key is never without its public half for the others to check.
        _write_whole(directory / f"{holder}.pub", public, 0o644)
        _write_whole(directory / f"{holder}.key", private, 0o600)
        created.append(holder)
    return created


def _write_whole(path: Path, content: bytes, mode: int) -> None:
    """Write ``path`` so that a reader finds all of it or nothing."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def keys_dir(settings: Settings) -> Path:
    return settings.keys_dir or settings.var_dir / "keys"


def _ensure_where_allowed(settings: Settings) -> None:
    if settings.env in ("local", "test"):
        ensure_keys(keys_dir(settings))


def load_signer(settings: Settings, holder: str) -> Signer:
    _ensure_where_allowed(settings)
    path = settings.private_key_file or keys_dir(settings) / f"{holder}.key"
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise KeyMissing(f"{holder}: no private key at {path} (create the keys with `satu keys`)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyMissing(f"{holder}: {path} is not an Ed25519 private key")
    return Signer(holder, key)


def load_keyring(settings: Settings) -> Keyring:
    _ensure_where_allowed(settings)
    directory = keys_dir(settings)
    keys: dict[str, Ed25519PublicKey] = {}
    for path in sorted(directory.glob("*.pub")):
        key = serialization.load_pem_public_key(path.read_bytes())
        if isinstance(key, Ed25519PublicKey):
            keys[path.stem] = key
    missing = [holder for holder in HOLDERS if holder not in keys]
    if missing:
        raise KeyMissing(f"no public key of {', '.join(missing)} in {directory} (create the keys with `satu keys`)")
    return Keyring(keys)
