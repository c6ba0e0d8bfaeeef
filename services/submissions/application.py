"""Submissions application: the case workflow. One short method per command."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from contracts.cases import CaseSubmission, Noted, Reasoned, Resubmission
from contracts.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from contracts.identity import Caller, Role
from contracts.validation import parse
from services.submissions.domain import Case, CaseStateError, LetterRegister
from services.submissions.history import event_record, pick_version
from services.submissions.views import case_view

T = TypeVar("T")


@dataclass(frozen=True)
class LetterPolicy:
    """Regional configuration of the outgoing letter."""

    title: str = "SURAT KETERANGAN MELAPOR"
    register_name: str = "SKM"
    number_format: str = "{register}/{seq:04d}/KESBANGPOL/{year}"
    timezone: str = "Asia/Makassar"

    def number(self, sequence: int, year: int) -> str:
        return self.number_format.format(register=self.register_name, seq=sequence, year=year)


def actor_of(caller: Caller) -> dict[str, str]:
    return {"id": caller.user_id, "role": caller.role.value}


@contextmanager
def state_rules() -> Iterator[None]:
    try:
        yield
    except CaseStateError as error:
        raise Conflict(str(error), field="status") from None


class SubmissionsApplication(Application):
    name = "submissions"
    letter_policy = LetterPolicy()

    def submit_case(self, caller: Caller, organisation: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        caller.require(Role.APPLICANT)
        if caller.organisation_id is None or caller.organisation_id != organisation.get("id"):
            raise PermissionDenied("you may only file for your own organisation")
        data = parse(CaseSubmission, payload)
        digest = filing_digest(data)
        if data.request_key:
            earlier = self._find(Case.create_id(organisation["id"], data.request_key))
            if earlier is not None:
                return self._retried(earlier, digest)
        case = Case(
            service=data.service.value,
            reference=f"{data.service.value.upper()}-{self._today().year}-{secrets.token_hex(4).upper()}",
            organisation_id=organisation["id"],
            organisation=letter_snapshot(organisation),
            attachments=[a.model_dump(mode="json") for a in data.attachments],
            note=data.note,
            actor=actor_of(caller),
            request_key=data.request_key,
            request_digest=digest,
        )
        try:
            self.save(case)
        except IntegrityError:
            if not data.request_key:
                raise
            return self._retried(self._case(str(case.id)), digest)  # the same key raced us and won
        return case_view(case)

    @staticmethod
    def _retried(earlier: Case, digest: str) -> dict[str, Any]:
        """A retry of a filing that already went through returns it; another filing under its key is refused."""
        if earlier.request_digest not in (None, digest):
            raise InvalidInput(
                "this Idempotency-Key was already used for a different filing; use a new key",
                field="Idempotency-Key",
            )
        return case_view(earlier)

    def request_revision(self, caller: Caller, case_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        caller.require(Role.VERIFIER)
        reason = parse(Reasoned, payload).reason
        return self._change(case_id, lambda case: case.request_revision(reason, actor_of(caller)))

    def resubmit(self, caller: Caller, case_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        caller.require(Role.APPLICANT)
        data = parse(Resubmission, payload)
        self._readable_case(caller, case_id)
        attachments = [a.model_dump(mode="json") for a in data.attachments]
        return self._change(case_id, lambda case: case.resubmit(attachments, data.note, actor_of(caller)))

    def forward(self, caller: Caller, case_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        caller.require(Role.VERIFIER)
        note = parse(Noted, payload).note
        return self._change(case_id, lambda case: case.forward(note, actor_of(caller)))

    def reject(self, caller: Caller, case_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        caller.require(Role.APPROVER)
        reason = parse(Reasoned, payload).reason
        return self._change(case_id, lambda case: case.reject(reason, actor_of(caller)))

    def approve(self, caller: Caller, case_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        caller.require(Role.APPROVER)
        note = parse(Noted, payload).note
        # Two approvals may race for the same register number: the loser's save conflicts, retry it.
        return self._retry_on_conflict(lambda: self._approve_once(caller, case_id, note))

    def _approve_once(self, caller: Caller, case_id: str, note: str | None) -> dict[str, Any]:
        case = self._case(case_id)
        today = self._today()
        register = self._register(self.letter_policy.register_name, today.year)
        with state_rules():
            case._require({"forwarded"}, "approve")
            sequence = register.take_next(str(case.id))
            letter = {
                "number": self.letter_policy.number(sequence, today.year),
                "register_name": register.name,
                "year": today.year,
                "sequence": sequence,
                "verification_code": uuid.uuid4().hex,
                "issued_on": today.isoformat(),
                "title": self.letter_policy.title,
            }
            case.approve(note, letter, actor_of(caller))
        self.save(case, register)
        return case_view(case)

    def get_case(self, caller: Caller, case_id: str) -> dict[str, Any]:
        return case_view(self._readable_case(caller, case_id))

    def case_history(self, caller: Caller, case_id: str) -> list[dict[str, Any]]:
        case = self._readable_case(caller, case_id)
        return [event_record(domain_event) for domain_event in self.repository.event_store.get(case.id)]

    def case_state(
        self, caller: Caller, case_id: str, version: int | None = None, at: dt.datetime | None = None
    ) -> dict[str, Any]:
        case = self._readable_case(caller, case_id)
        events = list(self.repository.event_store.get(case.id))
        chosen = pick_version(events, version=version, at=at)
        return case_view(self.repository.get(case.id, version=chosen))

    # --- helpers -------------------------------------------------------------------------------

    def _change(self, case_id: str, command: Callable[[Case], None]) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            case = self._case(case_id)
            with state_rules():
                command(case)
            self.save(case)
            return case_view(case)

        return self._retry_on_conflict(attempt)

    def _retry_on_conflict(self, attempt: Callable[[], T], tries: int = 30) -> T:
        for round_ in range(tries):
            try:
                return attempt()
            except IntegrityError:
                # Someone else changed the aggregate (or took the register number) meanwhile:
                # back off a little, re-read and re-check the rules.
                time.sleep(random.uniform(0, 0.002 * (round_ + 1)))
        raise Conflict("the case was changed by someone else at the same moment; try again")

    def _readable_case(self, caller: Caller, case_id: str) -> Case:
        case = self._case(case_id)
        if caller.role is Role.APPLICANT and case.organisation_id != caller.organisation_id:
            # Same answer as a missing case: an applicant learns nothing about other organisations.
            raise NotFound(f"case {case_id} not found")
        return case

    def _case(self, case_id: str) -> Case:
        try:
            case: object = self.repository.get(uuid.UUID(str(case_id)))
        except ValueError:
            raise InvalidInput(f"'{case_id}' is not a valid case id", field="case_id") from None
        except AggregateNotFoundError:
            raise NotFound(f"case {case_id} not found") from None
        if not isinstance(case, Case):  # e.g. a letter register's id: not a case, and not to be shown
            raise NotFound(f"case {case_id} not found")
        return case

    def _find(self, case_id: uuid.UUID) -> Case | None:
        try:
            found: object = self.repository.get(case_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, Case) else None

    def _register(self, name: str, year: int) -> LetterRegister:
        try:
            return self.repository.get(LetterRegister.create_id(name, year))
        except AggregateNotFoundError:
            return LetterRegister(name=name, year=year)

    def _today(self) -> dt.date:
        return dt.datetime.now(ZoneInfo(self.letter_policy.timezone)).date()


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


def build_application(env: dict[str, str], settings: Any) -> SubmissionsApplication:
    """The application configured from settings (letter title and number format are regional)."""
    application = SubmissionsApplication(env=env)
    application.letter_policy = LetterPolicy(
        title=settings.letter_title,
        number_format=settings.letter_number_format,
        timezone=settings.timezone,
    )
    return application
