"""Submissions nameko service: RPC entrypoints for the case workflow and its read-model consumer."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from nameko.events import SERVICE_POOL, event_handler
from nameko.timer import timer

import infra.green  # noqa: F401,I001 - must precede any psycopg import
from contracts.cases import CaseStatus
from contracts.errors import EXPECTED_ERRORS, Conflict, InvalidInput, NotFound, PermissionDenied
from contracts.identity import Role
from contracts.paging import DEFAULT_PAGE
from infra.broker_outage import rpc
from infra.nameko_support import Identity, SettingsProvider, SignedRpcProxy
from infra.readmodel import ReadModel, decode
from infra.settings import Settings
from services.submissions import dashboard, organisations, readmodels
from services.submissions.application import SubmissionsApplication
from services.submissions.deadlines import SWEEP_PAGE, directory_entry
from services.submissions.dependencies import CaseList, CaseStore, OrganisationCopies
from services.submissions.filings import filed_in_read_model

expected = rpc(expected_exceptions=EXPECTED_ERRORS)


# The dashboard's entrypoints, named through their module: `nameko run` takes every class here for a service.
class SubmissionsService(dashboard.DashboardEntrypoints):
    name = "submissions"

    app: SubmissionsApplication = CaseStore()
    cases: ReadModel = CaseList()
    organisations: ReadModel = OrganisationCopies()
    identity = Identity("submissions")
    registry = SignedRpcProxy("registry")
    settings: Settings = SettingsProvider()

    @expected
    def submit_case(self, caller: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        """File a case for the caller's organisation.

        payload: {"service": "skm", "attachments": [{"file_id": "<32 hex>", "kind": "cover_letter",
        "filename": "surat.pdf", "size": 1234, "sha256": "<64 hex>"}], "note": "..."}
        """
        who = self.identity.verify(caller)
        who.require(Role.APPLICANT)
        if who.organisation_id is None:
            raise Conflict("record your organisation before filing", field="organisation")
        return self.app.submit_case(who, self._organisation(who.organisation_id), payload)

    @expected
    def act(self, caller: dict[str, Any], case_id: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Take one step of the case's workflow; GET /api/workflows lists the steps and what each needs.

        action: "request_revision", payload: {"reason": "Akta notaris tidak terbaca"}
        action: "record_field_visit", payload: {"form": {"visited_on": "2026-11-20", "officers": ["Rina"],
            "findings": "Sekretariat ada", "office_matches_address": true}, "attachments": [...]}
        action: "assign", payload: {"assignee": {"id": "<account id>"}, "note": "Mohon dilanjutkan"}
        """
        who = self.identity.verify(caller)
        assignee = payload.get("assignee") if isinstance(payload, dict) else None
        if isinstance(assignee, dict) and assignee.get("id"):
            payload = {**payload, "assignee": self._colleague(str(assignee["id"]))}
        elif isinstance(payload, dict) and self.app.action_takes(action):
            # The queue shows who holds what by name: whoever takes a case holds it.
            payload = {**payload, "assignee": self._colleague(who.user_id)}
        return self.app.act(who, case_id, action, payload)

    def _colleague(self, account_id: str) -> dict[str, str]:
        """The account a case is handed to, as the registry knows it (a made-up id or role is refused)."""
        try:
            account = self.registry.get_account(self.identity.system(), account_id)
        except (NotFound, InvalidInput):  # no such account, or no account id at all
            raise InvalidInput("no such colleague", field="assignee.id") from None
        return {"id": account["id"], "role": account["role"], "name": account["full_name"]}

    # The walking skeleton's step methods, kept for callers that name the step in the method.
    @expected
    def request_revision(self, caller: dict[str, Any], case_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Verifier asks the applicant to correct the file. payload: {"reason": "Akta notaris tidak terbaca"}"""
        return self.act(caller, case_id, "request_revision", payload)

    @expected
    def resubmit(self, caller: dict[str, Any], case_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Applicant sends corrected files. payload: {"attachments": [...], "note": "..."}"""
        return self.act(caller, case_id, "resubmit", payload)

    @expected
    def forward(self, caller: dict[str, Any], case_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Verifier passes a complete file to the approver. payload: {"note": "Lengkap"}"""
        return self.act(caller, case_id, "forward", payload)

    @expected
    def approve(self, caller: dict[str, Any], case_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Approver approves; the letter number is taken from the register. payload: {"note": "..."}"""
        return self.act(caller, case_id, "approve", payload)

    @expected
    def reject(self, caller: dict[str, Any], case_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Approver rejects with reasons. payload: {"reason": "Domisili tidak sesuai"}"""
        return self.act(caller, case_id, "reject", payload)

    @expected
    def reports_due(self, caller: dict[str, Any]) -> list[dict[str, Any]]:
        """The caller's organisation's half-yearly reports: each period owed, its due date, its report's
        state. Example: [{"period": "2026-S2", "label": "...", "due_on": "2027-01-31", "status": "not_filed",
        "overdue": false, "case_id": null}]"""
        who = self.identity.verify(caller)
        if who.organisation_id is None:
            raise Conflict("record your organisation first", field="organisation")
        return self.app.reports_due(who, self._organisation(who.organisation_id))

    def _organisation(self, organisation_id: str) -> dict[str, Any]:
        """Our own copy (services/submissions/organisations.py), or, until the recording has arrived, the
        registry's view, asked as a service: it then sends NIK and phone masked, and a case needs neither."""
        copy = organisations.organisation(self.organisations, organisation_id)
        return copy if copy is not None else self.registry.get_organisation(self.identity.system(), organisation_id)

    @expected
    def list_workflows(self) -> list[dict[str, Any]]:
        """Every workflow of the region: states, actions (who, from where, what each needs), SLA, labels."""
        return self.app.describe_workflows()

    @expected
    def get_case(self, caller: dict[str, Any], case_id: str) -> dict[str, Any]:
        """The current state of a case, from its event stream."""
        return self.app.get_case(self.identity.verify(caller), case_id)

    @expected
    def case_history(self, caller: dict[str, Any], case_id: str) -> list[dict[str, Any]]:
        """Every stored event of the case: version, type, time, actor and data."""
        return self.app.case_history(self.identity.verify(caller), case_id)

    @expected
    def case_state(
        self, caller: dict[str, Any], case_id: str, version: int | None = None, at: str | None = None
    ) -> dict[str, Any]:
        """The case as it was at ``version`` or at time ``at`` (ISO 8601)."""
        moment = _parse_time(at) if at else None
        return self.app.case_state(self.identity.verify(caller), case_id, version=version, at=moment)

    @expected
    def list_cases(
        self, caller: dict[str, Any], status: str | None = None, cursor: str | None = None, limit: int = DEFAULT_PAGE
    ) -> dict[str, Any]:
        """A page of the cases visible to the caller (an applicant: their organisation's), newest first; pass
        its ``next_cursor`` as ``cursor`` for the next. -> {"items": [{"case_id": "...", ...}], "next_cursor": null}"""
        who = self.identity.verify(caller)
        if status is not None and status not in {known.value for known in CaseStatus}:
            raise InvalidInput(f"unknown status '{status}'", field="status")
        return readmodels.list_cases(self.cases.engine, self.cases.projection, who, status, cursor, limit)  # type: ignore[arg-type]

    @expected
    def work_queue(
        self, caller: dict[str, Any], cursor: str | None = None, limit: int = DEFAULT_PAGE
    ) -> dict[str, Any]:
        """A page of the cases waiting for the caller's role (verifier or approver), oldest first."""
        who = self.identity.verify(caller)
        catalogue = self.app.catalogue
        return readmodels.work_queue(self.cases.engine, self.cases.projection, who, catalogue, cursor, limit)  # type: ignore[arg-type]

    @expected
    def case_timeline(self, caller: dict[str, Any], case_id: str) -> list[dict[str, Any]]:
        """Status changes of a case (read model)."""
        who = self.identity.verify(caller)
        self.app.get_case(who, case_id)  # raises NotFound for someone else's case
        steps = readmodels.timeline(self.cases.engine, self.cases.projection, case_id)  # type: ignore[arg-type]
        if not steps:
            raise NotFound(f"no timeline yet for case {case_id}")
        return steps

    @event_handler("registry", "organisation.recorded.v1", handler_type=SERVICE_POOL, requeue_on_error=True)
    def copy_organisation(self, payload: dict[str, Any]) -> None:
        event = decode(payload, self.identity.keyring)
        if event is not None:
            self.organisations.handle(event)

    @event_handler("submissions", "case.#", handler_type=SERVICE_POOL, requeue_on_error=True)
    def project_case_event(self, payload: dict[str, Any]) -> None:
        event = decode(payload, self.identity.keyring)
        if event is not None:
            self.cases.handle(event)

    @timer(interval=600)
    def sweep_deadlines(self) -> None:
        """Every replica sweeps; each reminder is still recorded once (the obligation's version decides)."""
        self._sweep(self.settings.today or self.app.today())

    @expected
    def send_due_reminders(self, caller: dict[str, Any], today: str | None = None) -> dict[str, int]:
        """Run the deadlines' sweep now (admin or system): reminders of periodic reports, cases past their
        service level. ``today`` (ISO date) is for local and test systems only, to see what a later day
        records. Example: send_due_reminders(caller, "2026-08-01") -> {"reminders": 3, "overdue_cases": 1}"""
        who = self.identity.verify(caller)
        who.require(Role.ADMIN, Role.SYSTEM)
        if today is not None and self.settings.env == "production":
            raise PermissionDenied("a production system sweeps for the real date only")
        day = _parse_date(today) if today else self.settings.today or self.app.today()
        return self._sweep(day)

    def _sweep(self, today: dt.date) -> dict[str, int]:
        """Record what is due: reminders of periodic reports, and cases past their service level."""
        return {"reminders": self._sweep_reminders(today), "overdue_cases": self._sweep_overdue_cases(today)}

    def _sweep_overdue_cases(self, today: dt.date) -> int:
        zone = self.app.calendar.zone
        real_today = dt.datetime.now(zone).date()
        moment = dt.datetime.now(dt.UTC) if today == real_today else dt.datetime.combine(today, dt.time(23, 59), zone)
        announced = 0
        for workflow in self.app.catalogue.workflows.values():
            if workflow.sla_days is None:
                continue
            after = None
            while ids := readmodels.running_cases(self.cases.engine, self.cases.projection, workflow, moment, after):  # type: ignore[arg-type]
                announced += self.app.announce_overdue(ids, moment)
                after = ids[-1]
        return announced

    def _sweep_reminders(self, today: dt.date) -> int:
        """Page through the registry's directory (keyset, 1,000 at a time) and record the reminders due."""
        recorded = 0
        for workflow in self.app.catalogue.workflows.values():
            if workflow.deadline is None:
                continue
            cursor: str | None = None
            while True:
                page = self.registry.list_organisations(self.identity.system(), None, cursor, SWEEP_PAGE)
                organisations = [directory_entry(row, self.app.calendar.zone) for row in page["items"]]
                filed_in = partial(filed_in_read_model, self.cases.engine, self.cases.projection.cases)  # type: ignore[attr-defined]
                recorded += self.app.send_due_reminders(workflow.key, today, organisations, filed_in)
                cursor = page["next_cursor"]
                if cursor is None:
                    break
        return recorded

    @rpc
    def ping(self) -> str:
        """Readiness probe: answers "pong" once the service consumes its queues."""
        return "pong"


def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("'today' must be an ISO 8601 date", field="today") from None


def _parse_time(value: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("'at' must be an ISO 8601 date-time", field="at") from None
