"""Public letter verification (no sign-in): where the QR code on every letter points."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from contracts.errors import InvalidInput, NotFound
from contracts.views import Verification
from gateway import pages
from gateway.deps import Rpc, SettingsDep

router = APIRouter(tags=["verification"])

_MAX_CODE = 128


@router.get("/api/verify/{code}", response_model=Verification)
def verify_letter(code: Annotated[str, Path(max_length=_MAX_CODE)], rpc: Rpc) -> dict[str, Any]:
    """Is the letter with this verification code genuine? (404 if it was never issued)

    Example: `GET /api/verify/K7Q2M9XA` -> `{"genuine": true, "status": "valid",
    "number": "500.1/0001/KESBANGPOL/2026", "title": "SURAT KETERANGAN MELAPOR",
    "organisation_name": "...", "issued_on": "2026-03-12", "issuer": "Badan Kesatuan Bangsa dan Politik ..."}`
    """
    return rpc.vouched("documents").verify_letter(code)


# A page for people (it answers errors with pages too), not an API operation: GET /api/verify/{code} is that.
@router.get("/verify/{code}", response_class=HTMLResponse, include_in_schema=False)
def verify_page(code: str, request: Request, rpc: Rpc, settings: SettingsDep) -> Response:
    """The page a phone opens from the QR code: "Surat ini asli" with the letter's details, or 404.

    Example: `GET /verify/K7Q2M9XA` -> an HTML page in Bahasa Indonesia.
    """
    issuer = request.app.state.words.issuer
    try:
        if len(code) > _MAX_CODE:
            raise NotFound("verification code too long")
        letter = rpc.vouched("documents").verify_letter(code)
    except (NotFound, InvalidInput):
        context = {"code": code[:_MAX_CODE], "issuer": issuer}
        return pages.render(request, "verify_not_found.html", context, status_code=404)
    except pages.FAILED:  # the documents service or its database away: a page saying so, not JSON
        return pages.problem(request, 503)
    context = {
        "letter": letter,
        "issuer": letter.get("issuer") or issuer,
        "issued_on": pages.indonesian_date(str(letter.get("issued_on", ""))),
        "status": pages.status_label(str(letter.get("status", ""))),
    }
    return pages.render(request, "verify.html", context)
