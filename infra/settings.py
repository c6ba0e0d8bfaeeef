"""Settings from environment variables (prefix ``SATU_``), validated once at start-up.

Every process calls :func:`load_settings`; a bad value stops it with one line naming the variable
instead of a traceback.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import sys
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me"  # noqa: S105 - refused outside SATU_ENV=local
# Strings that are public (documentation, examples, old defaults): never a secret, whatever their length.
KNOWN_SECRETS = frozenset({DEV_SECRET, "changeme", "change-me", "secret", "password", "satu-ormas", "test", "dev"})
MIN_SECRET_BYTES = 32


def weak_secret_problem(secret: str) -> str | None:
    """Why ``secret`` cannot protect sessions and signatures, or None. Length alone is not enough: a long
    run of one character or a known example string is guessed at once."""
    if not secret:
        return "is missing"
    if secret.strip().lower() in KNOWN_SECRETS:
        return "is a public example or default value"
    if len(secret.encode()) < MIN_SECRET_BYTES:
        return f"is too short ({len(secret.encode())} bytes; at least {MIN_SECRET_BYTES})"
    if len(set(secret)) < 12:
        return "is not random (too few different characters)"
    return None


def is_loopback_url(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def amqp_ssl(amqp_uri: str, ca_file: Path | None) -> dict[str, object] | None:
    """TLS options for an amqps:// broker: its certificate verified against ``ca_file`` (or the system's
    CAs) and its host name checked; None for plain amqp://."""
    url = urlsplit(amqp_uri)
    if url.scheme != "amqps":
        return None
    return {
        "ca_certs": str(ca_file) if ca_file else None,
        "cert_reqs": ssl.CERT_REQUIRED,
        "server_hostname": url.hostname,
    }


def amqp_config(amqp_uri: str, ca_file: Path | None = None) -> dict[str, object]:
    config: dict[str, object] = {"AMQP_URI": amqp_uri}
    options = amqp_ssl(amqp_uri, ca_file)
    if options is not None:
        config["AMQP_SSL"] = options
    return config


def field_error(name: str, message: str) -> ValidationError:
    """A settings error naming its variable (a model-level check would otherwise name none)."""
    detail = InitErrorDetails(type=PydanticCustomError("value_error", message), loc=(name,), input=None)
    return ValidationError.from_exception_data("Settings", [detail])


PUBLIC_BASE_URL_VARIABLE = "SATU_PUBLIC_BASE_URL"


def local_url(host: str, port: int) -> str:
    """``http://host:port`` of a server bound to ``host``, as a URL a browser on this machine can open.

    A wildcard bind (0.0.0.0, ::) is no address to link to, so it becomes the loopback; an IPv6
    address needs brackets in a URL.
    """
    if host in {"", "0.0.0.0"}:  # noqa: S104 - we map the wildcard away, we do not bind to it
        host = "127.0.0.1"
    elif host in {"::", "[::]"}:
        host = "[::1]"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def resolve_public_base_url(environ: Mapping[str, str], host: str, port: int) -> str:
    """The base of letters' QR links and mail links for a gateway served on ``host:port``.

    An explicitly set, non-blank SATU_PUBLIC_BASE_URL wins (behind a proxy or on a real domain only the
    operator knows it); otherwise the links follow the address `satu run` serves, so `--port N` alone
    gives working links. The variable is matched regardless of case, as Settings reads it.
    """
    for name, value in environ.items():
        if name.upper() == PUBLIC_BASE_URL_VARIABLE and value.strip():
            return value.strip()
    return local_url(host, port)


MOST_REBUILD_WORKERS_BY_DEFAULT = 4


