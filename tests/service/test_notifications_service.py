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

from contracts.errors import Conflict, InvalidInput, PermissionDenied
from contracts.events import IntegrationEvent
from contracts.identity import Caller, Role, system_caller
from contracts.keys import Signer
from infra.settings import Settings
from services.notifications.service import NotificationsService
from tests.support.factories import organisation_payload
from tests.support.in_process import GATEWAY_SERVICES, Cluster, cluster_on
from tests.support.office import cheap_password_hashing, file_case


@pytest.fixture
def cluster(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    cheap_password_hashing(monkeypatch)
    with cluster_on(settings, services=(*GATEWAY_SERVICES, NotificationsService)) as running:
        yield running


def _all_mails(settings: Settings) -> list[email.message.Message]:
    return [
        email.message_from_bytes(path.read_bytes()) for path in sorted(Path(settings.var_dir, "mail").glob("*.eml"))
    ]


def _mails(settings: Settings) -> list[email.message.Message]:
    """The mails about cases (each new account also got its confirmation link)."""
    return [mail for mail in _all_mails(settings) if "Konfirmasi alamat" not in str(mail["Subject"])]


def _account_mails(settings: Settings, to: str) -> list[email.message.Message]:
    """The confirmation links mailed to ``to``."""
    return [mail for mail in _all_mails(settings) if mail["To"] == to and "Konfirmasi alamat" in str(mail["Subject"])]


def _link(mail: email.message.Message) -> str:
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    [line] = [line for line in body.splitlines() if "/verify-email?token=" in line]
    return line.strip()


SIGN_UP = {"email": "baru@ormas.or.id", "password": "kata-sandi-panjang", "full_name": "Dewi Baru"}


def test_a_new_account_is_mailed_a_link_that_confirms_its_address_once(cluster, settings) -> None:
    account = cluster["registry"].register_applicant(SIGN_UP)
    [mail] = _account_mails(settings, "baru@ormas.or.id")
    assert mail["Subject"] == "[Satu Ormas] Konfirmasi alamat e-mail Anda"
    link = _link(mail)
    assert link.startswith(f"{settings.public_base_url}/verify-email?token={account['id']}.")  # this system's own
    token = link.split("token=", 1)[1]
    assert cluster["registry"].confirm_email(token) == {"email": "baru@ormas.or.id", "status": "confirmed"}
    with pytest.raises(Conflict, match="confirmed already"):
        cluster["registry"].confirm_email(token)  # single use
    caller = Caller(user_id=account["id"], role=Role.APPLICANT)
    assert cluster["registry"].record_organisation(caller, organisation_payload())["id"]


def test_asking_for_a_new_link_retires_the_old_one_and_forged_tokens_do_nothing(cluster, settings) -> None:
    account = cluster["registry"].register_applicant(SIGN_UP)
    first = _link(_account_mails(settings, "baru@ormas.or.id")[0]).split("token=", 1)[1]
    cluster["registry"].resend_confirmation({"email": "baru@ormas.or.id"})
    mails = _account_mails(settings, "baru@ormas.or.id")
    assert len(mails) == 2
    second = _link(mails[1]).split("token=", 1)[1]
    account_id, nonce, _signature = second.split(".")
    forged = f"{account_id}.{nonce}.{Signer.generate('registry').sign(b'verify-email')}"
    for refused in (first, forged, f"{account_id}.{nonce}", "x" * 40):
        with pytest.raises(InvalidInput, match="not valid or has expired"):
            cluster["registry"].confirm_email(refused)
    assert cluster["registry"].confirm_email(second)["status"] == "confirmed"
    assert account_id == account["id"]


def test_signing_up_with_a_taken_address_tells_its_owner_and_changes_nothing(cluster, settings, applicant) -> None:
    before = {mail["Message-ID"] for mail in _all_mails(settings)}
    assert cluster["registry"].register_applicant({**SIGN_UP, "email": applicant["email"]}) == {}
    [notice] = [mail for mail in _all_mails(settings) if mail["Message-ID"] not in before]
    assert notice["To"] == applicant["email"]
    assert notice["Subject"] == "[Satu Ormas] Ada pendaftaran dengan alamat e-mail Anda"
    assert "Dewi Baru" not in notice.get_payload(decode=True).decode()  # what the stranger typed is not mailed


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


@pytest.mark.parametrize("organisation_id", [str(uuid.uuid4()), "org-1"], ids=["unknown", "no id at all"])
def test_an_event_for_an_organisation_the_registry_does_not_know_sends_nothing_and_is_not_retried(
    cluster, settings, applicant, organisation_id
) -> None:
    stray = _variant(cluster, _filed(cluster, applicant), None, organisation_id=organisation_id)
    notifications = cluster.worker("notifications")

    notifications.on_case_event(stray)  # returns: the message is acked, not requeued forever

    assert len(_mails(settings)) == 1
    assert notifications.postbox.outbox.seen(stray["event_id"])  # recorded: a redelivery records nothing more


def test_a_redelivered_sign_up_mails_its_link_once(cluster, settings) -> None:
    account = cluster["registry"].register_applicant(SIGN_UP)
    registered = next(
        m
        for m in cluster.published
        if m["event_type"] == "account.registered.v1" and m["aggregate_id"] == account["id"]
    )
    for _ in range(2):
        cluster.worker("notifications").on_account_event(registered)  # a requeue, a relay's restart
    assert len(_account_mails(settings, "baru@ormas.or.id")) == 1


def test_only_the_notifications_service_learns_a_confirmation_token(cluster) -> None:
    account = cluster["registry"].register_applicant(SIGN_UP)
    nonce = cluster.application("registry").repository.get(uuid.UUID(account["id"])).verification_nonce
    with pytest.raises(PermissionDenied, match="only the notifications service"):
        cluster.proxy("registry", holder="submissions").mail_facts(system_caller("submissions"), account["id"], nonce)
    facts = cluster.proxy("registry", holder="notifications").mail_facts(
        system_caller("notifications"), account["id"], nonce
    )
    assert facts["email"] == "baru@ormas.or.id" and facts["token"].startswith(account["id"])
