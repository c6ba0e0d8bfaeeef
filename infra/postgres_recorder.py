"""The PostgreSQL event store's insert in one statement: one round trip per command where there were several.

The eventsourcing library's recorder writes a command's events in a pipelined transaction of its own:
BEGIN, ``SET LOCAL lock_timeout``, ``LOCK TABLE … IN EXCLUSIVE MODE``, ``NOTIFY``, the INSERT, then COMMIT,
with two waits for the server and a result to read back for each statement (~25% of the submissions
service's work per filing, docs/benchmarks.md). Here the same statements run inside a function of the
database, called as one statement on the pool's connection (autocommit), so its transaction is the
statement's own: the table lock still keeps notification ids committed in their order (a relay never passes
over an id committed late), the NOTIFY still wakes the relays on commit, and the events of one command are
still stored all or none.

The library ships such a function too (``POSTGRES_ENABLE_DB_FUNCTIONS``), but without the table lock, so ids
could be committed out of order; hence this one, under a name of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier


class OneStatementPostgresRecorder(PostgresApplicationRecorder):
    """Chosen by ``infra.storage.event_store_env`` through ``APPLICATION_RECORDER_TOPIC``."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        # Versioned: replicas of two releases side by side (a rolling deploy) each call their own body.
        self.insert_function = f"satu_insert_v1_{events_table_name}"
        self.check_identifier_length(self.insert_function)
        names = {
            "schema": Identifier(datastore.schema),
            "function": Identifier(self.insert_function),
            "event": Identifier(self.stored_event_type_name),
            "table": Identifier(events_table_name),
            "channel": Identifier(self.channel_name),
        }
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}(events {schema}.{event}[]) "
                "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ "
                "BEGIN "
                "SET LOCAL lock_timeout = '{lock_timeout}s'; "
                "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
                "NOTIFY {channel}; "
                "RETURN QUERY INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
                "SELECT originator_id, originator_version, topic, state FROM unnest(events) "
                "RETURNING notification_id; "
                "END; $BODY$"
            ).format(lock_timeout=datastore.lock_timeout, **names)
        )
        self.insert_statement = SQL("SELECT * FROM {schema}.{function}(%s)").format(**names)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        # An application's recorder: no tracking record comes with its events (a process recorder's would).
        assert kwargs.get("tracking") is None, "a tracking record cannot be stored here"
        if not stored_events:
            return []
        rows = [
            self.construct_pg_stored_event(event.originator_id, event.originator_version, event.topic, event.state)
            for event in stored_events
        ]
        with self.datastore.get_connection() as connection, connection.cursor() as cursor:
            cursor.execute(self.insert_statement, (rows,), prepare=True)
            return [row[self.insert_function] for row in cursor.fetchall()]
