"""How an upsert combines the row stored under a key with a newer row for the same key, stated once as rules
on columns: the same rules give the SQL of its ``ON CONFLICT … DO UPDATE`` and, in Python, the fold of a
batch's rows of one key into one row.

Folding first, a rebuild writes each key once per batch: a case's ten events in one batch were ten upserts
of its row (ten statements over a staged table on PostgreSQL, and nine dead row versions left in the table
and its indexes, which the work queue's first page then read through). Every rule keeps the stored row's
values or takes the newer row's as a whole per group, so applying rows one after the other and applying
their fold give the same row (tests/integration/test_case_order.py, events in any order and batch size).

In the SQL, like in the fold, every condition and every ``else`` reads the row as it was stored: the groups
of columns move independently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

Values = dict[str, Any]


@dataclass(frozen=True)
class Higher:
    """The newer row's ``column`` is set and above the stored one's (a stored NULL counts as 0)."""

    column: str

    def sql(self, stored: Any, newer: Any) -> sa.ColumnElement[bool]:
        return newer[self.column] > sa.func.coalesce(stored[self.column], sa.literal_column("0"))

    def holds(self, stored: Values, newer: Values) -> bool:
        value = newer[self.column]
        return value is not None and value > (stored[self.column] or 0)


@dataclass(frozen=True)
class Lower:
    """Both rows set ``column`` and the newer one's is below the stored one's."""

    column: str

    def sql(self, stored: Any, newer: Any) -> sa.ColumnElement[bool]:
        return newer[self.column] < stored[self.column]

    def holds(self, stored: Values, newer: Values) -> bool:
        value, held = newer[self.column], stored[self.column]
        return value is not None and held is not None and value < held


Condition = Higher | Lower


@dataclass(frozen=True)
class Take:
    """The newer row's values of ``columns``: always, or only when ``when`` holds."""

    columns: tuple[str, ...]
    when: Condition | None = None

    def sql(self, stored: Any, newer: Any) -> dict[str, Any]:
        if self.when is None:
            return {name: newer[name] for name in self.columns}
        taken = self.when.sql(stored, newer)
        return {name: sa.case((taken, newer[name]), else_=stored[name]) for name in self.columns}

    def fold(self, stored: Values, newer: Values) -> Values:
        if self.when is None or self.when.holds(stored, newer):
            return {name: newer[name] for name in self.columns}
        return {}


@dataclass(frozen=True)
class Kept:
    """``columns`` take the newer row's value where it has one, else keep the stored one (once set, a value
    is never unset by a row that says nothing of it)."""

    columns: tuple[str, ...]

    def sql(self, stored: Any, newer: Any) -> dict[str, Any]:
        return {name: sa.func.coalesce(newer[name], stored[name]) for name in self.columns}

    def fold(self, stored: Values, newer: Values) -> Values:
        return {name: newer[name] for name in self.columns if newer[name] is not None}


Rule = Take | Kept


@dataclass(frozen=True)
class Merge:
    """The rules of one upsert; columns no rule names keep the value of the row first stored. With
    ``only_if``, a newer row for which it does not hold changes nothing at all."""

    rules: tuple[Rule, ...]
    only_if: Condition | None = None

    def set_clause(self, stored: Any, newer: Any) -> dict[str, Any]:
        """``DO UPDATE SET``: ``stored`` names the table's columns, ``newer`` the refused row (``excluded``)."""
        clause: dict[str, Any] = {}
        for rule in self.rules:
            clause |= rule.sql(stored, newer)
        return clause

    def where(self, stored: Any, newer: Any) -> sa.ColumnElement[bool] | None:
        return self.only_if.sql(stored, newer) if self.only_if is not None else None

    def fold(self, stored: Values, newer: Values) -> Values:
        """The row stored after ``newer`` met ``stored``: the same as the SQL gives."""
        if self.only_if is not None and not self.only_if.holds(stored, newer):
            return stored
        row = dict(stored)
        for rule in self.rules:
            row |= rule.fold(stored, newer)
        return row


def fold_by_key(rows: list[Values], key: tuple[str, ...], merge: Merge | None) -> list[Values]:
    """``rows`` (in the order they are to be applied) with each key's rows folded into one, in the order the
    keys first come; without ``merge`` (``DO NOTHING``) a key's first row stands."""
    folded: dict[Any, Values] = {}
    pick = (lambda row: row[key[0]]) if len(key) == 1 else (lambda row: tuple(row[name] for name in key))
    for row in rows:
        identity = pick(row)
        held = folded.get(identity)
        if held is None:
            folded[identity] = row
        elif merge is not None:
            folded[identity] = merge.fold(held, row)
    return list(folded.values())
