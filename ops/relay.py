"""Run the outbox relay of one event store until SIGTERM/SIGINT.

Started while the database or the broker is away, it says so in one line and waits for it with growing
pauses (infra/outages.py), then carries on; it never exits for an outage.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from infra.keys import load_signer
from infra.locks import SingleInstanceLock
from infra.outages import Outage
from infra.relay import DATABASE_ERRORS, Relay
from infra.settings import Settings, amqp_ssl
from infra.storage import read_model_engine
from infra.topology import EventStore, consumers_of
from infra.wake import Polling, commit_signal
from ops.launcher import wait_for_services
from ops.sources import open_source

log = logging.getLogger(__name__)


def build_relay(source_name: str, settings: Settings) -> Relay:
    source = open_source(source_name, settings)
    engine = read_model_engine(settings, source_name)
    holder = EventStore(source_name).relay
    signer = load_signer(settings, holder)  # events are signed by this relay's own key
    lock = SingleInstanceLock(holder, settings.database_url if settings.uses_postgres else None, settings.var_dir)
    recorder = source.application.recorder
    return Relay(
        source_name,
        source.application,
        source.to_integration,
        engine,
        settings.amqp_uri,
        lock,
        signer,
        amqp_ssl(settings.amqp_uri, settings.amqp_ca_file),
        commits=commit_signal(recorder, settings.database_url) if settings.relay_wake_on_commit else Polling(),
    )


def build_relay_when_the_database_answers(source_name: str, settings: Settings) -> Relay:
    outage = Outage(f"relay {source_name}: the database", log)
    while True:
        try:
            relay = build_relay(source_name, settings)
        except DATABASE_ERRORS as error:
            time.sleep(outage.failed(error))
            continue
        outage.succeeded()
        return relay


def run_relay(source_name: str, settings: Settings) -> None:
    # psycopg's pool would log every reconnection attempt of an outage; the relay says it once itself.
    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
    relay = build_relay_when_the_database_answers(source_name, settings)
    # RabbitMQ drops a message no queue is bound to: publish only once every consumer has declared its queues.
    consumers = consumers_of(source_name)
    log.info("relay %s: waiting for consumers %s", source_name, ", ".join(consumers))
    wait_for_services(settings.amqp_config(), consumers, seconds=None, part=EventStore(source_name).relay)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    relay.run(stop, settings.relay_poll_seconds)
