"""NotificationsService as nameko runs it: one mail per event however often the event is delivered
(the outbox), for the organisation's account; a message that cannot be genuine or delivered sends none.
The mails' words belong to the region's definitions and are tested elsewhere."""

from __future__ import annotations

import email
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.events import IntegrationEvent
from contracts.keys import Signer
from infra.settings import Settings
from services.notifications.service import NotificationsService
from tests.support.in_process import GATEWAY_SERVICES, Cluster, cluster_on
from tests.support.office import cheap_password_hashing, file_case


@pytest.fixture
def cluster(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    cheap_password_hashing(monkeypatch)
    with cluster_on(settings, services=(*GATEWAY_SERVICES, NotificationsService)) as running:
        yield running


def _mails(settings: Settings) -> list[email.message.Message]:
    return [
        email.message_from_bytes(path.read_bytes()) for path in sorted(Path(settings.var_dir, "mail").glob("*.eml"))
    ]


def _filed(cluster: Cluster, applicant: dict[str, Any]) -> dict[str, Any]:
    """The case.submitted.v1 message of a new filing, as the broker delivered it."""
    case_id = file_case(cluster, applicant)["id"]
    return next(m for m in cluster.published if m["event_type"] == "case.submitted.v1" and m["aggregate_id"] == case_id)


def test_a_filing_mails_the_organisations_account_once_however_often_the_event_arrives(
    cluster, settings, applicant
) -> None:
    message = _filed(cluster, applicant)
    assert [mail["To"] for mail in _mails(settings)] == [applicant["email"]]

    for _ in range(2):
        cluster.worker("notifications").on_case_event(message)  # redelivered: a requeue, a relay's restart

    [mail] = _mails(settings)
    assert message["event_id"] in mail["Message-ID"]  # derived from the event: a resent copy is recognisable


def _variant(cluster: Cluster, message: dict[str, Any], signer: Signer | None, **data: Any) -> dict[str, Any]:
    """Another event (a new id) like ``message``, with ``data`` changed and signed by ``signer``."""
    event = IntegrationEvent.model_validate(message)
    changed = event.model_copy(update={"event_id": str(uuid.uuid4()), "data": {**event.data, **data}})
    return changed.signed(signer or cluster.signer("relay-submissions")).model_dump(mode="json")


def test_a_forged_event_sends_nothing(cluster, settings, applicant) -> None:
    genuine = _filed(cluster, applicant)
    forged = _variant(cluster, genuine, Signer.generate("relay-submissions"), status="approved")

    cluster.worker("notifications").on_case_event(forged)

    assert len(_mails(settings)) == 1  # the genuine filing's only


def test_an_event_for_an_organisation_the_registry_does_not_know_sends_nothing_and_is_not_retried(
    cluster, settings, applicant
) -> None:
    stray = _variant(cluster, _filed(cluster, applicant), None, organisation_id=str(uuid.uuid4()))
    notifications = cluster.worker("notifications")

    notifications.on_case_event(stray)  # returns: the message is acked, not requeued forever

    assert len(_mails(settings)) == 1
    assert notifications.postbox.outbox.seen(stray["event_id"])  # recorded, so a redelivery stops at once
