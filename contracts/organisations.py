"""RPC payloads of the registry: accounts and organisations."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    EmailStr,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from contracts.printable import describe_unprintable, unprintable_characters
from contracts.text import one_line


def field_error(location: tuple[str | int, ...], message: str, value: object) -> ValidationError:
    """A validation error about one field, raised from a check that needs several fields (a model
    validator), so that the 422 names the field at fault rather than the whole object."""
    detail = InitErrorDetails(type=PydanticCustomError("value_error", message), loc=location, input=value)
    return ValidationError.from_exception_data("value_error", [detail])


EARLIEST_FOUNDING = dt.date(1800, 1, 1)  # older than any ormas on record; earlier is a typing slip


def latest_today() -> dt.date:
    """Today's date at the easternmost edge of the world, so no one's "today" is taken for the future."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=14)).date()


def _printable(text: str) -> str:
    """Refuse what the letters cannot print, rather than printing boxes in an official document."""
    missing = unprintable_characters(text)
    if missing:
        raise ValueError(describe_unprintable(missing))
    return text


PLAIN_NAME = "one line of plain text the letters can print (no control or format characters, no emoji)"
# Text that ends up in a letter: one line of plain text, printable by the shipped fonts (lengths are
# given where it is used, and count after whitespace is collapsed).
Printable = Annotated[str, BeforeValidator(one_line), AfterValidator(_printable)]


def not_in_future(day: dt.date) -> dt.date:
    if day > latest_today():
        raise ValueError("must not be in the future")
    return day


def _founding_date(day: dt.date) -> dt.date:
    if day < EARLIEST_FOUNDING:
        raise ValueError(f"must not be before {EARLIEST_FOUNDING.isoformat()}")
    return not_in_future(day)


class LegalForm(StrEnum):
    PERKUMPULAN = "badan_hukum_perkumpulan"
    YAYASAN = "badan_hukum_yayasan"
    TIDAK_BERBADAN_HUKUM = "tidak_berbadan_hukum"


LEGAL_FORM_LABELS = {
    LegalForm.PERKUMPULAN: "Badan Hukum Perkumpulan",
    LegalForm.YAYASAN: "Badan Hukum Yayasan",
    LegalForm.TIDAK_BERBADAN_HUKUM: "Tidak Berbadan Hukum",
}


class BoardPosition(StrEnum):
    KETUA = "ketua"
    SEKRETARIS = "sekretaris"
    BENDAHARA = "bendahara"


class BoardMember(BaseModel):
    position: BoardPosition
    name: Annotated[Printable, Field(min_length=2, max_length=120)]
    nik: str = Field(pattern=r"^\d{16}$", description="16-digit national identity number (personal data)")
    phone: str = Field(pattern=r"^\+?\d{8,15}$")
    term_start: dt.date
    term_end: dt.date

    @model_validator(mode="after")
    def _term_ends_after_it_starts(self) -> BoardMember:
        if self.term_end <= self.term_start:
            # Raised on the field: the message names board.N.term_end, not the whole member.
            raise field_error(("term_end",), "must be after term_start", self.term_end)
        return self


class Address(BaseModel):
    street: Annotated[Printable, Field(min_length=3, max_length=200)]
    kecamatan: Annotated[Printable, Field(min_length=2, max_length=80)]
    kelurahan: Annotated[Printable, Field(min_length=2, max_length=80)]


class OrganisationCreate(BaseModel):
    name: Annotated[Printable, Field(min_length=3, max_length=200)]
    abbreviation: Annotated[Printable, Field(min_length=1, max_length=30)] | None = None
    legal_form: LegalForm
    legal_number: Annotated[Printable, Field(min_length=3, max_length=80)] = Field(
        description="AHU number or SKT number"
    )
    founded_on: Annotated[dt.date, AfterValidator(_founding_date)]
    field_of_activity: Annotated[Printable, Field(min_length=2, max_length=120)]
    address: Address
    npwp: str = Field(pattern=r"^[\d.\-]{15,20}$")
    phone: str = Field(pattern=r"^\+?\d{8,15}$")
    email: EmailStr
    board: list[BoardMember] = Field(min_length=3, max_length=3)

    @field_validator("board")
    @classmethod
    def _one_of_each_position(cls, board: list[BoardMember]) -> list[BoardMember]:
        positions = sorted(member.position.value for member in board)
        if positions != sorted(position.value for position in BoardPosition):
            raise ValueError("board needs exactly one ketua, one sekretaris and one bendahara")
        return board

    @model_validator(mode="after")
    def _board_term_not_before_founding(self) -> OrganisationCreate:
        for index, member in enumerate(self.board):
            if member.term_start < self.founded_on:
                raise field_error(
                    ("board", index, "term_start"),
                    "must not be before the founding date (founded_on)",
                    member.term_start,
                )
        return self


class AccountCreate(BaseModel):
    email: EmailStr
    password: str = Field(min_length=10, max_length=200)
    full_name: Annotated[Printable, Field(min_length=2, max_length=120, description=PLAIN_NAME)]


class StaffAccountCreate(AccountCreate):
    role: str = Field(pattern="^(verifier|approver|admin|auditor)$")


class Credentials(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=200)


# How long a mailed link confirms an address, and how long an account may stay unconfirmed.
CONFIRMATION_LINK_HOURS = 24
UNCONFIRMED_ACCOUNT_DAYS = 7


class AddressOnly(BaseModel):
    """An e-mail address alone (asking for a new confirmation link)."""

    email: EmailStr


class ConfirmationToken(BaseModel):
    token: str = Field(min_length=10, max_length=300, pattern=r"^[A-Za-z0-9_.\-]+$")
