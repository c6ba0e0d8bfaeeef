"""Where an organisation's mail goes, asked of the registry once per organisation and process.

Addresses stay in the registry's records and off the bus (personal data is erased in one place), so the
notifications service asks the registry for them. Asking for every mail cost a round trip over the broker
and a replay of two aggregates in the registry (docs/benchmarks.md: ~12% of a mail's work here, ~40% of the
registry's busy time under filings). The answer cannot change today: an account's id is made from its
address (``account_id_for``), and an organisation's owner is fixed when it is recorded. So an answer is
kept, up to ``capacity`` organisations, the least recently mailed dropped first.

When a later change lets an organisation's owner or an account's address change, or erases personal data,
its event must call ``forget`` in every notifications process (a broadcast handler);
tests/unit/test_registry_application.py fails when either aggregate gains an event, as a reminder.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

DEFAULT_CAPACITY = 20_000  # ~5 MB; a city has a few thousand organisations, and a busy day mails fewer


class ContactBook:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._addresses: OrderedDict[str, str] = OrderedDict()

    def address_of(self, organisation_id: str, ask: Callable[[], str]) -> str:
        """The address for ``organisation_id``: kept, or ``ask``-ed and kept. What ``ask`` raises is not
        kept (an organisation not found may be recorded later), and goes to the caller."""
        address = self._addresses.get(organisation_id)
        if address is not None:
            self._addresses.move_to_end(organisation_id)
            return address
        address = ask()
        self._addresses[organisation_id] = address
        if len(self._addresses) > self.capacity:
            self._addresses.popitem(last=False)
        return address

    def forget(self, organisation_id: str) -> None:
        self._addresses.pop(organisation_id, None)

    def __len__(self) -> int:
        return len(self._addresses)
