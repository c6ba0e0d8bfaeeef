"""Roles, start-up configuration errors, and the public base URL that `satu run` passes on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from contracts.errors import PermissionDenied
from contracts.identity import Caller, Role
from infra.settings import DEV_SECRET, Settings, describe_error, resolve_public_base_url
from ops.launcher import System

STRONG = "Zq3v9LkX2mN8pR4tW7yB1cD6fG0hJ5sA-e8u"  # a test key of the strength production needs


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


@pytest.mark.parametrize(
    ("key", "entry_point"),
    [
        (DEV_SECRET, "from infra.settings import load_settings; load_settings()"),  # no part starts with it
        ("", "from gateway.app import create_app; create_app()"),  # the gateway needs its own
    ],
    ids=["development-key", "no-key-at-the-gateway"],
)
def test_production_refuses_the_development_secret_and_a_gateway_without_one(key, entry_point, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = subprocess.run(
        [sys.executable, "-c", entry_point],
        env={"SATU_ENV": "production", "SATU_VAR_DIR": str(tmp_path), "SATU_SECRET_KEY": key, "PATH": ""},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "SATU_SECRET_KEY" in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr


def test_parts_other_than_the_gateway_hold_no_session_key() -> None:
    assert Settings(env="production").secret_key == ""  # a service in production starts without one


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("127.0.0.1", 9123, "http://127.0.0.1:9123"),
        ("localhost", 8080, "http://localhost:8080"),
        ("0.0.0.0", 9123, "http://127.0.0.1:9123"),  # noqa: S104 - a wildcard bind is no address to link to
        ("::", 9123, "http://[::1]:9123"),
        ("::1", 9123, "http://[::1]:9123"),
    ],
)
def test_without_an_explicit_base_url_the_links_follow_the_served_address(host: str, port: int, expected: str) -> None:
    assert resolve_public_base_url({"PATH": "/usr/bin"}, host, port) == expected


@pytest.mark.parametrize("name", ["SATU_PUBLIC_BASE_URL", "satu_public_base_url"])  # Settings reads either
def test_an_explicit_base_url_wins_over_the_port(name: str) -> None:
    assert resolve_public_base_url({name: "https://ormas.example.id"}, "127.0.0.1", 9123) == "https://ormas.example.id"


def test_a_blank_base_url_counts_as_unset() -> None:
    # A blank one would make every letter's QR code a relative "/verify/…" that no phone can open.
    assert resolve_public_base_url({"SATU_PUBLIC_BASE_URL": " "}, "127.0.0.1", 9123) == "http://127.0.0.1:9123"


def test_the_default_base_url_is_the_default_run_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SATU_PUBLIC_BASE_URL", raising=False)
    assert Settings().public_base_url == resolve_public_base_url({}, "127.0.0.1", 8000) == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "http://127.0.0.1:9123"),
        # A public address needs a real key (the development key is refused there).
        ({"SATU_PUBLIC_BASE_URL": "https://ormas.example.id", "SATU_SECRET_KEY": STRONG}, "https://ormas.example.id"),
        ({"satu_public_base_url": ""}, "http://127.0.0.1:9123"),  # a blank variant must not shadow the port
    ],
)
def test_every_process_satu_run_starts_reads_the_resolved_base_url(
    environment: dict[str, str], expected: str, tmp_path: Path
) -> None:
    """A real child of the launcher, as a service is started, loads its settings from what it was given."""
    system = System("amqp://guest:guest@127.0.0.1:5672/", tmp_path / "logs", port=9123, env=dict(environment))
    system.env["SATU_VAR_DIR"] = str(tmp_path / "var")
    probe = "from infra.settings import load_settings; print(load_settings().public_base_url)"
    assert system.spawn("probe", [sys.executable, "-c", probe]).wait(60) == 0
    assert (tmp_path / "logs" / "probe.log").read_text().strip() == expected


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"env": "production", "secret_key": DEV_SECRET}, "public example or default"),  # the development key
        ({"env": "production", "secret_key": "a"}, "too short"),
        ({"env": "production", "secret_key": "x" * 64}, "not random"),
        ({"env": "production", "secret_key": "CHANGEME"}, "public example"),
        (
            {"env": "local", "public_base_url": "http://192.168.1.20:8000", "secret_key": DEV_SECRET},
            "public example",
        ),  # reachable by others
        (
            {"env": "test", "public_base_url": "https://ormas.balikpapan.go.id", "secret_key": DEV_SECRET},
            "public example",
        ),
    ],
)
def test_a_weak_key_stops_a_system_that_others_can_reach(changes: dict, problem: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**changes)
    message = describe_error(refused.value)
    assert message.startswith("invalid configuration: SATU_SECRET_KEY: ") and problem in message


def test_a_forged_token_with_the_public_development_key_is_refused_by_production() -> None:
    """Anyone can sign with the published development key; a production system never accepts it."""
    from contracts.identity import Caller, Role
    from gateway.auth import issue_token, read_token

    forged = issue_token(Settings(env="local"), Caller(user_id="x", role=Role.ADMIN))
    production = Settings(env="production", secret_key=STRONG)
    with pytest.raises(Exception):  # noqa: B017 - any refusal; the point is that it is not accepted
        read_token(production, forged)


def test_loopback_systems_may_use_the_development_key() -> None:
    assert Settings(env="local").session_key == DEV_SECRET
    assert Settings(env="test", public_base_url="http://localhost:9000").exposed is False
    assert Settings(env="production", secret_key=STRONG).exposed is True


def test_a_rebuild_uses_every_core_it_may_up_to_four_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SATU_REBUILD_WORKERS", raising=False)
    cores = len(os.sched_getaffinity(0))
    assert Settings().rebuild_workers == min(4, cores)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(16)))
    assert Settings().rebuild_workers == 4  # a big machine keeps cores for the live system
    monkeypatch.setenv("SATU_REBUILD_WORKERS", "1")
    assert Settings().rebuild_workers == 1
