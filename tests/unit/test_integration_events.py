"""Domain events -> integration events: names, stable ids, no personal data; malformed deliveries."""

from __future__ import annotations

import json
import uuid

from contracts.events import CASE_EVENT_TYPES, EVENT_ID_NAMESPACE, IntegrationEvent, stable_event_id
from contracts.identity import Caller, Role
from contracts.keys import Keyring, Signer, canonical
from infra.readmodel import decode
from services.registry.application import RegistryApplication
from services.registry.publishing import to_integration
from services.submissions.application import SubmissionsApplication
from services.submissions.publishing import CaseEventMapper, CaseFacts, mapper_for
from tests.support.factories import attachment, organisation_payload
from tests.support.scenario import APPLICANT, APPROVER, approved_case, forward, submit


def case_events(app: SubmissionsApplication) -> list:
    mapper = mapper_for(app)
    notifications = app.recorder.select_notifications(start=1, limit=100)
    return [event for n in notifications if (event := mapper(app.mapper.to_domain_event(n))) is not None]


def test_every_step_of_a_case_becomes_a_versioned_integration_event() -> None:
    app = SubmissionsApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    approved = approved_case(app)
    rejected = submit(app)
    forward(app, rejected["id"])
    app.act(APPROVER, rejected["id"], "reject", {"reason": "Kepengurusan ganda"})
    events = case_events(app)
    skeleton = {"case.submitted.v1", "case.revision_requested.v1", "case.resubmitted.v1", "case.forwarded.v1"}
    skeleton |= {"case.approved.v1", "case.rejected.v1", "case.field_visit_recorded.v1"}
    assert {event.event_type for event in events} == skeleton and skeleton <= set(CASE_EVENT_TYPES)
    approval = next(e for e in events if e.event_type == "case.approved.v1")
    assert approval.case().letter is not None and approval.case().letter.number == approved["letter"]["number"]
    assert approval.case().organisation and approval.case().organisation["name"] == approved["organisation_name"]
    assert all(e.case().reference == approved["reference"] for e in events if e.aggregate_id == approved["id"])
    assert next(e for e in events if e.event_type == "case.rejected.v1").case().reason == "Kepengurusan ganda"
    assert all(e.event_id == stable_event_id(e.aggregate_id, e.aggregate_version) for e in events)


def test_a_mapper_started_mid_log_still_knows_each_case() -> None:
    """A restarted relay, or a rebuild, begins past the cases' first events: each later event carries what
    its case was filed as, so nothing is looked up (a look-up per event once cost a rebuild half its time)."""
    app = SubmissionsApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    case = submit(app)
    forward(app, case["id"])
    approved = app.act(APPROVER, case["id"], "approve", {})
    loads: list[str] = []
    fresh_mapper = CaseEventMapper(CaseFacts(loads.append))
    notifications = app.recorder.select_notifications(start=2, limit=9)  # all but the filing
    later = [event for n in notifications if (event := fresh_mapper(app.mapper.to_domain_event(n)))]
    assert [event.case().reference for event in later] == [case["reference"]] * 3 and loads == []
    approval = later[-1].case()
    assert approval.letter is not None and approval.letter.number == approved["letter"]["number"]
    assert approval.organisation and approval.organisation["name"] == approved["organisation_name"]
    assert later == case_events(app)[1:]  # as a mapper that saw the filing makes them


def test_registry_events_carry_no_personal_data() -> None:
    app = RegistryApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    account = app.register_applicant({"email": "s@ormas.or.id", "password": "rahasia-12345", "full_name": "Siti"})
    app.confirm_directly(account["id"])
    app.record_organisation(Caller(user_id=account["id"], role=Role.APPLICANT), organisation_payload())
    notifications = app.recorder.select_notifications(start=1, limit=10)
    published = [e for n in notifications if (e := to_integration(app.mapper.to_domain_event(n))) is not None]
    assert [e.event_type for e in published] == ["account.registered.v1", "organisation.recorded.v1"]
    wire = json.dumps([e.model_dump(mode="json") for e in published])
    for secret in ("6471010101800001", "081234567801", "s@ormas.or.id", "argon2"):
        assert secret not in wire


