"""One RabbitMQ user per part of the system, allowed only its own queues and exchanges.

Without this every part shares one account, and any of them could consume another's RPC queue (answer
``registry.authenticate`` with the admin's account) or bind a queue to another's traffic (read passwords
in flight). Each part's permissions are derived from the topology (infra/topology.py):

- a service configures, reads and binds its own RPC queue ``rpc-<name>`` and its event queues
  ``evt-<store>-…--<name>.…`` of the stores it consumes; no other part may consume them;
- every caller has its own reply queues ``rpc.reply-<name>-<uuid>`` (the gateway and the CLI too: see
  ``infra.nameko_support.PartRpcProxy``);
- on the ``nameko-rpc`` topic exchange, topic permissions limit what a part may publish (requests to the
  services it calls; replies, whose routing key is a caller's random reply-queue id, for a service) and
  what it may bind (its own ``<name>.*`` and a reply-queue id): no part can bind ``registry.authenticate``;
- a store's ``<store>.events`` exchange is written by its relay alone and read by its consumers alone.

The same definitions are imported locally with ``rabbitmqctl import_definitions`` by `satu run` (given a
broker administrator's URI) and by docker-compose through the broker's definitions file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import kombu

from infra.settings import amqp_ssl
from infra.topology import CLI_CALLS, EVENT_STORES, GATEWAY_CALLS, SERVICES, consumers_of

RPC_EXCHANGE = "nameko-rpc"
REPLY_ID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # nameko's reply queue uuid


@dataclass(frozen=True)
class BrokerPart:
    name: str  # the name in its reply queues (its broker user: user_name)
    serves: bool = False  # has an RPC queue of its own
    consumes: tuple[str, ...] = ()  # event stores whose events it receives
    calls: tuple[str, ...] = ()  # services it calls
    publishes: str | None = None  # the store whose events it publishes (a relay)


def broker_parts() -> tuple[BrokerPart, ...]:
    services = tuple(BrokerPart(s.name, serves=True, consumes=s.consumes, calls=s.calls) for s in SERVICES)
    # A relay pings the consumers of its store before it publishes (their queues must exist).
    relays = tuple(BrokerPart(s.relay, calls=consumers_of(s.name), publishes=s.name) for s in EVENT_STORES)
    return (*services, *relays, BrokerPart("gateway", calls=GATEWAY_CALLS), BrokerPart("cli", calls=CLI_CALLS))


def _any_of(patterns: list[str]) -> str:
    return "^(" + "|".join(patterns) + ")$" if patterns else "^$"


def _escaped(name: str) -> str:
    return name.replace(".", r"\.")


@dataclass(frozen=True)
class Permissions:
    configure: str
    write: str
    read: str
    topics: dict[str, tuple[str, str]]  # exchange -> (write, read) routing-key patterns


def permissions(part: BrokerPart) -> Permissions:
    name = _escaped(part.name)
    own_queues = [rf"rpc\.reply-{name}-{REPLY_ID}"]
    if part.serves:
        own_queues.append(f"rpc-{name}")
    own_queues += [rf"evt-{store}-.+--{name}\..+" for store in part.consumes]
    consumed = [_escaped(f"{store}.events") for store in part.consumes]
    published = [_escaped(f"{part.publishes}.events")] if part.publishes else []
    rpc = _escaped(RPC_EXCHANGE)
    requests = [rf"{_escaped(service)}\..+" for service in part.calls]
    replies = [REPLY_ID] if part.serves else []
    bindings = ([rf"{name}\.\*"] if part.serves else []) + [REPLY_ID]
    topics = {RPC_EXCHANGE: (_any_of(requests + replies), _any_of(bindings))}
    topics |= {f"{store}.events": ("^$", "^.*$") for store in part.consumes}
    if part.publishes:
        topics[f"{part.publishes}.events"] = ("^.*$", "^$")
    return Permissions(
        configure=_any_of([rpc, *own_queues, *consumed, *published]),
        write=_any_of([rpc, *own_queues, *published]),
        read=_any_of([rpc, *own_queues, *consumed]),
        topics=topics,
    )


def password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = salt if salt is not None else secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def user_name(part: str, vhost: str) -> str:
    """A part's broker user: users are the broker's, not a vhost's, so the name says whose system it is."""
    return f"{'satu' if vhost == '/' else vhost}-{part}"


def definitions(passwords: dict[str, str], vhost: str) -> dict[str, object]:
    """The broker definitions (users, permissions, topic permissions) of every part, for one vhost."""
    parts = broker_parts()
    grants = {user_name(part.name, vhost): permissions(part) for part in parts}
    return {
        "users": [
            {
                "name": user_name(part.name, vhost),
                "password_hash": password_hash(passwords[part.name]),
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": [],
            }
            for part in parts
        ],
        "permissions": [
            {"user": name, "vhost": vhost, "configure": p.configure, "write": p.write, "read": p.read}
            for name, p in grants.items()
        ],
        "topic_permissions": [
            {"user": name, "vhost": vhost, "exchange": exchange, "write": write, "read": read}
            for name, p in grants.items()
            for exchange, (write, read) in p.topics.items()
        ],
    }


def broker_passwords(path: Path) -> dict[str, str]:
    """Each part's broker password, made once and kept (mode 0600) so a restart keeps the same users."""
    known: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [part.name for part in broker_parts() if part.name not in known]
    if missing:
        known |= {name: secrets.token_urlsafe(24) for name in missing}
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".broker-")
        with os.fdopen(fd, "w") as handle:
            json.dump(known, handle, indent=2)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    return known


def vhost_of(amqp_uri: str) -> str:
    path = urlsplit(amqp_uri).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def uri_for(amqp_uri: str, user: str, password: str) -> str:
    """``amqp_uri`` (the administrator's) with another user's credentials."""
    url = urlsplit(amqp_uri)
    host = url.hostname or "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}" + (f":{url.port}" if url.port else "")
    return urlunsplit((url.scheme, netloc, url.path, url.query, url.fragment))


class ProvisioningError(RuntimeError):
    pass


def provision(amqp_uri: str, passwords_file: Path, ca_file: Path | None = None) -> dict[str, str]:
    """Create or update every part's broker user on the admin URI's vhost (idempotent); returns each
    part's own AMQP URI. Needs `rabbitmqctl` on this machine (the broker's administrator)."""
    passwords = broker_passwords(passwords_file)
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        raise ProvisioningError("rabbitmqctl is not installed here: cannot create the parts' broker users")
    # On standard input: the password hashes never touch the disk.
    imported = json.dumps(definitions(passwords, vhost_of(amqp_uri)))
    result = subprocess.run([rabbitmqctl, "import_definitions"], input=imported, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ProvisioningError(f"rabbitmqctl import_definitions failed: {detail[0]}")
    vhost = vhost_of(amqp_uri)
    uris = {name: uri_for(amqp_uri, user_name(name, vhost), password) for name, password in passwords.items()}
    _wait_until_applied(list(uris.values()), ca_file)
    return uris


def _wait_until_applied(uris: list[str], ca_file: Path | None, seconds: float = 15) -> None:
    """The broker applies an import asynchronously: wait until the last user listed can sign in."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with kombu.Connection(uris[-1], ssl=amqp_ssl(uris[-1], ca_file), connect_timeout=2) as connection:
                connection.ensure_connection(max_retries=1)
            return
        except Exception as error:  # noqa: BLE001 - refused until the import has been applied
            if time.monotonic() > deadline:
                raise ProvisioningError(f"the parts' broker users did not become usable: {error}") from None
            time.sleep(0.2)
