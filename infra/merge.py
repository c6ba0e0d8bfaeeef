"""How an upsert combines the row stored under a key with a newer row for the same key, stated once as rules
on columns: the same rules give the SQL of its ``ON CONFLICT … DO UPDATE`` and, in Python, the fold of a
batch's rows of one key into one row.

Folding first, a batch writes each key once: a case's ten events in one batch were ten upserts of its row (on
PostgreSQL ten statements over a staged table), and where the rows went straight into live tables (the
demo-data writer) nine dead row versions that the work queue's first page then read through.

Applying rows one after the other and applying their fold give the same row because merging is associative:
each rule keeps the stored values or takes the newer row's as a whole per group, decided by a column of that
group (NULL is "not set": a set value beats it, it beats nothing). ``Merge`` refuses rules that break this
(a condition on a column its group does not carry). tests/unit/test_merge.py checks the associativity;
tests/integration/test_case_order.py the rows, in any order and batch size, on both databases.

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
    """The newer row sets ``column``, and above the stored one's (or the stored row does not set it)."""

    column: str

    def sql(self, stored: Any, newer: Any) -> sa.ColumnElement[bool]:
        value, held = newer[self.column], stored[self.column]
        return sa.and_(value.is_not(None), sa.or_(held.is_(None), value > held))

    def holds(self, stored: Values, newer: Values) -> bool:
        value, held = newer[self.column], stored[self.column]
        return value is not None and (held is None or value > held)


@dataclass(frozen=True)
class Lower:
    """The newer row sets ``column``, and below the stored one's (or the stored row does not set it)."""

    column: str

    def sql(self, stored: Any, newer: Any) -> sa.ColumnElement[bool]:
        value, held = newer[self.column], stored[self.column]
        return sa.and_(value.is_not(None), sa.or_(held.is_(None), value < held))

    def holds(self, stored: Values, newer: Values) -> bool:
        value, held = newer[self.column], stored[self.column]
        return value is not None and (held is None or value < held)


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

    def __post_init__(self) -> None:
        taken = {name for rule in self.rules for name in rule.columns}
        for rule in self.rules:
            if isinstance(rule, Take) and rule.when is not None and rule.when.column not in rule.columns:
                raise ValueError(f"{rule.when} decides columns {rule.columns} without being one of them")
        if self.only_if is not None and self.only_if.column not in taken:
            raise ValueError(f"{self.only_if} decides the update without any rule taking its column")

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
