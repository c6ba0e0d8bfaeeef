"""Drive the submissions application directly (no broker): used by integration tests and benches."""

from __future__ import annotations

from typing import Any

from contracts.identity import Caller, Role
from services.submissions.application import SubmissionsApplication
from tests.support.factories import attachment, organisation_snapshot

APPLICANT = Caller(user_id="u-applicant", role=Role.APPLICANT, organisation_id="org-1")
VERIFIER = Caller(user_id="u-verifier", role=Role.VERIFIER)
APPROVER = Caller(user_id="u-approver", role=Role.APPROVER)


def submit(app: SubmissionsApplication, applicant: Caller = APPLICANT) -> dict[str, Any]:
    organisation = organisation_snapshot(applicant.organisation_id or "org-1")
    return app.submit_case(applicant, organisation, {"attachments": [attachment()]})


def approved_case(app: SubmissionsApplication, with_revision: bool = True) -> dict[str, Any]:
    case = submit(app)
    if with_revision:
        app.request_revision(VERIFIER, case["id"], {"reason": "Lampiran NPWP buram"})
        app.resubmit(APPLICANT, case["id"], {"attachments": [attachment("npwp")]})
    app.forward(VERIFIER, case["id"], {})
    return app.approve(APPROVER, case["id"], {})
