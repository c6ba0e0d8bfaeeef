"""May this filing open a case of this workflow? Checked against the definition before anything is
recorded: the files it needs, its form, and — for a periodic obligation — the period it is for.

The period rules of a report (also applied to the forms of later steps, see rules.py):
- a report is for one of the definition's periods ("2026-S1"), and may be drafted from the period's
  first day on (activities are added as they happen), never for a period not yet begun;
- its activities lie in the period, and "no activity" lists none;
- a later step's form (a draft's update, a corrected report) stays about the same period: the case is
  *the* report of its organisation and period (its id is derived from them);
- it is sent to the office from the first day of the period's last month (``periods.sendable_from``) and
  must then say what happened: the activities, or that there were none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from contracts.cases import CaseSubmission
from contracts.errors import Conflict, InvalidInput
from contracts.forms import FORMS
from contracts.validation import parse
from contracts.workflow import PeriodDue, Workflow
from services.submissions.periods import sendable_from


def checked_form(workflow: Workflow, data: CaseSubmission, today: dt.date) -> dict[str, Any] | None:
    """The filing's form, validated (None for a workflow without one); files checked too."""
    _check_files(workflow, data)
    if workflow.filing.form is None:
        if data.form is not None:
            raise InvalidInput(f"'{workflow.label}' takes no form", field="form")
        return None
    if data.form is None:
        raise InvalidInput("the form is required", field="form")
    try:
        form = parse(FORMS[workflow.filing.form], data.form).model_dump(mode="json")
    except InvalidInput as error:
        raise InvalidInput(error.message, field=f"form.{error.field}") from None
    period = period_of(workflow, form)
    if period is not None:
        if period.starts_on > today:
            raise InvalidInput("a report can only be made once its period has begun", field="form.period")
        _check_activities(form, period)
    return form


def subject_of(workflow: Workflow, form: dict[str, Any] | None) -> str | None:
    """What the case is the one of, for a workflow with ``one_per`` (the report's period)."""
    if "period" in workflow.filing.one_per and form is not None:
        return str(form["period"])
    return None


def period_of(workflow: Workflow, form: dict[str, Any] | None) -> PeriodDue | None:
    """The period a form is about, for a periodic obligation's form; 422 naming form.period if it is none."""
    if workflow.deadline is None or form is None or "period" not in form:
        return None
    try:
        return workflow.deadline.period(str(form["period"]))
    except ValueError as error:
        raise InvalidInput(str(error), field="form.period") from None


def check_step_form(workflow: Workflow, subject: str | None, form: dict[str, Any], complete: bool) -> None:
    """A form sent with a later step of a periodic case: about the case's own period, consistent, and —
    when it goes to the office (``complete``) — saying what happened."""
    period = period_of(workflow, form)
    if period is None or subject is None:
        return
    if period.key != subject:
        raise InvalidInput(f"this report is for {subject}; file a new report for {period.key}", field="form.period")
    _check_activities(form, period)
    if complete and not form.get("activities") and not form.get("no_activity"):
        raise InvalidInput("list the period's activities, or report that there were none", field="form.activities")


def check_sendable(workflow: Workflow, subject: str | None, form: dict[str, Any] | None, today: dt.date) -> None:
    """May a periodic case's report leave its draft for the office today, as it stands?"""
    period = period_of(workflow, form)
    if period is None or subject is None or form is None:
        return
    if today < sendable_from(period):
        raise Conflict(
            f"a report for {period.key} can be sent from {sendable_from(period).isoformat()}", field="form.period"
        )
    check_step_form(workflow, subject, form, complete=True)


def _check_activities(form: dict[str, Any], period: PeriodDue) -> None:
    activities = form.get("activities") or []
    if activities and form.get("no_activity"):
        raise InvalidInput("a report of no activity lists no activities", field="form.no_activity")
    for index, activity in enumerate(activities):
        if not period.starts_on <= dt.date.fromisoformat(str(activity["held_on"])) <= period.ends_on:
            raise InvalidInput(
                f"an activity of {period.key} is held between {period.starts_on} and {period.ends_on}",
                field=f"form.activities.{index}.held_on",
            )


def _check_files(workflow: Workflow, data: CaseSubmission) -> None:
    filing = workflow.filing
    allowed = set(filing.required_files) | set(filing.optional_files)
    for index, attachment in enumerate(data.attachments):
        if attachment.kind.value not in allowed:
            raise InvalidInput(
                f"'{workflow.label}' takes files of kinds: {', '.join(sorted(allowed)) or 'none'}",
                field=f"attachments.{index}.kind",
            )
    missing = [kind for kind in filing.required_files if kind not in {a.kind.value for a in data.attachments}]
    if missing:
        raise InvalidInput(f"attach: {', '.join(missing)}", field="attachments")
    if len(data.attachments) < filing.min_files:
        raise InvalidInput(f"attach at least {filing.min_files} file(s)", field="attachments")


def filing_digest(data: CaseSubmission) -> str:
    """A fingerprint of what a filing asks for, without its idempotency key."""
    canonical = json.dumps(data.model_dump(mode="json", exclude={"request_key"}), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def letter_snapshot(organisation: dict[str, Any]) -> dict[str, Any]:
    """What a letter prints about the organisation, frozen at filing time (no personal data)."""
    chair = next((m["name"] for m in organisation.get("board", []) if m.get("position") == "ketua"), "")
    address = organisation.get("address", {})
    return {
        "name": organisation["name"],
        "abbreviation": organisation.get("abbreviation"),
        "legal_form": organisation.get("legal_form", ""),
        "street": address.get("street", ""),
        "kelurahan": address.get("kelurahan", ""),
        "kecamatan": address.get("kecamatan", ""),
        "chair_name": chair,
    }
