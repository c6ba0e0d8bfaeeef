"""Run the outbox relay of one event store until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal
import threading

from infra.keys import load_signer
from infra.locks import SingleInstanceLock
from infra.relay import Relay
from infra.settings import Settings, amqp_ssl
from infra.storage import read_model_engine
from infra.topology import EventStore, consumers_of
from ops.launcher import wait_for_services
from ops.sources import open_source

log = logging.getLogger(__name__)


def build_relay(source_name: str, settings: Settings) -> Relay:
    source = open_source(source_name, settings)
    engine = read_model_engine(settings, source_name)
    holder = EventStore(source_name).relay
    signer = load_signer(settings, holder)  # events are signed by this relay's own key
    lock = SingleInstanceLock(holder, engine if settings.uses_postgres else None, settings.var_dir)
    return Relay(
        source_name,
        source.application,
        source.to_integration,
        engine,
        settings.amqp_uri,
        lock,
        signer,
        amqp_ssl(settings.amqp_uri, settings.amqp_ca_file),
    )


def run_relay(source_name: str, settings: Settings) -> None:
    relay = build_relay(source_name, settings)
    # RabbitMQ drops a message no queue is bound to: publish only once every consumer has declared its queues.
    consumers = consumers_of(source_name)
    log.info("relay %s: waiting for consumers %s", source_name, ", ".join(consumers))
    wait_for_services(settings.amqp_config(), consumers, seconds=None, part=EventStore(source_name).relay)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    relay.run(stop, settings.relay_poll_seconds)
