"""Drive the submissions application directly (no broker): used by integration tests and benches."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

from eventsourcing.persistence import StoredEvent

from contracts.identity import Caller, Role
from services.submissions.application import SubmissionsApplication
from tests.support.factories import attachment, organisation_snapshot

WALKING_SKELETON_EVENTS = Path(__file__).parents[1] / "fixtures" / "walking_skeleton_skm_events.json"

APPLICANT = Caller(user_id="u-applicant", role=Role.APPLICANT, organisation_id="org-1")
VERIFIER = Caller(user_id="u-verifier", role=Role.VERIFIER)
APPROVER = Caller(user_id="u-approver", role=Role.APPROVER)


def submit(app: SubmissionsApplication, applicant: Caller = APPLICANT) -> dict[str, Any]:
    organisation = organisation_snapshot(applicant.organisation_id or "org-1")
    return app.submit_case(applicant, organisation, {"attachments": [attachment()]})


FIELD_VISIT: dict[str, Any] = {
    "form": {
        "visited_on": "2026-11-20",
        "officers": ["Rina Verifikator", "Joko Staf"],
        "findings": "Sekretariat ada dan papan nama terpasang",
        "office_matches_address": True,
    },
    "attachments": [attachment("field_photo")],
}


def forward(app: SubmissionsApplication, case_id: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """Record the field visit the SKM definition asks for (unless done), then forward to the approver."""
    if "record_field_visit" not in app.get_case(VERIFIER, case_id)["actions_done"]:
        app.act(VERIFIER, case_id, "record_field_visit", FIELD_VISIT)
    return app.act(VERIFIER, case_id, "forward", payload or {})


def approved_case(app: SubmissionsApplication, with_revision: bool = True) -> dict[str, Any]:
    case = submit(app)
    if with_revision:
        app.act(VERIFIER, case["id"], "request_revision", {"reason": "Lampiran NPWP buram"})
        app.act(APPLICANT, case["id"], "resubmit", {"attachments": [attachment("npwp")]})
    forward(app, case["id"])
    return app.act(APPROVER, case["id"], "approve", {})


def two_letters_and_a_filing(app: SubmissionsApplication) -> None:
    """A small history: two cases approved (one after a revision), one just filed."""
    approved_case(app)
    approved_case(app, with_revision=False)
    submit(app)


COLLEAGUE = {"id": "u-rina", "role": "verifier", "name": "Rina"}


def worked_case(app: SubmissionsApplication) -> str:
    """A case through every kind of step that moves a column of the case list: filed (the clock runs), taken,
    announced overdue, visited, handed to a colleague, forwarded, taken by the approver, held (the clock
    pauses), released, approved with a letter (the clock stops). Returns its id."""
    case_id = str(submit(app)["id"])
    app.act(VERIFIER, case_id, "take", {})
    app.announce_overdue([case_id], app.now() + dt.timedelta(days=60))
    app.act(VERIFIER, case_id, "record_field_visit", FIELD_VISIT)
    app.act(VERIFIER, case_id, "assign", {"assignee": COLLEAGUE, "note": "Cuti"})
    app.act(VERIFIER, case_id, "forward", {})
    app.act(APPROVER, case_id, "take", {})
    app.act(APPROVER, case_id, "hold", {"reason": "Menunggu evaluasi tim"})
    app.act(APPROVER, case_id, "release", {"note": "Evaluasi selesai"})
    app.act(APPROVER, case_id, "approve", {})
    return case_id


def load_walking_skeleton_events(app: SubmissionsApplication) -> dict[str, Any]:
    """Store, as they are, events the walking skeleton recorded (old topics, old fields); returns the fixture
    (its events and each case's view as the walking skeleton showed it)."""
    fixture: dict[str, Any] = json.loads(WALKING_SKELETON_EVENTS.read_text())
    stored = [
        StoredEvent(
            originator_id=uuid.UUID(record["originator_id"]),
            originator_version=record["originator_version"],
            topic=record["topic"],
            state=record["state"].encode(),
        )
        for record in fixture["events"]
    ]
    app.recorder.insert_events(stored)
    return fixture


HALF_YEAR_REPORT: dict[str, Any] = {
    "period": "2026-S1",
    "activities": [{"held_on": "2026-03-14", "title": "Kerja bakti lingkungan Klandasan Ilir"}],
    "signed_by_chair": "Budi Santoso",
    "signed_by_secretary": "Siti Sekretaris",
}


def accepted_report(app: SubmissionsApplication) -> str:
    """A half-yearly report drafted (no clock), updated, sent (the filing: its time is the case's), and
    accepted with a numbered receipt. Returns its id."""
    opened = app.submit_case(APPLICANT, organisation_snapshot(), {"service": "report", "form": HALF_YEAR_REPORT})
    case_id = str(opened["id"])
    app.act(APPLICANT, case_id, "update_draft", {"form": {**HALF_YEAR_REPORT, "activities": [], "no_activity": True}})
    app.act(APPLICANT, case_id, "submit", {})
    app.act(VERIFIER, case_id, "accept", {"note": "Lengkap"})
    return case_id