def test_a_malformed_or_forged_delivery_is_dropped_not_retried_forever() -> None:
    relay = Signer.generate("relay-submissions")
    keyring = Keyring.of(relay)
    assert decode({"event_id": "x", "event_type": "case.submitted.v1"}, keyring) is None
    assert decode("not even a dict", keyring) is None
    app = SubmissionsApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.submit_case(APPLICANT, {"id": "org-1", **organisation_payload()}, {"attachments": [attachment()]})
    event = case_events(app)[0]
    wire = json.loads(json.dumps(event.signed(relay).model_dump(mode="json")))  # as it crosses the broker
    assert decode(wire, keyring) == event.signed(relay)
    assert decode(event.model_dump(mode="json"), keyring) is None  # unsigned
    assert decode(event.signed(Signer.generate("relay-submissions")).model_dump(mode="json"), keyring) is None
    tampered = {**wire, "data": {**wire["data"], "organisation_name": "Ormas Palsu"}}
    assert decode(tampered, keyring) is None


def test_an_events_position_is_signed_and_releases_before_positions_still_take_its_events() -> None:
    """The relay signs the position it publishes an event from (a consumer skips events at or below the position a
    rebuild applied, so a forged one could hide an event or have one applied again). A consumer of a release from
    before positions, still running while a deployment replaces the parts, checks the signature it always checked;
    and an event such a release's relay published stays authentic."""
    relay = Signer.generate("relay-submissions")
    keyring = Keyring.of(relay)
    app = SubmissionsApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.submit_case(APPLICANT, {"id": "org-1", **organisation_payload()}, {"attachments": [attachment()]})
    event = case_events(app)[0]
    wire = json.loads(json.dumps(event.at(42).signed(relay).model_dump(mode="json")))
    assert wire["position"] == 42 and decode(wire, keyring) == event.at(42).signed(relay)
    assert decode({**wire, "position": 7}, keyring) is None
    assert decode({**wire, "position_signature": None}, keyring) is None

    # An earlier release's consumer: its envelope has neither field, and it checks ``signature`` over the rest.
    envelope = {"event_id", "event_type", "source", "aggregate_id", "aggregate_version", "occurred_at", "data"}
    earlier_fields = {name: value for name, value in wire.items() if name in envelope}
    assert keyring.is_signed_by("relay-submissions", wire["signature"], canonical(earlier_fields))

    # An earlier release's relay: no position, and its signature covered the rest.
    fields = json.loads(
        json.dumps(event.model_dump(mode="json", exclude={"signature", "position", "position_signature"}))
    )
    earlier = decode({**fields, "signature": relay.sign(canonical(fields))}, keyring)
    assert earlier is not None and earlier.position is None


def test_an_event_id_is_the_uuid5_of_its_aggregate_and_version() -> None:
    """Stored events are forever: the spelt-out hash must name every event as uuid5 always has."""
    for version in (1, 2, 17, 1000):
        aggregate = uuid.uuid4()
        expected = str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{aggregate}:{version}"))
        assert stable_event_id(aggregate, version) == stable_event_id(str(aggregate), version) == expected


def test_a_rebuild_makes_only_the_events_it_wants_and_still_knows_each_case() -> None:
    """A letters rebuild wants approvals only: the filings it skips still tell the approvals their case."""
    app = SubmissionsApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    approved = approved_case(app)
    loads: list[str] = []  # a look-up of a case's first event would show here
    mapper = CaseEventMapper(CaseFacts(loads.append), IntegrationEvent.replayed)
    notifications = app.recorder.select_notifications(start=1, limit=100)
    wanted = [
        event
        for n in notifications
        if (event := mapper(app.mapper.to_domain_event(n), lambda event_type: event_type == "case.approved.v1"))
    ]
    assert [event.event_type for event in wanted] == ["case.approved.v1"] and loads == []
    assert wanted[0].case().reference == approved["reference"]
    checked = next(event for event in case_events(app) if event.event_type == "case.approved.v1")
    assert wanted[0].case() == checked.case() and wanted[0].event_id == checked.event_id
