"""A read model's shadow: its tables rebuilt beside the live ones, then compared with them or put in their place
(on PostgreSQL the tables themselves, on SQLite their rows copied) by the database itself, so no table ever
passes through Python (memory stays flat whatever the size).

Where it lives: on PostgreSQL the schema ``<service>_rebuild`` of the same database; on SQLite the file
``<service>.rebuild.sqlite``, attached to the live connection as ``shadow`` while they are compared or copied.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from infra import schema
from infra.locks import SingleInstanceLock
from infra.readmodel import Projection, record_applied_through, through_table
from infra.settings import Settings
from infra.storage import read_model_engine, vacuum_analyse

SUFFIX = "rebuild"
ATTACHED = "shadow"  # the shadow file's name on a live SQLite connection
LOCK_WAIT = "5s"  # the longest a swap waits for a reader to let go of a live table before it tries again


class ShadowInUse(RuntimeError):
    pass


@contextmanager
def shadows_held(settings: Settings, services: Iterable[str]) -> Iterator[None]:
    """One rebuild, check or upgrade at a time per service: they all fill the same shadow, and one would put
    another's half-filled tables live. Raises ShadowInUse when another holds a service's shadow."""
    locks = []
    try:
        for service in sorted(set(services)):
            lock = SingleInstanceLock(
                f"rebuild-{service}", settings.database_url if settings.uses_postgres else None, settings.var_dir
            )
            if not lock.try_acquire():
                raise ShadowInUse(
                    f"another `satu rebuild`, `check` or `upgrade` of {service}'s read models is running; "
                    "run this one when it has finished"
                )
            locks.append(lock)
        yield
    finally:
        for lock in locks:
            lock.release()


@dataclass
class Shadow:
    projection: Projection
    engine: sa.Engine
    schema: str  # how a live connection names the shadow's schema
    _tables: dict[str, sa.Table] = field(default_factory=dict)

    @classmethod
    def fresh(cls, projection: Projection, service: str, settings: Settings) -> Shadow:
        """Empty shadow tables of ``projection`` (whatever the shadow held before), without secondary indexes
        until ``add_indexes``."""
        engine = read_model_engine(settings, service, schema_suffix=SUFFIX)
        if not settings.uses_postgres:
            sa.event.listen(engine, "connect", _unsynchronised)
        with engine.begin() as connection:
            schema.hold_ddl_lock(connection)
            schema.drop(projection, connection)
            schema.create_unindexed(projection, connection)
            if settings.uses_postgres:
                for table in projection.metadata.sorted_tables:  # no write-ahead log for what is rebuilt anyway
                    connection.execute(sa.text(f'ALTER TABLE "{table.name}" SET UNLOGGED'))
        name = f"{service}_{SUFFIX}" if settings.uses_postgres else ATTACHED
        return cls(projection, engine, name)

    def record_applied_through(self, source: str, position: int) -> None:
        """Record that the shadow has applied every event of log ``source`` up to ``position``."""
        with self.engine.begin() as connection:
            record_applied_through(connection, self.projection, source, position)

    def add_indexes(self) -> None:
        with self.engine.begin() as connection:
            schema.create_indexes(self.projection, connection)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def _attaches(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def beside(self, live: sa.Engine) -> Iterator[sa.Connection]:
        """A connection to the live database that also sees the shadow's tables (``table``)."""
        with live.connect() as connection:
            if self._attaches:  # outside a transaction, as SQLite requires
                connection.exec_driver_sql(f"ATTACH DATABASE ? AS {ATTACHED}", (self.engine.url.database,))
                connection.commit()
            try:
                yield connection
            finally:
                if self._attaches:
                    connection.rollback()
                    connection.exec_driver_sql(f"DETACH DATABASE {ATTACHED}")
                    connection.commit()

    def table(self, table: sa.Table) -> sa.Table:
        """The shadow's copy of the live ``table``, as a connection from ``beside`` names it."""
        if table.name not in self._tables:
            self._tables[table.name] = table.to_metadata(sa.MetaData(), schema=self.schema)
        return self._tables[table.name]

    def ready_to_go_live(self) -> None:
        """PostgreSQL: the shadow's tables written to the write-ahead log (unlogged while they were filled), then
        vacuumed and analysed, so that they can become the live ones (``replace_live``) with their statistics
        and their pages marked all-visible (both stay with a table that changes schema). This is most of a
        swap's work, done before it while the live tables still serve."""
        if self._attaches:
            return
        tables = [table.name for table in self.projection.metadata.sorted_tables]
        with self.engine.begin() as connection:
            for name in tables:
                connection.execute(sa.text(f'ALTER TABLE "{name}" SET LOGGED'))
        vacuum_analyse(self.engine, tables)

    def replace_live(self, connection: sa.Connection) -> None:
        """The live tables' rows replaced by the shadow's, inside the caller's transaction (a ``beside``
        connection holding the read model's lock).

        PostgreSQL: the shadow's tables (``ready_to_go_live`` first, which this checks) take the live ones'
        place: the live tables are dropped and the shadow's moved into the live schema, no row copied (copying
        34 million rows into indexed tables took longer than replaying 16 million events). Readers of those
        tables wait for the transaction's table locks; waiting for one longer than ``LOCK_WAIT`` (a long
        reader) fails the swap, to be tried again, rather than keep every later reader queued behind it. A
        view or other object someone made on a live table stops the swap (it is not dropped with it), and
        grants made by hand on the live tables do not carry over. SQLite: the rows are copied."""
        if self._attaches:
            self.copy_into(connection)
            return
        schema.hold_ddl_lock(connection)
        self._check_durable(connection)
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
        live_schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
        tables = self.projection.metadata.sorted_tables
        for table in reversed(tables):
            connection.execute(sa.text(f'DROP TABLE IF EXISTS "{live_schema}"."{table.name}"'))
        for table in tables:
            connection.execute(sa.text(f'ALTER TABLE "{self.schema}"."{table.name}" SET SCHEMA "{live_schema}"'))

    def _check_durable(self, connection: sa.Connection) -> None:
        """Refuse to put an unlogged table live (a crash would empty it)."""
        names = [table.name for table in self.projection.metadata.sorted_tables]
        unlogged = connection.execute(
            sa.text(
                "SELECT relname FROM pg_class WHERE relnamespace = CAST(:schema AS regnamespace) "
                "AND relname = ANY(:names) AND relpersistence <> 'p'"
            ),
            {"schema": self.schema, "names": names},
        ).scalars()
        if found := sorted(unlogged):
            raise RuntimeError(f"the rebuilt tables {', '.join(found)} are not durable yet; the swap refused them")

    def copy_into(self, connection: sa.Connection) -> None:
        """Replace the live rows with the shadow's, inside the caller's transaction (a ``beside`` connection)."""
        tables = self.projection.metadata.sorted_tables
        for table in reversed(tables):
            connection.execute(table.delete())
        for table in tables:
            connection.execute(self._copy_of(table, connection))

    def _copy_of(self, table: sa.Table, connection: sa.Connection) -> sa.Executable:
        """The statement copying ``table``'s shadow rows into the live one. On SQLite, where both tables have the
        same columns in the same order, ``INSERT INTO … SELECT *``: only that form lets SQLite move the records
        and index entries as they are (its transfer optimisation), in half the time. A live table can have its
        columns in another order (one a release added in place goes last), and then they are named."""
        if self._attaches and _columns(connection, "main", table.name) == _columns(connection, ATTACHED, table.name):
            name = connection.dialect.identifier_preparer.quote(table.name)  # the projection's own, never input
            return sa.text(f"INSERT INTO main.{name} SELECT * FROM {ATTACHED}.{name}")  # noqa: S608
        names = [column.name for column in table.columns]
        return table.insert().from_select(names, sa.select(*(self.table(table).c[name] for name in names)))

    def not_applied_live(self, connection: sa.Connection, source: str) -> int:
        """How many events of log ``source`` the shadow applied that the live model has not (yet): those it has
        no row of, above the position a rebuild applied the live model through. The shadow must have recorded a
        row per event (``build_shadows(record_each=True)``)."""
        live, shadow = self.projection.processed, self.table(self.projection.processed)
        through = through_table(live)
        rebuilt_through = sa.select(through.c.position).where(through.c.source == source).scalar_subquery()
        query = (
            sa.select(sa.func.count())
            .select_from(shadow)
            .where(
                ~sa.exists().where(live.c.event_id == shadow.c.event_id),
                shadow.c.position > sa.func.coalesce(rebuilt_through, 0),
            )
        )
        return int(connection.execute(query).scalar_one())

    def differences(self, connection: sa.Connection, limit: int = 10) -> list[str]:
        """Rows that differ between the live tables and the shadow's, at most ``limit`` each way per table. The
        record of events applied is not compared: a live model rebuilt before holds no row of the events up to
        the position it was rebuilt through (``not_applied_live`` tells whether it applied them)."""
        found: list[str] = []
        bookkeeping = {self.projection.processed, through_table(self.projection.processed)}
        for table in self.projection.metadata.sorted_tables:
            if table in bookkeeping:
                continue
            live, shadow = _compared(table, connection), _compared(self.table(table), connection)
            for rows, where in ((live, shadow), (shadow, live)):
                difference = sa.select(*rows).except_(sa.select(*where)).subquery()
                keys = [difference.c[column.name] for column in table.primary_key.columns]
                query = sa.select(difference).order_by(*keys).limit(limit)
                what = "only in live model" if rows is live else "missing from live model"
                found += [f"{table.name}: {what}: {tuple(row)}" for row in connection.execute(query)]
        return found


def _unsynchronised(dbapi_connection: Any, _record: object) -> None:
    # A shadow lost in a crash is rebuilt from the log anyway: no waiting for the disk at each commit.
    dbapi_connection.execute("PRAGMA synchronous=OFF")


def _compared(table: sa.Table, connection: sa.Connection) -> list[Any]:
    """The columns compared, as values the database can tell equal (PostgreSQL has no equality for ``json``)."""
    postgres = connection.dialect.name == "postgresql"
    return [
        sa.cast(column, JSONB).label(column.name) if postgres and isinstance(column.type, sa.JSON) else column
        for column in table.columns
    ]


def _columns(connection: sa.Connection, database: str, table: str) -> list[str]:
    """The columns of SQLite ``table`` in ``database`` (main, or the attached shadow), in their stored order."""
    return [row[1] for row in connection.exec_driver_sql(f'PRAGMA {database}.table_info("{table}")')]
