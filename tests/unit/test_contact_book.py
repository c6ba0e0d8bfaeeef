"""The notifications service's book of addresses: asked once per organisation, bounded, never keeping a
failed question (tests/unit/test_registry_application.py holds the reminder that it is right only while an
address cannot change)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from contracts.errors import NotFound
from services.notifications.contacts import ContactBook


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
