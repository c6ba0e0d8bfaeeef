"""What the registry shows of its aggregates. Personal data (NIK, phone) is masked unless asked for."""

from __future__ import annotations

import copy
from typing import Any

from services.registry.domain import Account, Organisation


def mask(value: str, keep_start: int = 4, keep_end: int = 2) -> str:
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


def account_view(account: Account) -> dict[str, Any]:
    return {
        "id": str(account.id),
        "email": account.email,
        "full_name": account.full_name,
        "role": account.role,
        "organisation_id": account.organisation_id,
    }


def organisation_view(organisation: Organisation, full_personal_data: bool) -> dict[str, Any]:
    profile = copy.deepcopy(organisation.profile)
    if not full_personal_data:
        for member in profile["board"]:
            member["nik"] = mask(member["nik"])
            member["phone"] = mask(member["phone"], keep_start=3, keep_end=2)
    return {
        "id": str(organisation.id),
        "status": organisation.status,
        "recorded_at": organisation.created_on.isoformat(),
        "reporting_status": organisation.reporting_status,
        "missed_reports": sorted(organisation.missed_reports),
        "owner_id": organisation.owner_id,
        "version": organisation.version,
        **profile,
    }
