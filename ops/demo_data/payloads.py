"""What people send with each filing and step of a generated case: files, notes, reasons, the forms the
workflow names, the colleague a case is handed to. Pure: every value comes from the given ``random.Random``."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

from contracts.identity import Role
from contracts.workflow import Action, Need, PeriodDue, Workflow
from ops.demo_data import people
from ops.demo_data.walks import Move


class CaseContext:
    """What one case's payloads are made of: its workflow, period, organisation and office colleagues."""

    def __init__(
        self,
        workflow: Workflow,
        period: PeriodDue | None,
        profile: dict[str, Any],
        roster: dict[Role, list[dict[str, str]]],
        staff: dict[Role, int],
        zone: ZoneInfo,
        rng: random.Random,
    ) -> None:
        self.workflow, self.period, self.roster, self.zone, self.rng = workflow, period, roster, zone, rng
        self.board = {member["position"]: member["name"] for member in profile["board"]}
        self.staff = dict(staff)  # who of each role works on the case (a hand-on changes it)

    def filing(self, at: dt.datetime) -> dict[str, Any]:
        filing, rng = self.workflow.filing, self.rng
        kinds = list(filing.required_files)
        optional = [kind for kind in filing.optional_files if kind not in kinds]
        extra = max(filing.min_files - len(kinds), 0)
        kinds += rng.sample(optional, min(len(optional), rng.randint(extra, max(extra, len(optional) * 2 // 3))))
        payload: dict[str, Any] = {
            "service": self.workflow.key,
            "attachments": [people.attachment(rng, kind) for kind in kinds],
            "request_key": f"demo-{rng.getrandbits(64):016x}",
        }
        if rng.random() < 0.4:
            payload["note"] = rng.choice(people.NOTES)
        if filing.form:
            payload["form"] = self.form(filing.form, at)
        return payload

    def holder(self, move: Move, action: Action) -> int | None:
        """The colleague who takes ``move`` (after handing it on, the colleague it was handed to)."""
        if move.role is Role.APPLICANT:
            return None
        return self.staff.get(move.role, 0)

    def payload(self, move: Move, action: Action, at: dt.datetime) -> dict[str, Any]:
        rng = self.rng
        body: dict[str, Any] = {"command_id": f"demo-{rng.getrandbits(64):016x}"}
        if Need.REASON in action.needs:
            body["reason"] = rng.choice(people.REASONS)
        if Need.NOTE in action.needs and rng.random() < 0.7:
            body["note"] = rng.choice(people.NOTES)
        if Need.FILES in action.needs:
            body["attachments"] = [people.attachment(rng, kind) for kind in rng.sample(action.file_kinds, 1)]
        if action.form and (Need.FORM in action.needs or rng.random() < 0.5):
            body["form"] = self.form(action.form, at)
        members = self.roster.get(move.role, [])
        if Need.ASSIGNEE in action.needs and members:
            colleague = (self.staff.get(move.role, 0) + 1 + rng.randrange(max(len(members) - 1, 1))) % len(members)
            body["assignee"] = _colleague(members[colleague])
            self.staff[move.role] = colleague  # the colleague works on from here
        elif action.takes and members:
            body["assignee"] = _colleague(members[self.staff.get(move.role, 0)])  # whoever takes a case holds it
        return body

    def form(self, name: str, at: dt.datetime) -> dict[str, Any]:
        return FORMS[name](self, at)

    def _field_visit(self, at: dt.datetime) -> dict[str, Any]:
        officers = [member["name"] for member in self.roster.get(Role.VERIFIER, [])[:50]] or ["Petugas"]
        visited = at.astimezone(self.zone).date() - dt.timedelta(days=self.rng.randint(0, 4))
        return {
            "visited_on": visited.isoformat(),
            "officers": self.rng.sample(officers, min(len(officers), self.rng.randint(1, 2))),
            "findings": "Sekretariat ada dan aktif; papan nama terpasang; pengurus hadir saat kunjungan.",
            "office_matches_address": self.rng.random() < 0.92,
        }

    def _half_year_report(self, _at: dt.datetime) -> dict[str, Any]:
        period, rng = self.period, self.rng
        assert period is not None  # the report form belongs to the periodic workflow
        span = (period.ends_on - period.starts_on).days
        activities = [
            {
                "held_on": (period.starts_on + dt.timedelta(days=rng.randint(0, span))).isoformat(),
                "title": rng.choice(people.ACTIVITIES),
                "description": "Diikuti pengurus dan anggota; dokumentasi terlampir.",
            }
            for _ in range(rng.choice((0, 1, 2, 2, 3, 4)))
        ]
        return {
            "period": period.key,
            "activities": activities,
            "no_activity": not activities,
            "signed_by_chair": self.board["ketua"],
            "signed_by_secretary": self.board["sekretaris"],
        }


def _colleague(member: dict[str, str]) -> dict[str, str]:
    """A colleague as the submissions service names one in a step (id, role and name, as the registry has them)."""
    return {"id": member["id"], "role": member["role"], "name": member["name"]}


FORMS = {"field_visit": CaseContext._field_visit, "half_year_report": CaseContext._half_year_report}
