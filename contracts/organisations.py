"""RPC payloads of the registry: accounts and organisations."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, EmailStr, Field, field_validator


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
    name: str = Field(min_length=2, max_length=120)
    nik: str = Field(pattern=r"^\d{16}$", description="16-digit national identity number (personal data)")
    phone: str = Field(pattern=r"^\+?\d{8,15}$")
    term_start: dt.date
    term_end: dt.date


class Address(BaseModel):
    street: str = Field(min_length=3, max_length=200)
    kecamatan: str = Field(min_length=2, max_length=80)
    kelurahan: str = Field(min_length=2, max_length=80)


class OrganisationCreate(BaseModel):
    name: str = Field(min_length=3, max_length=200)
    abbreviation: str | None = Field(default=None, max_length=30)
    legal_form: LegalForm
    legal_number: str = Field(min_length=3, max_length=80, description="AHU number or SKT number")
    founded_on: dt.date
    field_of_activity: str = Field(min_length=2, max_length=120)
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


class AccountCreate(BaseModel):
    email: EmailStr
    password: str = Field(min_length=10, max_length=200)
    full_name: str = Field(min_length=2, max_length=120)


class StaffAccountCreate(AccountCreate):
    role: str = Field(pattern="^(verifier|approver|admin|auditor)$")


class Credentials(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=200)
