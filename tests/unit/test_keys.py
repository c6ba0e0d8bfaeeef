"""The parts' signing keys on disk: made once, private ones readable by their owner alone, and a
production part without its key stops with one line naming the file."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from infra.keys import HOLDERS, KeyMissing, ensure_keys, load_keyring, load_signer
from infra.settings import Settings


def test_every_part_gets_a_pair_once_and_only_its_owner_reads_the_private_key(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    assert set(ensure_keys(directory)) == set(HOLDERS)
    assert ensure_keys(directory) == []  # kept, not replaced
    for holder in HOLDERS:
        assert stat.S_IMODE((directory / f"{holder}.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) & 0o077 == 0


def test_a_signature_of_one_part_checks_out_with_the_keyring_of_another(tmp_path: Path) -> None:
    settings = Settings(env="test", var_dir=tmp_path)
    signer = load_signer(settings, "relay-submissions")  # a test system makes the keys on first use
    assert load_keyring(settings).is_signed_by("relay-submissions", signer.sign(b"fakta"), b"fakta")
    assert not load_keyring(settings).is_signed_by("relay-registry", signer.sign(b"fakta"), b"fakta")


def test_production_never_makes_keys_itself_and_names_the_missing_file(tmp_path: Path) -> None:
    settings = Settings(env="production", var_dir=tmp_path, secret_key="Zq3v9LkX2mN8pR4tW7yB1cD6fG0hJ5sA-e8u")
    with pytest.raises(
        KeyMissing, match=r"registry: no private key at .*registry.key \(create the keys with `satu keys`\)"
    ):
        load_signer(settings, "registry")
    assert not (tmp_path / "keys").exists()


def test_a_part_given_its_own_key_file_alone_uses_it(tmp_path: Path) -> None:
    ensure_keys(tmp_path / "made")
    settings = Settings(env="test", var_dir=tmp_path, private_key_file=tmp_path / "made" / "documents.key")
    mine = load_signer(settings, "documents")
    ring = load_keyring(Settings(env="test", var_dir=tmp_path, keys_dir=tmp_path / "made"))
    assert ring.is_signed_by("documents", mine.sign(b"x"), b"x")


def test_parts_starting_together_get_whole_pairs(tmp_path: Path) -> None:
    """Seven parts start at once and each makes the keys it finds missing: every private key still signs
    what its public half checks (a pair mixed from two processes refused every call of that holder)."""
    directory = tmp_path / "keys"
    script = "import sys; from pathlib import Path; from infra.keys import ensure_keys; ensure_keys(Path(sys.argv[1]))"
    starting = [subprocess.Popen([sys.executable, "-c", script, str(directory)]) for _ in range(7)]
    assert [part.wait(60) for part in starting] == [0] * 7
    settings = Settings(env="test", var_dir=tmp_path, keys_dir=directory)
    keyring = load_keyring(settings)
    for holder in HOLDERS:
        signer = load_signer(settings, holder)
        assert keyring.is_signed_by(holder, signer.sign(b"ping"), b"ping"), holder
