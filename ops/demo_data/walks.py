"""The steps a case takes through its workflow to a chosen state, read from the definition alone. Pure.

Any workflow of the catalogue works the same way: a walk follows the actions that move a case towards
its target state, sometimes takes a detour the definition allows (a revision round, a hold) as long as
the target stays reachable, and adds the steps people take on the way without moving the case: a
colleague takes it from the queue, hands it on, an applicant updates a draft, and whatever an action
requires to be done first (the SKM's field visit before forwarding).
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass

from contracts.identity import Role
from contracts.workflow import Action, Need, Workflow

DETOUR_CHANCE = 0.2
MAX_DETOURS = 3
TAKE_CHANCE = 0.6
HAND_ON_CHANCE = 0.04
DRAFT_UPDATE_CHANCE = 0.3


@dataclass(frozen=True)
class Move:
    """One action of a walk and the role of whoever takes it."""

    action: str
    role: Role


def distances_to(workflow: Workflow, target: str) -> dict[str, int]:
    """How many state-changing actions separate each state from ``target`` (states it cannot reach are absent)."""
    into: dict[str, set[str]] = {}
    for action in workflow.actions.values():
        if action.to:
            for state in action.from_states:
                into.setdefault(action.to, set()).add(state)
    distance, queue = {target: 0}, deque([target])
    while queue:
        state = queue.popleft()
        for earlier in into.get(state, ()):
            if earlier not in distance:
                distance[earlier] = distance[state] + 1
                queue.append(earlier)
    return distance


def reachable_states(workflow: Workflow) -> list[str]:
    """The states a case of ``workflow`` can be in (those its filing leads to), in definition order."""
    return [state for state in workflow.states if workflow.initial_state in distances_to(workflow, state)]


def role_for(workflow: Workflow, state: str, action: Action) -> Role:
    """Who takes ``action`` in ``state``: the applicant if they may, else the role whose queue holds the case."""
    if Role.APPLICANT in action.roles:
        return Role.APPLICANT
    queue = workflow.states[state].queue
    return Role(queue) if queue in {role.value for role in action.roles} else action.roles[0]


def walk(workflow: Workflow, target: str, rng: random.Random) -> list[Move]:
    """Every action from the filing to ``target``, in order (empty when the filing itself reaches it)."""
    distance = distances_to(workflow, target)
    if workflow.initial_state not in distance:
        raise ValueError(f"{workflow.key}: state '{target}' cannot be reached from '{workflow.initial_state}'")
    state, done, moves, detours, holder = workflow.initial_state, set[str](), list[Move](), 0, None
    while state != target:
        options = [
            (name, action)
            for name, action in sorted(workflow.actions_from(state).items())
            if action.to and action.to in distance
        ]
        closer = [option for option in options if distance[option[1].to or ""] < distance[state]]
        aside = [option for option in options if option not in closer]
        if aside and detours < MAX_DETOURS and rng.random() < DETOUR_CHANCE:
            name, action = rng.choice(aside)
            detours += 1
        else:
            name, action = rng.choice(closer)
        role = role_for(workflow, state, action)
        for side in _on_the_way(workflow, state, action, role, done, holder, rng):
            moves.append(side)
            done.add(side.action)
            if workflow.actions[side.action].takes:
                holder = side.role
        moves.append(Move(name, role))
        done.add(name)
        state = action.to or state
    return moves


def _on_the_way(
    workflow: Workflow,
    state: str,
    action: Action,
    role: Role,
    done: set[str],
    holder: Role | None,
    rng: random.Random,
) -> list[Move]:
    """The steps that do not move the case, taken in ``state`` before ``action``."""
    here = workflow.actions_from(state)
    steps = [Move(name, role) for name in action.requires_done if name not in done and name in here]
    allowed = {name: a for name, a in here.items() if not a.to and role in a.roles}
    if role is not Role.APPLICANT and holder is not role:
        taking = [name for name, a in allowed.items() if a.takes]
        if taking and rng.random() < TAKE_CHANCE:
            steps.insert(0, Move(taking[0], role))
        handing = [name for name, a in allowed.items() if Need.ASSIGNEE in a.needs]
        if handing and rng.random() < HAND_ON_CHANCE:
            steps.insert(0, Move(handing[0], role))
    if role is Role.APPLICANT:
        updates = [name for name, a in allowed.items() if a.form and name not in action.requires_done]
        if updates and rng.random() < DRAFT_UPDATE_CHANCE:
            steps.insert(0, Move(updates[0], role))
    return steps
