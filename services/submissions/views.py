"""Plain-value views of a case (what RPC callers receive)."""

from __future__ import annotations

from typing import Any

from services.submissions.domain import Case


def case_view(case: Case) -> dict[str, Any]:
    return {
        "id": str(case.id),
        "reference": case.reference,
        "service": case.service,
        "status": case.status,
        "organisation_id": case.organisation_id,
        "organisation_name": case.organisation["name"],
        "attachments": case.attachments,
        "superseded_attachments": case.superseded_attachments,
        "note": case.note,
        "last_reason": case.last_reason,
        "letter": case.letter,
        "version": case.version,
        "created_at": case.created_on.isoformat(),
        "modified_at": case.modified_on.isoformat(),
    }
