"""May this filing open a case of this workflow? Checked against the definition before anything is
recorded: the files it needs, its form, and — for a periodic obligation — the period it is for."""

from __future__ import annotations

import datetime as dt
from typing import Any

from contracts.cases import CaseSubmission
from contracts.errors import InvalidInput
from contracts.forms import FORMS
from contracts.validation import parse
from contracts.workflow import Workflow


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
    _check_period(workflow, form, today)
    return form


def subject_of(workflow: Workflow, form: dict[str, Any] | None) -> str | None:
    """What the case is the one of, for a workflow with ``one_per`` (the report's period)."""
    if "period" in workflow.filing.one_per and form is not None:
        return str(form["period"])
    return None


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


def _check_period(workflow: Workflow, form: dict[str, Any], today: dt.date) -> None:
    if workflow.deadline is None or "period" not in form:
        return
    try:
        period = workflow.deadline.period(str(form["period"]))
    except ValueError as error:
        raise InvalidInput(str(error), field="form.period") from None
    if period.starts_on > today:
        raise InvalidInput("a report can only be made once its period has begun", field="form.period")
