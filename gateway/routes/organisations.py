"""Organisations (ormas) recorded by their board members."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from contracts.organisations import OrganisationCreate
from contracts.paging import DEFAULT_PAGE
from contracts.views import DirectoryPage, OrganisationView, RecordedOrganisation
from gateway.auth import CurrentCaller, issue_token, set_session_cookie
from gateway.commands import CommandId
from gateway.deps import Rpc, SettingsDep
from gateway.openapi import refusals
from gateway.routes import OrganisationId, PageCursor, PageLimit

router = APIRouter(prefix="/api/organisations", tags=["organisations"])

reference = APIRouter(prefix="/api/reference", tags=["reference"])


@reference.get("/regions")
def list_regions(rpc: Rpc) -> dict[str, list[str]]:
    """Kecamatan and their kelurahan, for the address of an organisation (public).

    Example: `GET /api/reference/regions` -> `{"Balikpapan Barat": ["Baru Ilir", "Baru Tengah", ...], ...}`
    """
    return rpc.service("registry").list_regions()


@router.post(
    "",
    response_model=RecordedOrganisation,
    status_code=201,
    responses=refusals(
        forbidden="only applicants record an organisation", conflict="this account already manages an organisation"
    ),
)
def record_organisation(
    payload: OrganisationCreate,
    caller: CurrentCaller,
    response: Response,
    rpc: Rpc,
    settings: SettingsDep,
    command: CommandId,
) -> dict[str, Any]:
    """Record the caller's organisation. Returns it and a new token that carries its id.

    Example: `{"name": "Perkumpulan Warga Gunung Sari", "abbreviation": "PWGS",
    "legal_form": "badan_hukum_perkumpulan", "legal_number": "AHU-0012345.AH.01.07.2024",
    "founded_on": "2020-01-15", "field_of_activity": "Sosial kemasyarakatan",
    "address": {"street": "Jl. Gunung Sari No. 1", "kecamatan": "Balikpapan Tengah",
    "kelurahan": "Gunung Sari Ilir"}, "npwp": "01.234.567.8-901.000", "phone": "0542123456",
    "email": "sekretariat@pwgs.or.id", "board": [{"position": "ketua", "name": "Ahmad",
    "nik": "6471000000000001", "phone": "081234567890", "term_start": "2024-01-01",
    "term_end": "2028-12-31"}, {"position": "sekretaris", ...}, {"position": "bendahara", ...}]}`
    -> `{"organisation": {"id": "...", ...}, "token": "eyJ..."}`
    """
    organisation = rpc.vouched("registry").record_organisation(
        caller, payload.model_dump(mode="json"), command_id=command
    )
    token = issue_token(settings, caller.model_copy(update={"organisation_id": organisation["id"]}))
    set_session_cookie(response, token, settings)
    return {"organisation": organisation, "token": token}


class ReportingStatus(StrEnum):
    UP_TO_DATE = "up_to_date"
    LATE = "late"
    INACTIVE = "inactive"


@router.get("", response_model=DirectoryPage, responses=refusals(forbidden="only staff list organisations"))
def list_organisations(
    caller: CurrentCaller,
    rpc: Rpc,
    reporting_status: Annotated[ReportingStatus | None, Query(description="only organisations in this status")] = None,
    cursor: PageCursor = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> dict[str, Any]:
    """Staff: the directory of recorded organisations with their reporting status, a page at a time (pass a
    page's `next_cursor` as `cursor` for the next). No personal data.

    Example: `GET /api/organisations?reporting_status=inactive&limit=50`
    -> `{"items": [{"organisation_id": "6f1c...", "name": "...", "kecamatan": "...", "reporting_status": "inactive",
    "missed_periods": ["2025-S2", "2026-S1"], ...}], "next_cursor": "WyI2ZjFj..."}`
    """
    status = reporting_status.value if reporting_status else None
    return rpc.service("registry").list_organisations(caller, status, cursor, limit)


@router.get(
    "/{organisation_id}",
    response_model=OrganisationView,
    responses=refusals(forbidden="an applicant may only read their own organisation"),
)
def get_organisation(organisation_id: OrganisationId, caller: CurrentCaller, rpc: Rpc) -> dict[str, Any]:
    """An organisation's profile (own organisation, or any for staff; NIK and phone masked for others).

    Example: `GET /api/organisations/6f1c...` -> `{"id": "6f1c...", "name": "...", "board": [...], ...}`
    """
    return rpc.service("registry").get_organisation(caller, organisation_id)
