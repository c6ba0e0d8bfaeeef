"""The writes a projection makes for an event: statements built once, with the values of one event.

A projection states its statements once (when it is made) and, per event, only which of them to run with
which values. The live driver runs them one event at a time; a rebuild runs each one once for a whole batch
of events (``run`` with a list of values). Either way a statement is compiled once and its values are bound
without SQLAlchemy's per-run work. In a batch an ``Upsert``'s rows of one key are folded into one first
(infra/merge.py), and on PostgreSQL the rows are sent with ``COPY``. Building SQLAlchemy statements per
event, and binding values row by row through them, cost more than the database's own work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.dialects import postgresql, sqlite

from infra.merge import Merge, Values, fold_by_key


class Insert:
    """Rows added to ``table`` (a plain ``INSERT``)."""

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        self.statement = table.insert()

    def for_dialect(self, _dialect: str) -> sa.Executable:
        return self.statement


class Upsert:
    """``INSERT … ON CONFLICT (key) DO UPDATE SET … [WHERE …]`` (or ``DO NOTHING``) on one table. SQLite and
    PostgreSQL spell it alike, but SQLAlchemy builds it per dialect, so it is built on first use for each
    dialect met.

    ``merge`` says how a row meets the one stored under its key (infra/merge.py); without it the row already
    there stays as it is. A batch's rows are folded by key with the same rules before they are sent.
    """

    _INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}

    def __init__(self, table: sa.Table, key: list[sa.Column[Any]], merge: Merge | None = None) -> None:
        self.table, self.key, self.merge = table, key, merge
        self._key_names = tuple(column.name for column in key)
        self._built: dict[str, sa.Executable] = {}

    def for_dialect(self, dialect: str) -> sa.Executable:
        if dialect not in self._built:
            self._built[dialect] = self._on_conflict(self._INSERTS[dialect](self.table))
        return self._built[dialect]

    def from_select(self, dialect: str, names: list[str], rows: sa.Select[Any]) -> sa.Executable:
        """The same upsert of the rows a query gives (columns ``names``), in one statement."""
        return self._on_conflict(self._INSERTS[dialect](self.table).from_select(names, rows))

    def folded(self, values: list[Values]) -> list[Values]:
        """``values`` with the rows of each key folded into one: the same rows stored, one write per key."""
        return fold_by_key(values, self._key_names, self.merge)

    def _on_conflict(self, insert: Any) -> sa.Executable:
        if self.merge is None:
            return insert.on_conflict_do_nothing(index_elements=self.key)
        stored, refused = self.table.c, insert.excluded
        return insert.on_conflict_do_update(
            index_elements=self.key,
            set_=self.merge.set_clause(stored, refused),
            where=self.merge.where(stored, refused),
        )


Statement = Insert | Upsert | sa.Executable
Write = tuple[Statement, Values]  # run ``statement`` with these values


def run(connection: sa.Connection, statement: Statement, values: Values | list[Values]) -> None:
    """Run ``statement`` once with ``values``, or once per values in a list (in bulk, in list order; an
    ``Upsert``'s rows of one key folded into one first, each key in the place it first came)."""
    executable = statement.for_dialect(connection.dialect.name) if isinstance(statement, Insert | Upsert) else statement
    if isinstance(values, dict):
        execute(connection, executable, values)
    elif values:
        keys = tuple(values[0])
        postgres = connection.dialect.name == "postgresql"
        if isinstance(statement, Upsert):
            values = statement.folded(values)
        if postgres and isinstance(statement, Insert):
            _copy_insert(connection, statement, keys, values)
        elif postgres and isinstance(statement, Upsert):
            _copy_upsert(connection, statement, keys, values)
        else:
            _execute_many(connection, executable, keys, values)


def run_all(connection: sa.Connection, writes: Iterable[Write]) -> None:
    for statement, values in writes:
        run(connection, statement, values)


@dataclass(frozen=True)
class _Compiled:
    """A statement compiled once for a dialect and a set of value names, with the conversions of its values."""

    sql: str
    names: tuple[str, ...]  # the values' names, in the order the statement takes them
    convert: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, the type's conversion to the driver)
    named: bool  # the driver takes a dict per row, not a tuple
    bulk: bool  # False when SQLAlchemy must compute something per row (a Python-side default)

    def rows(self, values: list[Values], named: bool | None = None) -> list[Any]:
        """The driver's parameters for each values: converted as SQLAlchemy would (None included: a JSON
        column stores it as JSON ``null``), as tuples or, for a driver that names them, dicts."""
        pick = itemgetter(*self.names)
        rows: list[Any] = [pick(row) for row in values] if len(self.names) > 1 else [(pick(row),) for row in values]
        if self.convert:
            # Column by column: only the few columns whose type converts cost a Python call per value.
            columns: list[Any] = list(zip(*rows, strict=True))
            for position, convert in self.convert:
                columns[position] = _converted(columns[position], convert)
            rows = list(zip(*columns, strict=True))
        if self.named if named is None else named:
            return [dict(zip(self.names, row, strict=True)) for row in rows]
        return rows


def _converted(column: tuple[Any, ...], convert: Callable[[Any], Any]) -> list[Any]:
    # The same value often comes again (a batch's time in every row): converted once. Keyed by identity, so
    # unhashable values (JSON documents) count too; they stay alive meanwhile, so an id is not reused.
    unique = {id(value): value for value in column}
    done = {key: convert(value) for key, value in unique.items()}
    return [done[id(value)] for value in column]


@functools.lru_cache(maxsize=256)
def _compiled(statement: sa.Executable, dialect: sa.Dialect, keys: tuple[str, ...]) -> _Compiled:
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
    names = tuple(compiled.positiontup) if dialect.positional else tuple(compiled.binds)
    convert = []
    for position, name in enumerate(names):
        processor = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            convert.append((position, processor))
    bulk = bool(names) and set(names) <= set(keys) and not (compiled.insert_prefetch or compiled.update_prefetch)
    return _Compiled(compiled.string, names, tuple(convert), not dialect.positional, bulk)


def execute(connection: sa.Connection, statement: sa.Executable, values: Values) -> sa.CursorResult[Any]:
    """Run ``statement`` once with ``values`` through its form compiled once (per dialect and value names), as a
    batch runs: SQLAlchemy's own path computed the statement's cache key and bound the values again on every
    run, which cost more than the database's work for a row (the live driver's writes, the claim of each
    delivered event, the mail outbox, a relay's position). For its row count, or a returned key: returned
    values are the driver's, unconverted (a statement SQLAlchemy must help, with a Python-side default or
    values it does not name, runs SQLAlchemy's way and returns converted ones)."""
    compiled = _compiled(statement, connection.dialect, tuple(values))
    if not compiled.bulk:
        return connection.execute(statement, values)
    return connection.exec_driver_sql(compiled.sql, compiled.rows([values])[0])


def driver_form(dialect: sa.Dialect, statement: Statement, values: Values | list[Values]) -> tuple[str, Any] | None:
    """``statement`` with one row of ``values`` as the driver takes it (its SQL and parameters), to be sent
    without SQLAlchemy (infra/pipelined.py); None when SQLAlchemy must run it (several rows, or something it
    computes per row)."""
    if not isinstance(values, dict):
        return None
    executable = statement.for_dialect(dialect.name) if isinstance(statement, Insert | Upsert) else statement
    compiled = _compiled(executable, dialect, tuple(values))
    if not compiled.bulk:
        return None
    return compiled.sql, compiled.rows([values])[0]


def _execute_many(
    connection: sa.Connection, statement: sa.Executable, keys: tuple[str, ...], values: list[Values]
) -> None:
    compiled = _compiled(statement, connection.dialect, keys)
    if not compiled.bulk:
        connection.execute(statement, values)
        return
    connection.exec_driver_sql(compiled.sql, compiled.rows(values))


def _copy_insert(connection: sa.Connection, insert: Insert, keys: tuple[str, ...], values: list[Values]) -> None:
    compiled = _compiled(insert.statement, connection.dialect, keys)
    if not compiled.bulk:
        connection.execute(insert.statement, values)
        return
    _copy(connection, insert.table.name, compiled.names, compiled.rows(values, named=False))


def _copy_upsert(connection: sa.Connection, upsert: Upsert, keys: tuple[str, ...], values: list[Values]) -> None:
    """The rows (one per key: folded by ``run``) copied into a scratch table, then upserted from it by one
    statement instead of one per row."""
    statement = upsert.for_dialect("postgresql")
    compiled = _compiled(statement, connection.dialect, keys)
    if not compiled.bulk:
        connection.execute(statement, values)
        return
    names = list(compiled.names)
    scratch = sa.Table(
        f"staged_{upsert.table.name}",
        sa.MetaData(),
        *(sa.Column(name, upsert.table.c[name].type) for name in names),
        prefixes=["TEMPORARY"],
    )
    scratch.create(connection)
    _copy(connection, scratch.name, tuple(names), compiled.rows(values, named=False))
    rows = sa.select(*(scratch.c[name] for name in names))
    connection.execute(upsert.from_select("postgresql", names, rows))
    scratch.drop(connection)


def _copy(connection: sa.Connection, table: str, names: tuple[str, ...], rows: list[Any]) -> None:
    """PostgreSQL's ``COPY … FROM STDIN``: rows streamed in one command instead of a statement each."""
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in names)
    command = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), columns)
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(command) as copy:
        for row in rows:
            copy.write_row(row)
