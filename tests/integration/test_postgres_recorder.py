"""The PostgreSQL event store's one-statement insert (infra/postgres_recorder.py), on a real server: a command's
events are stored all or none, and a commit waits for an earlier writer, so that a relay reading the log
never passes over an id that is committed after a later one."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from psycopg.sql import SQL, Identifier

from infra.postgres_recorder import OneStatementPostgresRecorder
from infra.settings import Settings
from infra.storage import event_store_env
from services.submissions.application import build_application

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


def _event(originator_id: uuid.UUID, version: int = 1) -> StoredEvent:
    return StoredEvent(originator_id=originator_id, originator_version=version, topic="test:Event", state=b"{}")


def _waits_for_the_table(watcher: psycopg.Connection[Any], writer: threading.Thread, timeout: float = 30) -> bool:
    """True once another session waits for a lock on the events table; False if ``writer`` finished first."""
    deadline = time.monotonic() + timeout
    while writer.is_alive() and time.monotonic() < deadline:
        with psycopg.connect(watcher.info.dsn, autocommit=True) as look:
            waiting = look.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'relation' "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchone()
        if waiting and waiting[0]:
            return writer.is_alive()
        time.sleep(0.02)
    return False


def test_a_commands_events_are_stored_in_order_and_all_or_none(settings: Settings) -> None:
    app = build_application(event_store_env(settings, "submissions"), settings)
    recorder = app.recorder
    assert isinstance(recorder, OneStatementPostgresRecorder)
    first, second = uuid.uuid4(), uuid.uuid4()
    ids = recorder.insert_events([_event(first), _event(first, 2), _event(second)])
    assert ids is not None and len(ids) == 3 and list(ids) == sorted(ids)

    third = uuid.uuid4()
    with pytest.raises(IntegrityError):  # second's version 1 is taken: the whole command is refused
        recorder.insert_events([_event(third), _event(second)])
    assert recorder.select_events(third) == []
    assert recorder.max_notification_id() == ids[-1]
    assert recorder.insert_events([]) == []
    app.close()


def test_a_commit_waits_for_a_writer_that_began_before_it(settings: Settings) -> None:
    app = build_application(event_store_env(settings, "submissions"), settings)
    recorder = app.recorder
    assert isinstance(recorder, OneStatementPostgresRecorder)
    table = SQL("{}.{}").format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
    done: dict[str, Any] = {}
    with psycopg.connect(settings.database_url) as earlier:
        # What a writer holds while its insert is not yet committed (its id taken, not yet visible).
        earlier.execute(SQL("LOCK TABLE {} IN ROW EXCLUSIVE MODE").format(table))
        later = threading.Thread(target=lambda: done.update(ids=recorder.insert_events([_event(uuid.uuid4())])))
        later.start()
        assert _waits_for_the_table(earlier, later), "a later writer committed while an earlier one was still open"
        earlier.commit()
    later.join(timeout=30)
    assert not later.is_alive() and len(done["ids"]) == 1
    app.close()
