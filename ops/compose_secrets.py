"""The secrets folder docker-compose reads (`satu compose-secrets --dir secrets`): nothing secret lives in
docker-compose.yml or has a default there.

secrets/
  session_key               the gateway's SATU_SECRET_KEY (sessions, CSRF)
  postgres_password, database_url
  amqp/<part>               each part's own broker URI (amqps://, its own user)
  keys/<part>.key           each part's private signing key (handed to that part alone)
  public-keys/<part>.pub    every part's public key (mounted read-only into every part)
  tls/ca.pem                the CA every part verifies the broker with
  rabbitmq/                 the broker's TLS certificate and key, its configuration, and its definitions
                            (the parts' users and permissions, ops/broker_users.py)

The folder itself is the owner's alone (0700); what is inside is readable (0644, folders 0755) so that
the containers' own users (`satu`, `rabbitmq`) can read what is mounted into them. Each container is
given only its own files (its broker URI, its private key); see docker-compose.yml. Existing files are
kept (re-running adds what is missing); to rotate, remove what should change and run it again
(docs/security.md).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path

from infra.keys import ensure_keys
from ops.broker_users import broker_passwords, definitions, uri_for, user_name
from ops.certificates import make_authority

BROKER_HOST = "rabbitmq"  # the broker's name on the compose network, and in its certificate
DATABASE = "postgresql://satu:{password}@postgres:5432/satu"

RABBITMQ_CONF = """\
# Written by `satu compose-secrets`: TLS only, users and permissions from definitions.json.
listeners.tcp = none
listeners.ssl.default = 5671
ssl_options.cacertfile = /etc/rabbitmq/satu/ca.pem
ssl_options.certfile = /etc/rabbitmq/satu/rabbitmq.pem
ssl_options.keyfile = /etc/rabbitmq/satu/rabbitmq.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
load_definitions = /etc/rabbitmq/satu/definitions.json
"""


def _write_once(path: Path, content: str) -> bool:
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return True


def _readable_inside(directory: Path) -> None:
    """Readable by the containers' users: the top folder alone keeps others on the host out."""
    directory.chmod(0o700)
    for path in directory.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    (directory / "broker-passwords.json").chmod(0o600)  # mounted nowhere


def write_compose_secrets(directory: Path) -> list[str]:
    """Create what is missing under ``directory``; returns the files written."""
    written: list[str] = []
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def once(relative: str, make: str) -> None:
        if _write_once(directory / relative, make):
            written.append(relative)

    once("session_key", secrets.token_urlsafe(48))
    password_file = directory / "postgres_password"
    once("postgres_password", secrets.token_urlsafe(24))
    once("database_url", DATABASE.format(password=password_file.read_text().strip()))
    passwords = broker_passwords(directory / "broker-passwords.json")
    for part, password in passwords.items():
        once(f"amqp/{part}", uri_for(f"amqps://{BROKER_HOST}:5671/", user_name(part, "/"), password))
    broker = definitions(passwords, "/")
    broker["vhosts"] = [{"name": "/"}]
    once("rabbitmq/definitions.json", json.dumps(broker, indent=2))
    once("rabbitmq/rabbitmq.conf", RABBITMQ_CONF)
    if not (directory / "rabbitmq" / "rabbitmq.pem").exists():
        authority = make_authority(directory / "rabbitmq", host=BROKER_HOST)
        os.replace(authority.cert_file, directory / "rabbitmq" / "rabbitmq.pem")
        os.replace(authority.key_file, directory / "rabbitmq" / "rabbitmq.key")
        (directory / "tls").mkdir(exist_ok=True, mode=0o700)
        shutil.copy(authority.ca_file, directory / "tls" / "ca.pem")
        written += ["rabbitmq/ca.pem", "rabbitmq/rabbitmq.pem", "rabbitmq/rabbitmq.key", "tls/ca.pem"]
    made = ensure_keys(directory / "keys")
    public = directory / "public-keys"
    public.mkdir(exist_ok=True)
    for key in (directory / "keys").glob("*.pub"):
        if not (public / key.name).exists():
            shutil.copy(key, public / key.name)
    written += [f"keys/{holder}.key" for holder in made]
    _readable_inside(directory)
    return written
