"""Submissions nameko service: RPC entrypoints for the case workflow and its read-model consumer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from nameko.events import SERVICE_POOL, event_handler
from nameko.rpc import RpcProxy, rpc

import infra.green  # noqa: F401,I001 - must precede any psycopg import
from contracts.cases import CaseStatus
from contracts.errors import EXPECTED_ERRORS, Conflict, InvalidInput, NotFound
from contracts.identity import Role
from infra.nameko_support import EventSourcedApplication, Identity, ReadModelProvider
from infra.readmodel import ReadModel, decode
from services.submissions import readmodels
from services.submissions.application import SubmissionsApplication, build_application
from services.submissions.projections import CaseProjection

expected = rpc(expected_exceptions=EXPECTED_ERRORS)


class SubmissionsService:
    name = "submissions"

    app: SubmissionsApplication = EventSourcedApplication(build_application, "submissions")
    cases: ReadModel = ReadModelProvider(CaseProjection, "submissions")
    identity = Identity("submissions")
    registry = RpcProxy("registry")

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
        # As a service, not as the applicant: the registry then sends NIK and phone masked, and a
        # case needs none of them.
        organisation = self.registry.get_organisation(self.identity.system(), who.organisation_id)
        return self.app.submit_case(who, organisation, payload)

    @expected
    def request_revision(self, caller: dict[str, Any], case_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Verifier asks the applicant to correct the file. payload: {"reason": "Akta notaris tidak terbaca"}"""
        return self.app.request_revision(self.identity.verify(caller), case_id, payload)

    @expected
    def resubmit(self, caller: dict[str, Any], case_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Applicant sends corrected files. payload: {"attachments": [...], "note": "..."}"""
        return self.app.resubmit(self.identity.verify(caller), case_id, payload)

    @expected
    def forward(self, caller: dict[str, Any], case_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Verifier passes a complete file to the approver. payload: {"note": "Lengkap"}"""
        return self.app.forward(self.identity.verify(caller), case_id, payload)

    @expected
    def approve(self, caller: dict[str, Any], case_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Approver approves; the letter number is taken from the register. payload: {"note": "..."}"""
        return self.app.approve(self.identity.verify(caller), case_id, payload)

    @expected
    def reject(self, caller: dict[str, Any], case_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Approver rejects with reasons. payload: {"reason": "Domisili tidak sesuai"}"""
        return self.app.reject(self.identity.verify(caller), case_id, payload)

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
    def list_cases(self, caller: dict[str, Any], status: str | None = None) -> list[dict[str, Any]]:
        """Cases visible to the caller (an applicant: their organisation's), newest first."""
        who = self.identity.verify(caller)
        if status is not None and status not in {known.value for known in CaseStatus}:
            raise InvalidInput(f"unknown status '{status}'", field="status")
        return readmodels.list_cases(self.cases.engine, self.cases.projection, who, status)  # type: ignore[arg-type]

    @expected
    def work_queue(self, caller: dict[str, Any]) -> list[dict[str, Any]]:
        """Cases waiting for the caller's role (verifier or approver), oldest first."""
        who = self.identity.verify(caller)
        return readmodels.work_queue(self.cases.engine, self.cases.projection, who)  # type: ignore[arg-type]

    @expected
    def case_timeline(self, caller: dict[str, Any], case_id: str) -> list[dict[str, Any]]:
        """Status changes of a case (read model)."""
        who = self.identity.verify(caller)
        self.app.get_case(who, case_id)  # raises NotFound for someone else's case
        steps = readmodels.timeline(self.cases.engine, self.cases.projection, case_id)  # type: ignore[arg-type]
        if not steps:
            raise NotFound(f"no timeline yet for case {case_id}")
        return steps

    @event_handler("submissions", "case.#", handler_type=SERVICE_POOL, requeue_on_error=True)
    def project_case_event(self, payload: dict[str, Any]) -> None:
        event = decode(payload, self.identity.secret)
        if event is not None:
            self.cases.handle(event)

    @rpc
    def ping(self) -> str:
        """Readiness probe: answers "pong" once the service consumes its queues."""
        return "pong"


def _parse_time(value: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("'at' must be an ISO 8601 date-time", field="at") from None
