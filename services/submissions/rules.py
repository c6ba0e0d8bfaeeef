"""May this caller take this action on this case now, with what they sent? Checked against the
workflow definition before anything is recorded; every refusal names what is wrong."""

from __future__ import annotations

import datetime as dt

from contracts.cases import ActionRequest
from contracts.errors import Conflict, InvalidInput, NotFound
from contracts.forms import FORMS
from contracts.identity import Caller, Role
from contracts.validation import parse
from contracts.workflow import Action, Need, Workflow
from services.submissions.domain import Case
from services.submissions.filing import check_sendable, check_step_form


def check_action(
    workflow: Workflow, case: Case, name: str, caller: Caller, request: ActionRequest, today: dt.date
) -> Action:
    action = workflow.action(name)
    if action is None:
        known = ", ".join(sorted(workflow.actions))
        raise NotFound(f"'{workflow.label}' has no action '{name}' (actions: {known})", field="action")
    caller.require(*action.roles)
    if case.state not in action.from_states:
        label = workflow.states[case.state].label if case.state in workflow.states else case.state
        raise Conflict(f"cannot {name} a case that is {case.state} ({label})", field="status")
    missing = [done for done in action.requires_done if done not in case.done_actions]
    if missing:
        labels = ", ".join(workflow.actions[done].label for done in missing)
        raise Conflict(f"first: {labels}", field="action")
    _check_needs(action, request, caller)
    _check_period(workflow, case, action, request, today)
    return action


def _check_period(workflow: Workflow, case: Case, action: Action, request: ActionRequest, today: dt.date) -> None:
    """A periodic case (a report) stays about its period; it leaves its draft only once it may be sent,
    and what goes to the office says what happened (filing.py states the rules)."""
    goes_out = (action.to or case.state) != workflow.initial_state
    if request.form is not None:
        check_step_form(workflow, case.subject, request.form, complete=goes_out)
    if case.state == workflow.initial_state and goes_out:
        check_sendable(workflow, case.subject, request.form or case.form, today)


def _check_needs(action: Action, request: ActionRequest, caller: Caller) -> None:
    if Need.REASON in action.needs and not request.reason:
        raise InvalidInput("a reason is required for this action", field="reason")
    if Need.REASON not in action.needs and request.reason:
        raise InvalidInput("this action takes no reason (use note)", field="reason")
    if Need.FILES in action.needs and not request.attachments:
        raise InvalidInput("attach at least one file", field="attachments")
    if request.attachments and Need.FILES not in action.needs and Need.FORM not in action.needs:
        raise InvalidInput("this action takes no files", field="attachments")
    for index, attachment in enumerate(request.attachments):
        if attachment.kind.value not in action.file_kinds:
            allowed = ", ".join(action.file_kinds) or "none"
            raise InvalidInput(f"this action takes files of kinds: {allowed}", field=f"attachments.{index}.kind")
    if action.form:
        if request.form is None:
            if Need.FORM in action.needs:
                raise InvalidInput("the form is required for this action", field="form")
        else:
            request.form = _parsed_form(action.form, request.form)
    elif request.form is not None:
        raise InvalidInput("this action takes no form", field="form")
    if Need.ASSIGNEE in action.needs:
        if request.assignee is None:
            raise InvalidInput("name the colleague to hand the case to", field="assignee")
        if (
            request.assignee.role not in {role.value for role in action.roles}
            or request.assignee.role == Role.APPLICANT
        ):
            raise InvalidInput("the case can only be handed to staff who may work on it", field="assignee.role")
    elif action.takes:
        if request.assignee is not None and request.assignee.id != caller.user_id:
            raise InvalidInput("this action names no assignee", field="assignee")  # one takes a case for oneself
    elif request.assignee is not None:
        raise InvalidInput("this action names no assignee", field="assignee")


def _parsed_form(name: str, data: dict[str, object]) -> dict[str, object]:
    try:
        return parse(FORMS[name], data).model_dump(mode="json")
    except InvalidInput as error:
        raise InvalidInput(error.message, field=f"form.{error.field}") from None
