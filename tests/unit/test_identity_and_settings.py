"""Signed caller identities and start-up configuration errors."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from contracts.errors import NotAuthenticated, PermissionDenied
from contracts.identity import Caller, Role, sign_caller, verify_caller

SECRET = "test-secret"


def test_a_signed_caller_round_trips() -> None:
    caller = Caller(user_id="u1", role=Role.APPLICANT, organisation_id="o1")
    assert verify_caller(sign_caller(caller, SECRET), SECRET) == caller


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p.update(role="admin"),
        lambda p: p.update(organisation_id="someone-else"),
        lambda p: p.pop("signature"),
    ],
)
def test_a_forged_or_unsigned_caller_is_refused(tamper) -> None:  # type: ignore[no-untyped-def]
    payload = sign_caller(Caller(user_id="u1", role=Role.APPLICANT, organisation_id="o1"), SECRET)
    tamper(payload)
    with pytest.raises(NotAuthenticated):
        verify_caller(payload, SECRET)


def test_a_caller_signed_with_another_secret_is_refused() -> None:
    payload = sign_caller(Caller(user_id="u1", role=Role.ADMIN), "other-secret")
    with pytest.raises(NotAuthenticated):
        verify_caller(payload, SECRET)


def test_require_names_the_allowed_roles() -> None:
    with pytest.raises(PermissionDenied, match="allowed: approver"):
        Caller(user_id="u1", role=Role.VERIFIER).require(Role.APPROVER)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SATU_SMTP_PORT", "not-a-port"),
        ("SATU_DATABASE_URL", "mysql://localhost/x"),
        ("SATU_RELAY_POLL_SECONDS", "-1"),
    ],
)
def test_bad_configuration_stops_with_one_line_naming_the_variable(variable: str, value: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = subprocess.run(
        [sys.executable, "-c", "from infra.settings import load_settings; load_settings()"],
        env={variable: value, "SATU_VAR_DIR": str(tmp_path), "PATH": ""},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and variable in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_the_development_secret(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = subprocess.run(
        [sys.executable, "-c", "from infra.settings import load_settings; load_settings()"],
        env={"SATU_ENV": "production", "SATU_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "SATU_SECRET_KEY" in result.stderr


def test_a_signed_caller_expires() -> None:
    caller = Caller(user_id="u1", role=Role.SYSTEM)
    stale = sign_caller(caller, SECRET, now=time.time() - 3600)
    with pytest.raises(NotAuthenticated, match="expired"):
        verify_caller(stale, SECRET)
    assert verify_caller(sign_caller(caller, SECRET), SECRET) == caller
