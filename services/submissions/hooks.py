"""What computes, named in workflow definitions (``hooks = ["issue_output"]``) and run before an action
is recorded. A hook may add aggregates to the action's atomic save and an output to its event."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from contracts.workflow import Action, Workflow
from services.submissions.domain import Case, LetterRegister


@dataclass
class Step:
    case: Case
    workflow: Workflow
    action: Action
    output: dict[str, Any] | None = None
    also_save: list[Aggregate] = field(default_factory=list)


def issue_output(application: Any, step: Step) -> None:
    """Take the next number of the output's gap-free register, in the same save as the action, and
    describe the numbered document (a letter or a receipt) that the documents service will render."""
    state = step.workflow.states[step.action.to] if step.action.to else None
    if state is None or state.output is None:
        raise ValueError(f"{step.workflow.key}.{step.action.event}: issue_output on an action issuing nothing")
    output = step.workflow.outputs[state.output]
    today = application.today()
    register = _register(application, output.register_name, today.year)
    sequence = register.take_next(str(step.case.id))
    step.also_save.append(register)
    step.output = {
        "kind": state.output,
        "template": output.template,
        "number": output.number(sequence, today.year),
        "register_name": output.register_name,
        "year": today.year,
        "sequence": sequence,
        "verification_code": uuid.uuid4().hex,
        "issued_on": today.isoformat(),
        "title": output.title,
        "facts": form_facts(step.case.form),  # what the document may state of the form (a report's content)
    }


def form_facts(form: dict[str, Any] | None) -> dict[str, Any] | None:
    """The form's short values as they are and its lists as counts (200 activities -> 200): enough for a
    document to state what it certifies, small enough to travel on the event; long texts stay in the case."""
    if form is None:
        return None
    facts: dict[str, Any] = {}
    for key, value in form.items():
        if isinstance(value, list):
            facts[key] = len(value)
        elif not isinstance(value, dict) and not (isinstance(value, str) and len(value) > 200):
            facts[key] = value
    return facts


def _register(application: Any, name: str, year: int) -> LetterRegister:
    try:
        register: LetterRegister = application.registers.get(LetterRegister.create_id(name, year))
    except AggregateNotFoundError:
        return LetterRegister.open(name, year)
    return register


HOOKS: dict[str, Callable[[Any, Step], None]] = {"issue_output": issue_output}
