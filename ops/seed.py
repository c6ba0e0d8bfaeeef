"""Demo data: one account per staff role and one ormas with its secretary's account.

Passwords are random per installation and kept in var/demo-credentials.txt (mode 600), so a second
run prints the same ones instead of failing on accounts that already exist.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from pathlib import Path
from typing import Any

from contracts.errors import Conflict
from contracts.identity import Caller, Role
from infra.settings import Settings
from ops.sources import open_source
from services.registry.application import RegistryApplication

STAFF = (
    ("admin@kesbangpol.balikpapan.go.id", "Admin Satu Ormas", "admin"),
    ("verifikator@kesbangpol.balikpapan.go.id", "Rina Verifikator", "verifier"),
    ("kabid@kesbangpol.balikpapan.go.id", "Kepala Bidang Poldagri & Ormas", "approver"),
    ("auditor@inspektorat.balikpapan.go.id", "Auditor Inspektorat", "auditor"),
)
APPLICANT = ("sekretaris@ormas-demo.or.id", "Siti Sekretaris")

DEMO_ORGANISATION: dict[str, Any] = {
    "name": "Perkumpulan Pemuda Peduli Balikpapan",
    "abbreviation": "P3B",
    "legal_form": "badan_hukum_perkumpulan",
    "legal_number": "AHU-0012345.AH.01.07.2024",
    "founded_on": "2019-03-17",
    "field_of_activity": "Sosial kemasyarakatan",
    "address": {
        "street": "Jl. Jenderal Sudirman No. 12",
        "kecamatan": "Balikpapan Kota",
        "kelurahan": "Klandasan Ilir",
    },
    "npwp": "01.234.567.8-721.000",
    "phone": "0542123456",
    "email": "sekretariat@ormas-demo.or.id",
    "board": [
        {"position": "ketua", "name": "Budi Santoso", "nik": "6471010101800001", "phone": "081234567801",
         "term_start": "2024-01-01", "term_end": "2028-12-31"},
        {"position": "sekretaris", "name": "Siti Sekretaris", "nik": "6471014101850002", "phone": "081234567802",
         "term_start": "2024-01-01", "term_end": "2028-12-31"},
        {"position": "bendahara", "name": "Andi Bendahara", "nik": "6471010202900003", "phone": "081234567803",
         "term_start": "2024-01-01", "term_end": "2028-12-31"},
    ],
}  # fmt: skip


def _credentials(path: Path) -> dict[str, str]:
    if path.exists():
        return json.loads(path.read_text())
    emails = [email for email, _, _ in STAFF] + [APPLICANT[0]]
    passwords = {email: secrets.token_urlsafe(12) for email in emails}
    path.write_text(json.dumps(passwords, indent=2))
    path.chmod(0o600)
    return passwords


def seed(settings: Settings) -> dict[str, str]:
    """The demo accounts and ormas, made through the registry's application on its own store: the explicit
    bootstrap path (no part on the broker may create staff accounts in the system's name)."""
    passwords = _credentials(settings.var_dir / "demo-credentials.txt")
    source = open_source("registry", settings)
    registry: RegistryApplication = source.application  # type: ignore[assignment]
    try:
        for email, name, role in STAFF:
            _ignore_existing(
                lambda e=email, n=name, r=role: registry.bootstrap_staff(
                    {"email": e, "password": passwords[e], "full_name": n, "role": r}
                )
            )
        email, name = APPLICANT
        _ignore_existing(
            lambda: registry.register_applicant({"email": email, "password": passwords[email], "full_name": name})
        )
        account = registry.authenticate({"email": email, "password": passwords[email]})
        registry.confirm_directly(account["id"])  # the demo's address is confirmed by the operator
        if account["organisation_id"] is None:
            registry.record_organisation(Caller(user_id=account["id"], role=Role.APPLICANT), DEMO_ORGANISATION)
    finally:
        source.close()
    return passwords


def _ignore_existing(create: Any) -> None:
    with contextlib.suppress(Conflict):  # seeded before
        create()
