"""What an applicant types cannot forge a letter: names are one line of plain text (issue 14, point 6)."""

from __future__ import annotations

import pytest

from contracts.errors import InvalidInput
from contracts.identity import Caller, Role
from contracts.text import one_line
from services.registry.application import RegistryApplication
from tests.support.factories import organisation_payload


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  Perkumpulan   Pemuda\u00a0Peduli  ", "Perkumpulan Pemuda Peduli"),  # whitespace collapsed
        ("Cafe\u0301 Nusantara", "Café Nusantara"),  # NFC: one code point for é
    ],
)
def test_names_are_normalised(typed: str, stored: str) -> None:
    assert one_line(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "Perkumpulan Pemuda\nStatus : DIBEKUKAN OLEH KESBANGPOL",  # an extra row in the letter
        "Perkumpulan\r\nPemuda",
        "Perkumpulan\tPemuda",
        "Perkumpulan \u202eadiuqiL",  # right-to-left override: shows other text than is stored
        "Perkumpulan\u200bPemuda",  # zero-width space
        "Perkumpulan\u2028Pemuda",  # line separator
        "Perkumpulan\x00Pemuda",
    ],
)
def test_control_format_and_separator_characters_are_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="single line|plain text"):
        one_line(typed)


@pytest.fixture
def app() -> RegistryApplication:
    return RegistryApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def applicant(app: RegistryApplication) -> Caller:
    account = app.register_applicant({"email": "s@ormas.or.id", "password": "rahasia-12345", "full_name": "Siti"})
    app.confirm_directly(account["id"])
    return Caller(user_id=account["id"], role=Role.APPLICANT)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "Ormas\nStatus : DIBEKUKAN"}, "name"),
        ({"abbreviation": "P3B\u202e"}, "abbreviation"),
        ({"address": {**organisation_payload()["address"], "street": "Jl. Sudirman\n\n\nNo. 12"}}, "address.street"),
        (
            {
                "board": [
                    {**organisation_payload()["board"][0], "name": "Budi\u200fSantoso"},
                    *organisation_payload()["board"][1:],
                ]
            },
            "board.0.name",
        ),
        ({"legal_number": "AHU-1\n2"}, "legal_number"),
    ],
)
def test_a_forged_name_is_422_naming_the_field_and_records_nothing(
    app: RegistryApplication, changes: dict, field: str
) -> None:
    caller = applicant(app)
    with pytest.raises(InvalidInput) as refused:
        app.record_organisation(caller, organisation_payload(**changes))
    assert refused.value.field == field
    assert app.get_account(caller, caller.user_id)["organisation_id"] is None


def test_the_stored_name_is_the_normalised_one(app: RegistryApplication) -> None:
    recorded = app.record_organisation(applicant(app), organisation_payload(name="  Paguyuban   Cafe\u0301  "))
    assert recorded["name"] == "Paguyuban Café"


def test_a_person_name_with_a_line_break_is_refused_at_sign_up(app: RegistryApplication) -> None:
    with pytest.raises(InvalidInput) as refused:
        app.register_applicant({"email": "x@ormas.or.id", "password": "rahasia-12345", "full_name": "Siti\nAdmin"})
    assert refused.value.field == "full_name"
