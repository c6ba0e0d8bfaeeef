"""Each part on the broker as its own user (a real RabbitMQ, a private vhost): it may use its own queues
and exchanges and nothing else, so no part can answer another's RPC or read another's traffic."""

from __future__ import annotations

import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import kombu
import pytest
from amqp.exceptions import AccessRefused, NotAllowed

from ops.broker_users import REPLY_ID, RPC_EXCHANGE, broker_parts, provision
from tests.support.broker import private_vhost
from tests.support.system import eventually


@pytest.fixture
def amqp_uri() -> Iterator[str]:
    """A vhost of each test's own: what these tests publish and declare must not reach another test."""
    with private_vhost("satu_users") as uri:
        yield uri


@pytest.fixture
def part_uris(amqp_uri: str, tmp_path: Path) -> dict[str, str]:
    return provision(amqp_uri, tmp_path / "broker-users.json")


@pytest.fixture
def channel_of(part_uris: dict[str, str]) -> Iterator:  # type: ignore[type-arg]
    connections: list[kombu.Connection] = []

    def open_channel(part: str):  # type: ignore[no-untyped-def]
        connection = kombu.Connection(part_uris[part], connect_timeout=5)
        connections.append(connection)
        eventually(lambda: _connects(connection), timeout=10)  # the import is applied asynchronously
        return connection.channel()

    yield open_channel
    for connection in connections:
        connection.release()


def _connects(connection: kombu.Connection) -> bool:
    try:
        connection.ensure_connection(max_retries=1)
        return True
    except Exception:  # noqa: BLE001 - not yet (the user is being created)
        return False


RPC = kombu.Exchange(RPC_EXCHANGE, type="topic", durable=True, auto_delete=True)


def test_every_part_gets_its_own_user_and_the_passwords_stay_private(amqp_uri, tmp_path, part_uris) -> None:
    assert set(part_uris) == {part.name for part in broker_parts()}
    assert len({uri.split("@")[0] for uri in part_uris.values()}) == len(part_uris)  # no shared user
    assert all("guest" not in uri for uri in part_uris.values())
    assert stat.S_IMODE((tmp_path / "broker-users.json").stat().st_mode) == 0o600
    assert provision(amqp_uri, tmp_path / "broker-users.json") == part_uris  # idempotent: same users


def test_a_service_consumes_its_own_rpc_queue(channel_of) -> None:
    channel = channel_of("registry")
    queue = kombu.Queue("rpc-registry", exchange=RPC, routing_key="registry.*", durable=True)
    queue(channel).declare()
    channel.basic_consume("rpc-registry", callback=lambda message: None)


def test_no_other_part_may_consume_the_registrys_rpc_queue(channel_of) -> None:
    # The registry's queue, declared by the registry:
    channel_of("registry").queue_declare("rpc-registry", durable=True, auto_delete=False)
    rogue = channel_of("notifications")
    with pytest.raises(AccessRefused):
        rogue.basic_consume("rpc-registry", callback=lambda message: None)


def test_no_part_may_bind_its_queue_to_anothers_requests(channel_of) -> None:
    # The attack: a second queue bound to "registry.authenticate" receives a copy of every password.
    channel = channel_of("notifications")
    reply_queue = f"rpc.reply-notifications-{uuid.uuid4()}"
    RPC(channel).declare()
    channel.queue_declare(reply_queue, auto_delete=True)
    with pytest.raises(AccessRefused):
        channel.queue_bind(reply_queue, RPC_EXCHANGE, routing_key="registry.authenticate")


def test_a_part_may_name_queues_only_as_its_own(channel_of) -> None:
    with pytest.raises(AccessRefused):
        channel_of("gateway").queue_declare("rpc-registry-shadow", durable=True)


def test_only_a_stores_relay_publishes_its_events(channel_of) -> None:
    events = kombu.Exchange("submissions.events", type="topic", durable=True, auto_delete=True)
    relay = channel_of("relay-submissions")
    events(relay).declare()
    kombu.Producer(relay).publish("{}", exchange="submissions.events", routing_key="case.approved.v1")
    relay.queue_declare(f"rpc.reply-relay-submissions-{uuid.uuid4()}", auto_delete=True)  # still open
    gateway = channel_of("gateway")
    with pytest.raises((AccessRefused, NotAllowed)):
        kombu.Producer(gateway).publish("{}", exchange="submissions.events", routing_key="case.approved.v1")
        gateway.queue_declare(f"rpc.reply-gateway-{uuid.uuid4()}", auto_delete=True)  # the refusal closes it


def test_the_gateway_calls_only_the_services_it_serves(channel_of) -> None:
    channel = channel_of("gateway")
    RPC(channel).declare()
    kombu.Producer(channel).publish("{}", exchange=RPC_EXCHANGE, routing_key="registry.ping")
    channel.queue_declare(f"rpc.reply-gateway-{uuid.uuid4()}", auto_delete=True)  # allowed: still open
    with pytest.raises((AccessRefused, NotAllowed)):
        kombu.Producer(channel).publish("{}", exchange=RPC_EXCHANGE, routing_key="notifications.ping")
        channel.queue_declare(f"rpc.reply-gateway-{uuid.uuid4()}", auto_delete=True)


def test_reply_queue_ids_are_nameko_uuids() -> None:
    import re

    assert re.fullmatch(REPLY_ID, str(uuid.uuid4()))