def default_rebuild_workers() -> int:
    """A rebuild's processes unless SATU_REBUILD_WORKERS says: one per core this process may use, up to 4 (at
    200,000 cases on 2 cores, two processes rebuilt every read model in 53 s, one in 89 s: docs/benchmarks.md).
    A log shorter than two ranges stays one process (ops/parallel_replay.py)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(MOST_REBUILD_WORKERS_BY_DEFAULT, cores))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SATU_", extra="ignore")

    env: Literal["local", "test", "production"] = "local"
    amqp_uri: str = "amqp://guest:guest@127.0.0.1:5672/"
    # Empty: SQLite files under var_dir. A postgresql:// URL switches every service to PostgreSQL.
    database_url: str = ""
    var_dir: Path = Path("var")
    # The gateway's session key (sessions and their tokens); no other part holds it. Empty on a local or test
    # system: the public development key (session_key); a system others can reach refuses to serve without one.
    secret_key: str = ""
    # The gateway's default address; `satu run --host/--port` passes its own to every process it starts
    # (resolve_public_base_url).
    public_base_url: str = local_url("127.0.0.1", 8000)
    # Empty: mail is written as .eml files under var_dir/mail.
    smtp_host: str = ""
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_sender: str = "Satu Ormas <noreply@satu-ormas.local>"
    upload_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # What one account may hold in files not attached to a case yet; such files are removed after this long.
    upload_quota_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    upload_unattached_hours: float = Field(default=24, gt=0)
    # Uploads per account and per client address in each window (429 beyond).
    upload_hits_per_account: int = Field(default=30, ge=1)
    upload_hits_per_address: int = Field(default=60, ge=1)
    upload_window_seconds: int = Field(default=600, ge=1)
    # A virus scanner run on each upload, e.g. "clamdscan --no-summary --fdpass" (exit 1: infected).
    upload_scanner: str = ""
    # A relay wakes when its store commits (infra/wake.py) and looks anyway after this long: the safety net.
    relay_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # Off: the relay only polls (every relay_poll_seconds), e.g. behind a pooler that cannot LISTEN.
    relay_wake_on_commit: bool = True
    # Processes a rebuild replays a long log with, each its own range of positions (ops/parallel_replay.py).
    rebuild_workers: int = Field(default_factory=default_rebuild_workers, ge=1, le=64)
    # How often each submissions replica counts the cases again for the dashboard (its figures say when).
    dashboard_refresh_seconds: float = Field(default=60, gt=0, le=3600)
    # Local/test only: the date the reminders' sweep takes for today (time advanced by configuration).
    today: dt.date | None = None
    # The region's profile and workflow definitions (regions/balikpapan when empty): see infra/catalogue.py.
    region_dir: Path | None = None
    token_ttl_seconds: int = Field(default=12 * 3600, ge=60)
    rpc_timeout_seconds: float = Field(default=30.0, gt=0)
    # Workers per service process: nameko's max_workers (ops/nameko.yaml reads the same SATU_MAX_WORKERS), and so
    # how many connections each read model's pool keeps open between transactions (infra/storage.py).
    max_workers: int = Field(default=10, ge=1, le=500)
    # The holders' Ed25519 keys (infra/keys.py): <holder>.key and <holder>.pub; empty: var_dir/keys.
    keys_dir: Path | None = None
    # This process's own private key, where it is handed one file alone (a Docker secret).
    private_key_file: Path | None = None
    # amqps:// brokers: the CA that signed the broker's certificate (empty: the system's CAs); the host name
    # in SATU_AMQP_URI must match the certificate.
    amqp_ca_file: Path | None = None
    # A system reachable beyond this machine refuses plain amqp:// to a broker elsewhere unless this is set.
    allow_plain_amqp: bool = False
    # Where the gateway replicas count rate limits together (redis://host:6379/0); empty: each counts alone.
    redis_url: str = ""

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be empty (SQLite under var/) or a postgresql:// URL")
        return value

    @model_validator(mode="after")
    def _no_weak_secret_where_others_can_reach(self) -> Settings:
        if self.env == "production" and self.today is not None:
            raise field_error("today", "may only be set when SATU_ENV is local or test")
        if self.exposed and self.secret_key:
            problem = weak_secret_problem(self.secret_key)
            if problem:
                raise field_error(
                    "secret_key",
                    f"{problem} (a system not on local/test or reachable beyond this "
                    "machine needs 32 random bytes or more, e.g. `openssl rand -base64 48`)",
                )
        return self

    @model_validator(mode="after")
    def _no_clear_text_broker_beyond_this_machine(self) -> Settings:
        url = urlsplit(self.amqp_uri)
        if (
            self.exposed
            and url.scheme == "amqp"
            and not is_loopback_host(url.hostname or "localhost")
            and not self.allow_plain_amqp
        ):
            raise field_error(
                "amqp_uri",
                "plain amqp:// to a broker on another machine carries passwords and personal data in clear: use "
                "amqps:// (SATU_AMQP_CA_FILE for a private CA), or set SATU_ALLOW_PLAIN_AMQP=true",
            )
        return self

    def amqp_config(self, amqp_uri: str | None = None) -> dict[str, object]:
        """nameko's configuration for this broker (``amqp_uri``: another user's URI of the same broker)."""
        return amqp_config(amqp_uri or self.amqp_uri, self.amqp_ca_file)

    @property
    def session_key(self) -> str:
        return self.secret_key or DEV_SECRET

    def session_key_problem(self) -> str | None:
        """Why this configuration cannot sign sessions, for the gateway to refuse to start (one line)."""
        if self.exposed and not self.secret_key:
            return (
                "invalid configuration: SATU_SECRET_KEY: the gateway of a system others can reach needs its own "
                "session key of 32 random bytes or more, e.g. `openssl rand -base64 48`"
            )
        return None

    @property
    def exposed(self) -> bool:
        """Outside local development and tests, or served at an address other machines reach."""
        return self.env == "production" or not is_loopback_url(self.public_base_url)

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url)


def describe_error(error: ValidationError) -> str:
    first = error.errors()[0]
    names = ".".join(str(part) for part in first["loc"]) or "settings"
    variable = f"SATU_{names.upper()}" if first["loc"] else "settings"
    return f"invalid configuration: {variable}: {first['msg']}"


SECRETS_DIR_VARIABLE = "SATU_SECRETS_DIR"  # a folder of files named like the variables (Docker secrets)


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """The settings from the environment, and from files in SATU_SECRETS_DIR (``satu_amqp_uri``…) for
    what is not in the environment."""
    secrets_dir = os.environ.get(SECRETS_DIR_VARIABLE) or None
    try:
        settings = Settings(_secrets_dir=secrets_dir)  # type: ignore[call-arg]
    except ValidationError as error:
        print(describe_error(error), file=sys.stderr)
        raise SystemExit(2) from None
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return settings
