"""The notifications service's book of addresses: asked once per organisation, bounded, never keeping a
failed question; and the reminder that it is right only while an address cannot change."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eventsourcing.domain import CanMutateAggregate

from contracts.errors import NotFound
from services.notifications.contacts import ContactBook
from services.registry.domain import Account, Organisation


def _asker(asked: list[str], organisation_id: str) -> Callable[[], str]:
    def ask() -> str:
        asked.append(organisation_id)
        return f"{organisation_id}@contoh.or.id"

    return ask


def test_an_address_is_asked_once_and_the_least_recently_mailed_is_dropped_first() -> None:
    book = ContactBook(capacity=2)
    asked: list[str] = []
    for organisation_id in ("org-1", "org-2", "org-1", "org-3", "org-1", "org-2"):
        assert book.address_of(organisation_id, _asker(asked, organisation_id)) == f"{organisation_id}@contoh.or.id"

    # org-2 was dropped for org-3 (org-1 had been mailed since), so it is asked again at the end.
    assert asked == ["org-1", "org-2", "org-3", "org-2"]
    assert len(book) == 2


def test_a_failed_question_is_not_kept_and_a_forgotten_address_is_asked_again() -> None:
    book = ContactBook()

    def not_yet() -> str:
        raise NotFound("organisation not found")

    with pytest.raises(NotFound):
        book.address_of("org-1", not_yet)
    asked: list[str] = []
    book.address_of("org-1", _asker(asked, "org-1"))  # recorded meanwhile: asked, not refused from memory
    book.forget("org-1")
    book.address_of("org-1", _asker(asked, "org-1"))
    assert asked == ["org-1", "org-1"]


def test_a_book_holds_at_least_one_address() -> None:
    with pytest.raises(ValueError):
        ContactBook(capacity=0)


def _events(aggregate: type) -> set[str]:
    return {
        name
        for name, value in vars(aggregate).items()
        if isinstance(value, type) and issubclass(value, CanMutateAggregate)
    }


def test_the_registry_has_no_event_that_could_change_where_mail_goes() -> None:
    """The book keeps answers for good because an account's address is its identity and an organisation's
    owner is fixed when it is recorded. An event added to either aggregate may change that: if it can,
    make the notifications service ``forget`` the organisation on it (in every process), then add it here."""
    assert _events(Organisation) == {"Created", "Event", "Recorded", "ReportingChanged"}
    assert _events(Account) == {
        "Created", "Event", "Registered", "VerificationIssued", "EmailVerified", "SignUpAttempted", "Reclaimed",
        "OrganisationLinked", "PasswordRehashed",
    }  # fmt: skip
