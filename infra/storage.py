"""Where each service keeps its data: SQLite files under var/ by default, PostgreSQL when configured.

One PostgreSQL database serves every service, each in its own schema; with SQLite each service
has its own files. This module is the only place that knows the difference.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import psycopg
import sqlalchemy as sa
from sqlalchemy import event as sa_event

from infra.settings import Settings


@dataclass(frozen=True)
class StorePool:
    """The connections an event store keeps open in a process (PostgreSQL; the library opens them at once), and
    how many more it may open while busy."""

    kept: int
    extra: int


WORKERS = StorePool(kept=5, extra=10)  # a service: its workers write at once
ONE_THREAD = StorePool(kept=1, extra=1)  # a relay, a rebuild, a `satu` command: one call at a time
# How long a service's event store call waits for a pooled connection, in seconds (the library's default, 30 s,
# is as long as the gateway waits for an answer, and the library tries a call 10 times): with the database
# down, a request is answered "unavailable" in ~20 s at worst. A free connection comes in ms: the pool holds
# more than a service's workers. A relay, a rebuild or a `satu` command keeps the library's default, so a
# failover during a long rebuild is ridden out.
SERVICE_CONNECTION_WAIT = "2"


def event_store_env(settings: Settings, service: str, pool: StorePool = WORKERS) -> dict[str, str]:
    """Environment for an eventsourcing Application of ``service``."""
    if not settings.uses_postgres:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.var_dir / f"{service}-events.sqlite"),
            "SQLITE_LOCK_TIMEOUT": "10",
            # Tells the store's relay after each commit (infra/wake.py); PostgreSQL's recorder NOTIFYs itself.
            "APPLICATION_RECORDER_TOPIC": "infra.wake:WakingSQLiteApplicationRecorder",
        }
    url = urlsplit(settings.database_url)
    ensure_postgres_schema(settings, service)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or os.environ.get("USER", "postgres"),
        "POSTGRES_PASSWORD": url.password or "",
        "POSTGRES_SCHEMA": service,
        "POSTGRES_POOL_SIZE": str(pool.kept),
        "POSTGRES_MAX_OVERFLOW": str(pool.extra),
        # No ping before each use (a round trip per store call): a connection the database dropped (a restart)
        # fails its statement before anything is committed, the pool discards it, and the library's recorder
        # tries again on another (up to 10 attempts, 0.2 s apart), so a command does not fail on it.
        "POSTGRES_PRE_PING": "n",
        **({"POSTGRES_CONNECT_TIMEOUT": SERVICE_CONNECTION_WAIT} if pool is WORKERS else {}),
        # A command's events stored in one statement (one round trip), their ids committed in order.
        "APPLICATION_RECORDER_TOPIC": "infra.postgres_recorder:OneStatementPostgresRecorder",
    }


def sqlalchemy_url(settings: Settings, service: str) -> str:
    if not settings.uses_postgres:
        return f"sqlite:///{settings.var_dir / f'{service}.sqlite'}"
    return settings.database_url.replace("postgres://", "postgresql://", 1).replace(
        "postgresql://", "postgresql+psycopg://", 1
    )


# Services, replicas and relays start at the same moment and create the same schemas and tables.
# PostgreSQL's IF NOT EXISTS is not safe against that race, so all DDL is serialised on one lock.
DDL_LOCK_KEY = 7_361_104_213


def postgres_session(database_url: str) -> psycopg.Connection[Any]:
    """A long-lived connection of its own (a relay's lock, its LISTEN), in autocommit. TCP keepalives find a
    peer that vanished without a word (a network cut) dead in about 5 + 2 x 3 seconds."""
    return psycopg.connect(
        database_url,
        autocommit=True,
        connect_timeout=5,
        keepalives=1,
        keepalives_idle=5,
        keepalives_interval=2,
        keepalives_count=3,
    )


def ensure_postgres_schema(settings: Settings, schema: str) -> None:
    engine = sa.create_engine(sqlalchemy_url(settings, schema))
    with engine.begin() as connection:
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": DDL_LOCK_KEY})
        connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    engine.dispose()


def create_tables(metadata: sa.MetaData, engine: sa.Engine) -> None:
    """``metadata.create_all`` that is safe when several processes start together, and that upgrades a
    deployed database: a column a newer release adds to an existing table is added (see add_new_columns)."""
    with engine.begin() as connection:
        hold_ddl_lock(connection)
        metadata.create_all(connection)
        add_new_columns(metadata, connection)
        add_new_indexes(metadata, connection)


def hold_ddl_lock(connection: sa.Connection) -> None:
    """Serialise schema changes with every other process until ``connection``'s transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": DDL_LOCK_KEY})


def add_new_columns(metadata: sa.MetaData, connection: sa.Connection) -> list[str]:
    """The additive part of a read model's schema changes, applied in place: each column the code declares
    that the table lacks is added. Such a column must be nullable (or have a server default), since rows
    exist already; the projection fills it for new events, and `satu rebuild` fills it for old ones.
    Anything else (a changed type, a removed column) raises the projection's version and goes through
    `satu upgrade`, a rebuild beside the old tables (infra/schema.py)."""
    inspector = sa.inspect(connection)
    added = []
    for table in metadata.sorted_tables:
        existing = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in existing:
                continue
            if not column.nullable and column.server_default is None:
                raise RuntimeError(
                    f"read model table {table.name} lacks column {column.name}, which cannot be added in place "
                    "(NOT NULL without a default): raise the projection's version, and `satu upgrade` rebuilds it"
                )
            kind = column.type.compile(dialect=connection.dialect)
            default = f" DEFAULT {column.server_default.arg}" if column.server_default is not None else ""  # type: ignore[attr-defined]
            connection.execute(sa.text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}{default}'))
            added.append(f"{table.name}.{column.name}")
    return added


def add_new_indexes(metadata: sa.MetaData, connection: sa.Connection) -> list[str]:
    """Indexes the code declares that an existing table lacks, created in place (an index changes no row, so a
    release may add one without a new schema version). On a large table this takes a while, once; writers to
    that table wait meanwhile, readers do not."""
    inspector = sa.inspect(connection)
    added = []
    for table in metadata.sorted_tables:
        existing = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in sorted(table.indexes, key=lambda index: str(index.name)):
            if index.name not in existing:
                index.create(connection)
                added.append(str(index.name))
    return added


@contextmanager
def ddl_lock(settings: Settings) -> Iterator[None]:
    """Hold the DDL lock while something else (an eventsourcing Application) creates its tables."""
    if not settings.uses_postgres:
        yield
        return
    engine = sa.create_engine(sqlalchemy_url(settings, "postgres"))
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": DDL_LOCK_KEY})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": DDL_LOCK_KEY})
                connection.commit()
    finally:
        engine.dispose()


