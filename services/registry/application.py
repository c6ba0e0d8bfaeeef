"""Registry application: one short method per command; queries return plain values."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from contracts.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from contracts.events import IntegrationEvent
from contracts.identity import Caller, Role
from contracts.keys import Keyring, Signer
from contracts.organisations import AccountCreate, AddressOnly, Credentials, OrganisationCreate, StaffAccountCreate
from contracts.validation import parse
from contracts.workflow import Deadline
from infra.catalogue import Catalogue, load_catalogue
from services.registry.compliance import reporting_status
from services.registry.domain import Account, Organisation, account_id_for
from services.registry.regions import check_address
from services.registry.verification import link_expired, make_token, new_nonce, read_token, unconfirmed_expired
from services.registry.views import account_view, organisation_view

A = TypeVar("A")


class RegistryApplication(Application):
    name = "registry"
    catalogue: Catalogue = load_catalogue()
    # argon2id with the library's recommended parameters. A hash made at a lower cost (the demo data's) is
    # made again at this cost when its account next signs in.
    hasher = PasswordHasher()

    def now(self) -> dt.datetime:
        """The time confirmation links and unconfirmed accounts are measured against (a test moves it)."""
        return dt.datetime.now(dt.UTC)

    def register_applicant(self, payload: dict[str, Any], command_id: str | None = None) -> dict[str, Any]:
        """Self-service sign-up: the new account (waiting for its address to be confirmed: a link goes by
        mail), or {} when the address has a live account, whose owner is told by mail instead; an address
        whose account was never confirmed and expired is taken over. The gateway answers the same either way.
        """
        data = parse(AccountCreate, payload)
        existing = self._find_account(data.email)
        now = self.now()
        if existing is None:
            with contextlib.suppress(Conflict):  # the same address signed up at the same moment: that one goes on
                return self._register(
                    data, Role.APPLICANT, registered_by="self", verification_nonce=new_nonce(), command_id=command_id
                )
            return {}
        done = existing.done_by(command_id)
        if done is not None:  # this very sign-up again (a retry, a redelivered call): done already
            return account_view(existing) if done == "register" else {}
        if not existing.verified and unconfirmed_expired(existing.registered_at, now):
            existing.reclaim(data.full_name, self.hasher.hash(data.password), new_nonce(), now, command_id)
            self._save_quietly(existing)
            return account_view(existing)
        self.hasher.hash(data.password)  # the same cost as a new account
        existing.note_sign_up_attempt(command_id)
        self._save_quietly(existing)
        return {}

    def confirm_email(self, token: str, keyring: Keyring, command_id: str | None = None) -> dict[str, Any]:
        """Follow a confirmation link: once, while it is the newest and less than a day old."""
        read = read_token(token, keyring) if isinstance(token, str) else None
        account = self._find_by_id(read[0]) if read else None
        now = self.now()
        if account is not None and account.done_by(command_id) == "confirm_email":
            return {"email": account.email, "status": "confirmed"}  # this very confirmation again
        if account is not None and account.verified and read is not None and account.verification_nonce is None:
            raise Conflict("this address is confirmed already; sign in", field="token")
        if (
            account is None
            or read is None
            or account.verification_nonce != read[1]
            or link_expired(account.verification_issued_at, now)
            or unconfirmed_expired(account.registered_at, now)
        ):
            raise InvalidInput("this confirmation link is not valid or has expired; ask for a new one", field="token")
        account.confirm_email(command_id)
        self._save_quietly(account)
        return {"email": account.email, "status": "confirmed"}

    def resend_confirmation(self, payload: dict[str, Any], command_id: str | None = None) -> dict[str, Any]:
        """A new link for an account still waiting for its address; the same answer for any address."""
        data = parse(AddressOnly, payload)
        account = self._find_account(data.email)
        now = self.now()
        if (
            account is not None
            and not account.verified
            and not unconfirmed_expired(account.registered_at, now)
            and account.done_by(command_id) is None  # not this very request again: its link went already
        ):
            account.issue_verification(new_nonce(), now, command_id)
            self._save_quietly(account)
        return {"email": data.email.strip().lower(), "status": "confirmation_sent"}

    def confirm_directly(self, account_id: str) -> None:
        """The operator's bootstrap path (the demo seed): confirm without a link. Never over the broker."""
        account = self._account(account_id)
        if not account.verified:
            account.confirm_email()
            self.save(account)

    def mail_facts(self, account_id: str, nonce: str | None, signer: Signer) -> dict[str, Any] | None:
        """What a mail to an account needs: its address and name, and for the link of ``nonce`` the token,
        if that link is still the account's newest (else None: nothing to mail)."""
        account = self._account(account_id)
        facts: dict[str, Any] = {"email": account.email, "full_name": account.full_name, "token": None}
        if nonce is None:
            return facts
        if account.verified or account.verification_nonce != nonce:
            return None
        return {**facts, "token": make_token(signer, account_id, nonce)}

    def _save_quietly(self, account: Account) -> None:
        with contextlib.suppress(IntegrityError):  # someone acted on the same account at the same moment
            self.save(account)

    def _find_by_id(self, account_id: str) -> Account | None:
        try:
            found: object = self.repository.get(UUID(account_id))
        except (ValueError, AggregateNotFoundError):
            return None
        return found if isinstance(found, Account) else None

    def register_staff(self, caller: Caller, payload: dict[str, Any], command_id: str | None = None) -> dict[str, Any]:
        # A person only: no service may create accounts with authority (the first admin: bootstrap_staff).
        caller.require(Role.ADMIN)
        data = parse(StaffAccountCreate, payload)
        return self._register(data, Role(data.role), registered_by=caller.user_id, command_id=command_id)

    def bootstrap_staff(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A staff account made by the operator with access to the registry's store (`satu seed`, the first
        admin of a new office): never reachable over the broker."""
        data = parse(StaffAccountCreate, payload)
        return self._register(data, Role(data.role), registered_by="bootstrap")

    def _register(
        self,
        data: AccountCreate,
        role: Role,
        registered_by: str,
        verification_nonce: str | None = None,
        command_id: str | None = None,
    ) -> dict[str, Any]:
        existing = self._find_account(data.email)
        if existing is not None:
            return self._registered_by(existing, command_id)
        account = Account(
            email=data.email,
            full_name=data.full_name,
            password_hash=self.hasher.hash(data.password),
            role=role.value,
            registered_by=registered_by,
            verification_nonce=verification_nonce,
            command_id=command_id,
        )
        try:
            self.save(account)
        except IntegrityError:  # the same e-mail at the same moment: another person, or this command elsewhere
            return self._registered_by(self._account(str(account.id)), command_id)
        return account_view(account)

    @staticmethod
    def _registered_by(account: Account, command_id: str | None) -> dict[str, Any]:
        """The account, if this very command made it (a retry, a redelivered call); else the address is taken."""
        if account.done_by(command_id) == "register":
            return account_view(account)
        raise Conflict("an account with this e-mail already exists", field="email")

    def authenticate(self, payload: dict[str, Any]) -> dict[str, Any]:
        credentials = parse(Credentials, payload)
        account = self._find_account(credentials.email)
        if account is None:
            self.hasher.hash(credentials.password)  # same cost whether or not the account exists
            raise NotAuthenticated("wrong e-mail or password")
        try:
            self.hasher.verify(account.password_hash, credentials.password)
        except (VerificationError, InvalidHashError):
            raise NotAuthenticated("wrong e-mail or password") from None
        if not account.verified and unconfirmed_expired(account.registered_at, self.now()):
            raise NotAuthenticated("this account was never confirmed and has expired; sign up again", field="email")
        if self.hasher.check_needs_rehash(account.password_hash):
            account.rehash_password(self.hasher.hash(credentials.password))
            with contextlib.suppress(IntegrityError):  # a parallel sign-in rehashed it first
                self.save(account)
        return account_view(account)

    def get_account(self, caller: Caller, account_id: str) -> dict[str, Any]:
        if caller.user_id != account_id and not caller.is_staff:
            raise PermissionDenied("you may only read your own account")
        return account_view(self._account(account_id))

    def record_organisation(
        self, caller: Caller, payload: dict[str, Any], command_id: str | None = None
    ) -> dict[str, Any]:
        caller.require(Role.APPLICANT)
        data = parse(OrganisationCreate, payload)
        check_address(data.address.kecamatan, data.address.kelurahan)
        account = self._account(caller.user_id)
        if not account.verified:
            raise PermissionDenied(
                "confirm your e-mail address first: follow the link in the mail we sent (or ask for a new one)",
                field="email",
            )
        if account.organisation_id is not None:
            return self._recorded_by(account, command_id)
        organisation = Organisation(profile=data.model_dump(mode="json"), owner_id=caller.user_id)
        account.link_organisation(str(organisation.id), command_id)
        try:
            self.save(organisation, account)
        except IntegrityError:  # the same account at the same moment: another request, or this command elsewhere
            return self._recorded_by(self._account(caller.user_id), command_id)
        return organisation_view(organisation, full_personal_data=True)

    def _recorded_by(self, account: Account, command_id: str | None) -> dict[str, Any]:
        """The organisation this very command recorded (a retry, a redelivered call); else it has one."""
        if account.organisation_id is not None and account.done_by(command_id) == "record_organisation":
            return organisation_view(self._organisation(account.organisation_id), full_personal_data=True)
        raise Conflict("this account already manages an organisation", field="organisation")

    def get_organisation(self, caller: Caller, organisation_id: str) -> dict[str, Any]:
        if not caller.is_staff and caller.organisation_id != organisation_id:
            raise PermissionDenied("you may only read your own organisation")
        organisation = self._organisation(organisation_id)
        return organisation_view(organisation, full_personal_data=caller.user_id == organisation.owner_id)

    def notification_contact(self, organisation_id: str) -> dict[str, str]:
        """Where status mail for an organisation goes: its owner's account e-mail and the org's e-mail."""
        organisation = self._organisation(organisation_id)
        owner = self._account(organisation.owner_id)
        return {"account_email": owner.email, "organisation_email": organisation.profile["email"]}

    def follow_reports(self, event: IntegrationEvent) -> bool:
        """What the registry learns from the reports workflow's events: a report overdue (the organisation is
        late, or inactive) or accepted (its period no longer counts as missed); any other event changes nothing."""
        if event.event_type == "report.overdue.v1":
            return self.note_report_overdue(str(event.data["organisation_id"]), str(event.data["period"]))
        if event.event_type == "case.accepted.v1":
            case = event.case()
            if case.service == "report" and case.subject:
                return self.note_report_accepted(case.organisation_id, str(case.subject))
        return False

    def note_report_overdue(self, organisation_id: str, period: str) -> bool:
        """The reports workflow announced an overdue report: the organisation is late, or inactive."""
        index = self._report_deadline().period(period).index
        return self._change_organisation(organisation_id, lambda o: o.report_overdue(period, index, self._status_after))

    def note_report_accepted(self, organisation_id: str, period: str) -> bool:
        """A report was accepted: it no longer counts as missed (the organisation may be active again)."""
        self._report_deadline().period(period)  # a period key of this region's calendar, or ValueError
        return self._change_organisation(organisation_id, lambda o: o.report_accepted(period, self._status_after))

    def _status_after(self, missed: dict[str, int]) -> str:
        return reporting_status(missed.values(), self._report_deadline().inactive_after_missed)

    def _report_deadline(self) -> Deadline:
        workflow = self.catalogue.workflow("report")
        if workflow is None or workflow.deadline is None:
            raise ValueError("the region defines no half-yearly report deadline")
        return workflow.deadline

    def _change_organisation(self, organisation_id: str, change: Callable[[Organisation], bool]) -> bool:
        for _ in range(10):
            organisation = self._organisation(organisation_id)
            if not change(organisation):
                return False  # nothing new: a repeated or stale delivery
            try:
                self.save(organisation)
                return True
            except IntegrityError:
                continue  # changed meanwhile (another report event): re-read and re-apply
        raise Conflict("the organisation was changed by someone else at the same moment; try again")

    def _find_account(self, email: str) -> Account | None:
        try:
            return self.repository.get(account_id_for(email))
        except AggregateNotFoundError:
            return None

    def _account(self, account_id: str) -> Account:
        return self._get(account_id, Account, "account")

    def _organisation(self, organisation_id: str) -> Organisation:
        return self._get(organisation_id, Organisation, "organisation")

    def _get(self, aggregate_id: str, kind: type[A], name: str) -> A:
        try:
            found: object = self.repository.get(UUID(str(aggregate_id)))
        except ValueError:
            raise InvalidInput(f"'{aggregate_id}' is not a valid {name} id", field=f"{name}_id") from None
        except AggregateNotFoundError:
            raise NotFound(f"{name} {aggregate_id} not found") from None
        if not isinstance(found, kind):  # an id of another kind of record
            raise NotFound(f"{name} {aggregate_id} not found")
        return found


def build_application(
    env: dict[str, str], settings: Any, kind: type[RegistryApplication] = RegistryApplication
) -> RegistryApplication:
    """The registry with the region's catalogue (the report calendar decides who is inactive)."""
    application = kind(env=env)
    application.catalogue = load_catalogue(settings.region_dir)
    return application
