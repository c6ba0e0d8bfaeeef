"""Which schema version of each read model a database holds, and the two ways a release changes it.

Additive changes (a new nullable column, a new table, a new index) are applied in place when a service starts
(``infra.storage.create_tables``). Any other change — a column renamed, retyped or dropped, a table
split — raises the projection's ``version``; a service then refuses to start on the old tables, naming
``satu upgrade``, which builds the new tables beside the old ones from the event store and switches to
them in one transaction (ops/rebuild.py ``upgrade``). The launcher runs it before the services start, and
docker-compose runs it as a one-shot job the services wait for, so a deployed system upgrades without
hand SQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.schema import CreateTable

from infra.storage import add_new_columns, add_new_indexes, hold_ddl_lock

_metadata = sa.MetaData()
versions = sa.Table(
    "read_model_versions",
    _metadata,
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("tables", sa.Text, nullable=False),  # the tables of that version, space-separated (to drop them)
    sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
)


class Versioned(Protocol):
    name: str
    metadata: sa.MetaData


class ReadModelOutdated(RuntimeError):
    pass


def version_of(projection: Versioned) -> int:
    """The schema version a projection's code declares (1 unless it says otherwise)."""
    return int(getattr(projection, "version", 1))


def ensure_versions_table(connection: sa.Connection) -> None:
    _metadata.create_all(connection)


def stored(connection: sa.Connection, name: str) -> tuple[int, list[str]] | None:
    """(version, tables) recorded for read model ``name`` in this database, or None."""
    ensure_versions_table(connection)
    row = connection.execute(sa.select(versions.c.version, versions.c.tables).where(versions.c.name == name)).first()
    return None if row is None else (int(row.version), row.tables.split())


def held_version(connection: sa.Connection, projection: Versioned) -> int | None:
    """The schema version of ``projection`` this database holds, or None when it holds none of its tables."""
    recorded = stored(connection, projection.name)
    if recorded is not None:
        return recorded[0]
    existing = set(sa.inspect(connection).get_table_names())
    # Tables without a record were made by a release from before versions were recorded: version 1.
    return 1 if existing & {table.name for table in projection.metadata.sorted_tables} else None


def prepare(projection: Versioned, connection: sa.Connection) -> None:
    """Create the projection's tables, or check that the existing ones are of its version and add the
    columns it added since; raises ReadModelOutdated when only ``satu upgrade`` can bring them to it."""
    hold_ddl_lock(connection)
    held = held_version(connection, projection)
    if held is not None and held != version_of(projection):
        raise ReadModelOutdated(
            f"read model {projection.name} holds schema version {held}, this release needs "
            f"{version_of(projection)}: run `satu upgrade` (it rebuilds it beside the old tables, then switches)"
        )
    projection.metadata.create_all(connection)
    add_new_columns(projection.metadata, connection)
    add_new_indexes(projection.metadata, connection)
    recorded = stored(connection, projection.name)
    if recorded is None:
        record(connection, projection)
    elif added := [table.name for table in projection.metadata.sorted_tables if table.name not in recorded[1]]:
        # Tables added in place belong to the version held: dropped with it by a rebuild or an upgrade.
        connection.execute(
            versions.update().where(versions.c.name == projection.name).values(tables=" ".join([*recorded[1], *added]))
        )


def record(connection: sa.Connection, projection: Versioned) -> None:
    ensure_versions_table(connection)
    connection.execute(versions.delete().where(versions.c.name == projection.name))
    connection.execute(
        versions.insert().values(
            name=projection.name,
            version=version_of(projection),
            tables=" ".join(table.name for table in projection.metadata.sorted_tables),
            built_at=dt.datetime.now(dt.UTC),
        )
    )


def is_outdated(projection: Versioned, engine: sa.Engine) -> bool:
    with engine.begin() as connection:
        held = held_version(connection, projection)
    return held is not None and held != version_of(projection)


def drop(projection: Versioned, connection: sa.Connection) -> None:
    """Drop the read model's tables, those of the version this database holds (or else the projection's
    own), and the record of its version."""
    recorded = stored(connection, projection.name)
    tables = recorded[1] if recorded is not None else [table.name for table in projection.metadata.sorted_tables]
    postgres = connection.dialect.name == "postgresql"
    # SQLite: only this file's table, never one of the same name in an attached file (a rebuild's shadow).
    schema, cascade = ("", " CASCADE") if postgres else ("main.", "")
    for table in reversed(tables):
        connection.execute(sa.text(f'DROP TABLE IF EXISTS {schema}"{table}"{cascade}'))
    connection.execute(versions.delete().where(versions.c.name == projection.name))


def create_unindexed(projection: Versioned, connection: sa.Connection) -> None:
    """Create the projection's tables with their keys but not their other indexes, and record its version: a
    rebuild fills them, then adds the indexes (``create_indexes``: one sort each instead of an update per row)."""
    for table in projection.metadata.sorted_tables:
        connection.execute(CreateTable(table))
    record(connection, projection)


def create_indexes(projection: Versioned, connection: sa.Connection) -> None:
    for table in projection.metadata.sorted_tables:
        for index in table.indexes:
            index.create(connection)


def replace_tables(projection: Versioned, connection: sa.Connection) -> None:
    """Inside the switch's transaction: drop the tables of the recorded version, create the projection's."""
    drop(projection, connection)
    projection.metadata.create_all(connection)
    record(connection, projection)