OVERFLOW_CONNECTIONS = 5  # a read model's connections beyond one per worker, closed again once returned


def read_model_engine(settings: Settings, service: str, schema_suffix: str = "") -> sa.Engine:
    """Engine for a service's read models; tables are unqualified and land in the service's schema."""
    if not settings.uses_postgres:
        suffix = f".{schema_suffix}" if schema_suffix else ""
        path = settings.var_dir / f"{service}{suffix}.sqlite"
        engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})
        sa_event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    schema = f"{service}_{schema_suffix}" if schema_suffix else service
    ensure_postgres_schema(settings, schema)
    engine = sa.create_engine(
        sqlalchemy_url(settings, service),
        connect_args={"options": f"-csearch_path={schema}"},
        # A connection for each worker stays open between transactions. With SQLAlchemy's 5, a service's ten
        # workers busy at once opened and closed the other five again and again: a new PostgreSQL server
        # process per connection, 97 of them per 800 filings through the whole system (docs/benchmarks.md).
        # A burst beyond the workers (timers, the consumers' own) may open a few more, as before.
        pool_size=settings.max_workers,
        max_overflow=OVERFLOW_CONNECTIONS,
    )
    ping_when_idle(engine)
    return engine


def vacuum_analyse(engine: sa.Engine, tables: Iterable[str]) -> None:
    """``VACUUM (ANALYZE)`` each of ``tables`` on PostgreSQL (SQLite keeps no row versions): after their rows were
    written wholesale, the planner gets their statistics, dead row versions go, and their pages are marked
    all-visible, so that an index-only scan stays in the index."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:  # in autocommit: VACUUM refuses a transaction
        connection.execution_options(isolation_level="AUTOCOMMIT")
        for name in tables:
            connection.exec_driver_sql(f'VACUUM (ANALYZE) "{name}"')


IDLE_BEFORE_PING = 1.0  # seconds a pooled connection may rest before it is checked on its way out


def ping_when_idle(engine: sa.Engine) -> None:
    """A connection that rested in the pool is checked before use, so that a database restart meanwhile
    costs a reconnect, not a failed command. One in use within the last second is not: ``pool_pre_ping``
    pinged before every checkout, a round trip per transaction for nothing while the system is busy."""

    @sa_event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: object, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @sa_event.listens_for(engine, "checkout")
    def _taken(dbapi_connection: Any, record: Any, _proxy: object) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < IDLE_BEFORE_PING:
            return  # just opened, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise sa.exc.DisconnectionError(str(error)) from error  # the pool replaces it and tries again


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # WAL lets the relay, the CLI and the service read while one writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
