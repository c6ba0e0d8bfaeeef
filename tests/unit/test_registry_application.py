"""Accounts, sign-in and organisations on the registry application (in-memory store)."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

import pytest
from eventsourcing.domain import CanMutateAggregate

from contracts.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from contracts.identity import Caller, Role
from contracts.keys import Keyring, Signer
from services.registry.application import RegistryApplication
from services.registry.domain import Account, Organisation
from services.registry.verification import UNCONFIRMED_DAYS, make_token
from tests.support.factories import organisation_payload

PASSWORD = "rahasia-sekali-123"


@pytest.fixture
def app() -> RegistryApplication:
    return RegistryApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def applicant(app: RegistryApplication, email: str = "sekretaris@ormas.or.id") -> Caller:
    account = app.register_applicant({"email": email, "password": PASSWORD, "full_name": "Siti"})
    app.confirm_directly(account["id"])  # the mailed link followed (tests/service cover the link itself)
    return Caller(user_id=account["id"], role=Role.APPLICANT)


def test_sign_up_and_sign_in_case_insensitively(app: RegistryApplication) -> None:
    applicant(app, "Sekretaris@Ormas.or.id")
    account = app.authenticate({"email": "sekretaris@ormas.OR.ID", "password": PASSWORD})
    assert account["role"] == "applicant" and "password_hash" not in account


def test_password_is_stored_as_argon2id(app: RegistryApplication) -> None:
    caller = applicant(app)
    stored = app.repository.get(__import__("uuid").UUID(caller.user_id)).password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_wrong_password_and_unknown_account_look_the_same(app: RegistryApplication) -> None:
    applicant(app)
    with pytest.raises(NotAuthenticated) as wrong:
        app.authenticate({"email": "sekretaris@ormas.or.id", "password": "salah-salah-salah"})
    with pytest.raises(NotAuthenticated) as unknown:
        app.authenticate({"email": "tidak.ada@ormas.or.id", "password": PASSWORD})
    assert str(wrong.value) == str(unknown.value)


def test_signing_up_with_an_address_that_has_an_account_changes_nothing_and_tells_its_owner(
    app: RegistryApplication,
) -> None:
    owner = applicant(app)
    again = app.register_applicant(
        {"email": "SEKRETARIS@ormas.or.id", "password": "lain-sama-sekali", "full_name": "Orang Lain"}
    )
    assert again == {}  # the gateway answers as for a new address; the owner is told by mail
    assert app.authenticate({"email": "sekretaris@ormas.or.id", "password": PASSWORD})["id"] == owner.user_id
    events = [type(event).__name__ for event in app.repository.event_store.get(UUID(owner.user_id))]
    assert events[-1] == "SignUpAttempted"


def test_an_account_must_confirm_its_address_before_recording_an_organisation(app: RegistryApplication) -> None:
    account = app.register_applicant({"email": "baru@ormas.or.id", "password": PASSWORD, "full_name": "Baru"})
    with pytest.raises(PermissionDenied) as refused:
        app.record_organisation(Caller(user_id=account["id"], role=Role.APPLICANT), organisation_payload())
    assert refused.value.field == "email" and "confirm your e-mail address first" in str(refused.value)
    assert app.authenticate({"email": "baru@ormas.or.id", "password": PASSWORD})["id"] == account["id"]  # may sign in


def test_an_account_never_confirmed_expires_and_its_address_may_sign_up_again(app: RegistryApplication) -> None:
    account = app.register_applicant({"email": "lupa@ormas.or.id", "password": PASSWORD, "full_name": "Lupa"})
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=UNCONFIRMED_DAYS, hours=1)
    app.now = lambda: later  # type: ignore[method-assign]
    with pytest.raises(NotAuthenticated, match="never confirmed and has expired"):
        app.authenticate({"email": "lupa@ormas.or.id", "password": PASSWORD})
    taken = app.register_applicant({"email": "lupa@ormas.or.id", "password": "kata-sandi-baru-1", "full_name": "Baru"})
    assert taken["id"] == account["id"] and taken["full_name"] == "Baru"  # the address's new holder


def test_short_password_is_refused_naming_the_field(app: RegistryApplication) -> None:
    with pytest.raises(InvalidInput) as refused:
        app.register_applicant({"email": "a@ormas.or.id", "password": "pendek", "full_name": "A"})
    assert refused.value.field == "password"


def test_only_admins_create_staff(app: RegistryApplication) -> None:
    staff = {"email": "v@kesbangpol.go.id", "password": PASSWORD, "full_name": "Rina", "role": "verifier"}
    with pytest.raises(PermissionDenied):
        app.register_staff(applicant(app), staff)
    admin = Caller(user_id="admin", role=Role.ADMIN)
    assert app.register_staff(admin, staff)["role"] == "verifier"


def test_recording_an_organisation_links_it_to_the_account(app: RegistryApplication) -> None:
    caller = applicant(app)
    organisation = app.record_organisation(caller, organisation_payload())
    account = app.get_account(caller, caller.user_id)
    assert account["organisation_id"] == organisation["id"]
    assert organisation["board"][0]["nik"] == "6471010101800001"  # the owner sees their own data
    with pytest.raises(Conflict):
        app.record_organisation(caller, organisation_payload(name="Ormas Kedua"))


def test_kelurahan_must_belong_to_the_kecamatan(app: RegistryApplication) -> None:
    address = {"street": "Jl. Mulawarman 1", "kecamatan": "Balikpapan Timur", "kelurahan": "Klandasan Ilir"}
    with pytest.raises(InvalidInput) as refused:
        app.record_organisation(applicant(app), organisation_payload(address=address))
    assert refused.value.field == "address.kelurahan"


def test_board_needs_ketua_sekretaris_and_bendahara(app: RegistryApplication) -> None:
    payload = organisation_payload()
    payload["board"][2]["position"] = "ketua"
    with pytest.raises(InvalidInput) as refused:
        app.record_organisation(applicant(app), payload)
    assert refused.value.field == "board"


def test_staff_see_masked_nik_and_phone_other_applicants_see_nothing(app: RegistryApplication) -> None:
    owner = applicant(app)
    organisation = app.record_organisation(owner, organisation_payload())
    verifier = Caller(user_id="v", role=Role.VERIFIER)
    member = app.get_organisation(verifier, organisation["id"])["board"][0]
    assert member["nik"] == "6471**********01" and member["phone"] == "081*******01"
    stranger = applicant(app, "lain@ormas.or.id")
    with pytest.raises(PermissionDenied):
        app.get_organisation(stranger, organisation["id"])
    with pytest.raises(NotFound):
        app.get_organisation(verifier, "00000000-0000-4000-8000-000000000000")
    with pytest.raises(NotFound):  # an account's id is not an organisation's
        app.get_organisation(verifier, owner.user_id)


def _board_with(position: str, **changes: object) -> list[dict]:
    board = organisation_payload()["board"]
    return [{**member, **changes} if member["position"] == position else member for member in board]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"founded_on": "2999-01-01"}, "founded_on"),
        ({"founded_on": "1066-10-14"}, "founded_on"),
        ({"board": _board_with("sekretaris", term_start="2025-01-01", term_end="2024-12-31")}, "board.1.term_end"),
        ({"board": _board_with("ketua", term_start="2025-01-01", term_end="2025-01-01")}, "board.0.term_end"),
        (
            {"founded_on": "2020-01-01", "board": _board_with("bendahara", term_start="2019-06-01")},
            "board.2.term_start",
        ),
    ],
)
def test_impossible_dates_are_refused_naming_the_field(app: RegistryApplication, changes: dict, field: str) -> None:
    caller = applicant(app)
    payload = organisation_payload(**changes)
    assert [member["position"] for member in payload["board"]] == ["ketua", "sekretaris", "bendahara"]
    with pytest.raises(InvalidInput) as refused:
        app.record_organisation(caller, payload)
    assert refused.value.field == field
    assert app.get_account(caller, caller.user_id)["organisation_id"] is None  # nothing was recorded


@pytest.mark.parametrize("name", ["Perkumpulan 漢字 Tionghoa", "Jam'iyyah النهضة", "Paguyuban Sénior Café Ñusantara"])
def test_names_in_other_scripts_are_recorded(app: RegistryApplication, name: str) -> None:
    recorded = app.record_organisation(applicant(app), organisation_payload(name=name))
    assert recorded["name"] == name


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "Ormas Ceria 🙂"}, "name"),
        ({"abbreviation": "OC\ue000"}, "abbreviation"),
        ({"address": {**organisation_payload()["address"], "street": "Jl. Merdeka \U00020000"}}, "address.street"),
    ],
)
def test_a_character_no_letter_can_print_is_refused_naming_the_field(
    app: RegistryApplication, changes: dict, field: str
) -> None:
    caller = applicant(app)
    with pytest.raises(InvalidInput) as refused:
        app.record_organisation(caller, organisation_payload(**changes))
    assert refused.value.field == field and "cannot print" in refused.value.message


def event_names(app: RegistryApplication, aggregate_id: str) -> list[str]:
    return [type(event).__name__ for event in app.repository.event_store.get(UUID(aggregate_id))]


def test_a_sign_up_that_arrives_again_is_done_once_and_tells_no_one_of_a_second_sign_up(
    app: RegistryApplication,
) -> None:
    details = {"email": "sekretaris@ormas.or.id", "password": PASSWORD, "full_name": "Siti"}
    first = app.register_applicant(details, "cmd-sign-up-1")
    again = app.register_applicant(details, "cmd-sign-up-1")  # the broker delivered the call twice
    assert again == first
    assert event_names(app, first["id"]) == ["Registered"]  # no SignUpAttempted: its owner gets no notice
    app.register_applicant(details, "cmd-sign-up-2")  # a second sign-up, a new command: the owner is told
    assert event_names(app, first["id"]) == ["Registered", "SignUpAttempted"]


def test_recording_an_organisation_again_with_the_same_command_returns_it(app: RegistryApplication) -> None:
    caller = applicant(app)
    first = app.record_organisation(caller, organisation_payload(), "cmd-organisation-1")
    assert app.record_organisation(caller, organisation_payload(), "cmd-organisation-1") == first
    with pytest.raises(Conflict):  # another command: the account already manages one
        app.record_organisation(caller, organisation_payload(), "cmd-organisation-2")
    assert event_names(app, first["id"]) == ["Recorded"]


def test_a_confirmation_and_a_new_link_that_arrive_again_are_done_once(app: RegistryApplication) -> None:
    account = app.register_applicant({"email": "sekretaris@ormas.or.id", "password": PASSWORD, "full_name": "Siti"})
    app.resend_confirmation({"email": "sekretaris@ormas.or.id"}, "cmd-resend-1")
    app.resend_confirmation({"email": "sekretaris@ormas.or.id"}, "cmd-resend-1")
    assert event_names(app, account["id"]).count("VerificationIssued") == 1  # one new link, not two
    registry = Signer.generate("registry")
    keyring = Keyring.of(registry)
    token = make_token(registry, account["id"], app.repository.get(UUID(account["id"])).verification_nonce)
    confirmed = app.confirm_email(token, keyring, "cmd-confirm-1")
    assert app.confirm_email(token, keyring, "cmd-confirm-1") == confirmed  # not "confirmed already"
    with pytest.raises(Conflict):  # the link pressed again by the person: a new command
        app.confirm_email(token, keyring, "cmd-confirm-2")


def test_a_staff_account_created_again_by_the_same_command_is_the_same(app: RegistryApplication) -> None:
    admin = Caller(user_id="admin", role=Role.ADMIN)
    staff = {"email": "verifikator@kesbangpol.go.id", "password": PASSWORD, "full_name": "Budi", "role": "verifier"}
    first = app.register_staff(admin, staff, "cmd-staff-1")
    assert app.register_staff(admin, staff, "cmd-staff-1") == first
    with pytest.raises(Conflict):
        app.register_staff(admin, staff, "cmd-staff-2")


def _events(aggregate: type) -> set[str]:
    return {
        name
        for name, value in vars(aggregate).items()
        if isinstance(value, type) and issubclass(value, CanMutateAggregate)
    }


def test_where_an_organisations_mail_goes_cannot_change(app: RegistryApplication) -> None:
    """The notifications service keeps ``notification_contact``'s answer for good (services/notifications/
    contacts.py), because an account's address is its identity and an organisation's owner is fixed when it
    is recorded. An event added to either aggregate may change that, and so may a change to what the answer
    holds (the organisation's own address, which profile changes will edit) or an erasure of personal data:
    make the notifications service ``forget`` the organisation then (in every process), and update this test."""
    caller = applicant(app)
    organisation = app.record_organisation(caller, organisation_payload())
    assert app.notification_contact(organisation["id"])["account_email"] == "sekretaris@ormas.or.id"
    assert _events(Organisation) == {"Created", "Event", "Recorded", "ReportingChanged"}
    assert _events(Account) == {
        "Created", "Event", "Registered", "VerificationIssued", "EmailVerified", "SignUpAttempted", "Reclaimed",
        "OrganisationLinked", "PasswordRehashed",
    }  # fmt: skip
