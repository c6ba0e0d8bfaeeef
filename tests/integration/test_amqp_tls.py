"""AMQP over TLS: a service and its callers reach the broker through amqps:// with the broker's
certificate verified (a real TLS handshake in front of the real broker); a broker whose certificate
another CA signed is refused; a production start over plain AMQP to another machine is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import kombu
import pytest
from pydantic import ValidationError

from infra.settings import Settings, amqp_ssl
from ops.launcher import wait_for_services
from tests.support.tls import Forwarder, TlsFront, make_authority

STRONG = "Zq3v9LkX2mN8pR4tW7yB1cD6fG0hJ5sA-e8u"


@pytest.fixture
def front(tmp_path: Path) -> Iterator[Forwarder]:
    tls_front = TlsFront(make_authority(tmp_path / "tls"))
    yield tls_front
    tls_front.close()


def amqps(amqp_uri: str, port: int) -> str:
    """The test vhost's URI, through the TLS front (host name ``localhost``, as the certificate says)."""
    return amqp_uri.replace("amqp://", "amqps://").replace("127.0.0.1:5672", f"localhost:{port}")


def test_a_service_answers_over_tls_with_the_brokers_certificate_verified(amqp_uri, tmp_path, front) -> None:
    uri = amqps(amqp_uri, front.port)
    env = {
        **os.environ, "SATU_ENV": "test", "SATU_VAR_DIR": str(tmp_path / "var"), "SATU_AMQP_URI": uri,
        "SATU_AMQP_CA_FILE": str(tmp_path / "tls" / "ca.pem"),
    }  # fmt: skip
    service = subprocess.Popen(
        [sys.executable, "-m", "ops.service", "documents"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        settings = Settings(
            env="test", var_dir=tmp_path / "var", amqp_uri=uri, amqp_ca_file=tmp_path / "tls" / "ca.pem"
        )
        wait_for_services(settings.amqp_config(), ("documents",), seconds=60)  # a ping there and back, over TLS
    finally:
        service.terminate()
        output = service.communicate(timeout=20)[0].decode(errors="replace")
    assert service.returncode == 0, output
    assert front.handshakes_failed == 0


def test_a_broker_certificate_from_another_authority_is_refused(amqp_uri, tmp_path, front) -> None:
    stranger = make_authority(tmp_path / "other")  # a CA that never signed the broker's certificate
    uri = amqps(amqp_uri, front.port)
    connection = kombu.Connection(uri, ssl=amqp_ssl(uri, stranger.ca_file), connect_timeout=5)
    with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):  # noqa: PT011 - kombu wraps the SSL error
        connection.ensure_connection(max_retries=1)
    connection.release()


@pytest.mark.parametrize(
    ("amqp_uri", "allowed", "accepted"),
    [
        ("amqp://satu:pw@broker.kesbangpol.go.id:5672/", False, False),
        ("amqp://satu:pw@broker.kesbangpol.go.id:5672/", True, True),  # explicitly allowed
        ("amqps://satu:pw@broker.kesbangpol.go.id:5671/", False, True),
        ("amqp://satu:pw@127.0.0.1:5672/", False, True),  # this machine
    ],
)
def test_production_refuses_plain_amqp_to_another_machine(amqp_uri, allowed, accepted, tmp_path) -> None:
    def start() -> Settings:
        return Settings(
            env="production", var_dir=tmp_path, secret_key=STRONG, amqp_uri=amqp_uri, allow_plain_amqp=allowed
        )

    if accepted:
        start()
    else:
        with pytest.raises(ValidationError, match="(?s)amqp_uri.*use amqps://"):
            start()
