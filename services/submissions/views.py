"""Plain-value views of a case (what RPC callers receive), with its service-level clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from contracts.workflow import Workflow
from services.submissions.clock import Calendar, ClockChange, sla_status
from services.submissions.domain import Case


def case_view(case: Case, workflow: Workflow | None, calendar: Calendar, now: dt.datetime) -> dict[str, Any]:
    state = workflow.states.get(case.state) if workflow else None
    changes = [
        ClockChange(change["at"], change["state"], change["by"], change["reason"]) for change in case.clock_changes
    ]
    sla_days = workflow.sla_days if workflow else None
    return {
        "id": str(case.id),
        "reference": case.reference,
        "service": case.workflow,
        "workflow_version": case.workflow_version,
        "status": case.state,
        "status_label": state.label if state else case.state,
        "organisation_id": case.organisation_id,
        "organisation_name": case.organisation["name"],
        "attachments": case.attachments,
        "superseded_attachments": case.superseded_attachments,
        "note": case.note,
        "form": case.form,
        "subject": case.subject,
        "last_reason": case.last_reason,
        "assignee": case.assignee,
        "letter": case.letter,
        "actions_done": list(case.done_actions),
        "actions_open": sorted(workflow.actions_from(case.state)) if workflow else [],
        "sla": sla_status(calendar, changes, sla_days, now).as_dict(),
        "clock_changes": [
            {"at": change.at.isoformat(), "clock": change.state, "by": change.by, "reason": change.reason}
            for change in changes
        ],
        "version": case.version,
        "created_at": case.created_on.isoformat(),
        "modified_at": case.modified_on.isoformat(),
    }


def clock_changes(case: Case) -> list[ClockChange]:
    return [ClockChange(c["at"], c["state"], c["by"], c["reason"]) for c in case.clock_changes]
