"""Cases recorded straight into the event stores (as the services would), what the submissions relay
published of them, and counts of what the read models applied: for tests of the relays (test support; no
tests here)."""

from __future__ import annotations

import uuid

import kombu
import sqlalchemy as sa
from eventsourcing.persistence import ApplicationRecorder

from contracts.identity import Caller, Role
from infra.published import EventName, Publishing, event_at
from infra.relay import event_exchange
from infra.settings import Settings
from infra.storage import event_store_env, read_model_engine
from ops.sources import open_source
from services.registry.application import RegistryApplication
from services.submissions.application import build_application
from tests.support.factories import attachment, organisation_payload
from tests.support.scenario import APPROVER, VERIFIER, forward

CASE_EVENTS = 14  # per round of record_cases: 6 + 4 + 4 below (each case has its field visit)
MAILS = CASE_EVENTS - 3  # a field visit is no news for the applicant: no mail


def record_cases(settings: Settings, email: str = "sekretaris@ormas.or.id") -> None:
    """One round: an organisation (of a new applicant ``email``) and three cases, two approved."""
    registry = RegistryApplication(env=event_store_env(settings, "registry"))
    account = registry.register_applicant({"email": email, "password": "rahasia-12345", "full_name": "Siti"})
    registry.confirm_directly(account["id"])
    organisation = registry.record_organisation(
        Caller(user_id=account["id"], role=Role.APPLICANT), organisation_payload()
    )
    applicant = Caller(user_id=account["id"], role=Role.APPLICANT, organisation_id=organisation["id"])
    registry.close()
    app = build_application(event_store_env(settings, "submissions"), settings)
    files = {"attachments": [attachment()]}
    first, second, third = (app.submit_case(applicant, organisation, files) for _ in range(3))
    app.act(VERIFIER, first["id"], "request_revision", {"reason": "Surat domisili kedaluwarsa"})
    app.act(applicant, first["id"], "resubmit", files)
    for case in (first, second, third):
        forward(app, case["id"])
    app.act(APPROVER, first["id"], "approve", {})
    app.act(APPROVER, second["id"], "approve", {})
    app.act(APPROVER, third["id"], "reject", {"reason": "Ormas sedang dalam evaluasi"})
    app.close()


def count(settings: Settings, service: str, table: str) -> int:
    engine = read_model_engine(settings, service)
    with engine.connect() as connection:
        value = connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
    engine.dispose()
    return int(value or 0)


def relay_position(settings: Settings, source: str) -> int:
    engine = read_model_engine(settings, source)
    with engine.connect() as connection:
        value = connection.execute(
            sa.text("SELECT position FROM relay_positions WHERE source = :s"), {"s": source}
        ).scalar()
    engine.dispose()
    return int(value or 0)


def all_applied(settings: Settings, rounds: int = 1) -> bool:
    """Every event of ``rounds`` rounds of record_cases applied, once, in each read model."""
    return (
        count(settings, "submissions", "case_timeline") == CASE_EVENTS * rounds
        and count(settings, "documents", "letters") == 2 * rounds
        and count(settings, "notifications", "processed_events WHERE event_type LIKE 'case.%'") == CASE_EVENTS * rounds
    )


class Audit:
    """A queue of the test's own bound to every event the submissions relay publishes."""

    def __init__(self, amqp_uri: str) -> None:
        self.connection = kombu.Connection(amqp_uri)
        name = f"audit-{uuid.uuid4().hex[:8]}"
        self.queue = kombu.Queue(name, event_exchange("submissions"), routing_key="#", exclusive=True)
        self.queue(self.connection.default_channel).declare()
        self.ids: list[str] = []

    def received(self) -> list[str]:
        while (message := self.queue(self.connection.default_channel).get(no_ack=True)) is not None:
            self.ids.append(message.properties["message_id"])
        return self.ids

    def close(self) -> None:
        self.connection.close()


def stored_event_ids(settings: Settings) -> list[str]:
    source = open_source("submissions", settings)
    ids = [event.event_id for _position, event in source.integration_events()]
    source.close()
    return ids


def mark_published(engine: sa.Engine, source: str, recorder: ApplicationRecorder, position: int) -> None:
    """Record ``source``'s events up to ``position`` as published, as its relay would after a batch."""
    Publishing(engine, source, recorder).save(position, event_at(recorder, position) or EventName(""))
