"""Pooled connections to PostgreSQL, without a ping before every use. A read model's connection that rested
in the pool is checked before use (a database restart meanwhile costs a reconnect, not a failed command);
one used a moment ago is not pinged. The event stores' connections are never pinged: a dropped one fails
its statement before anything commits and the store tries again on another. An event is recorded as
applied once, its duplicate found by the same statement (real PostgreSQL)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from infra import storage
from infra.readmodel import ReadModel
from infra.storage import read_model_engine
from ops.sources import open_source
from services.notifications.mailer import FileMailer, OutgoingMail
from services.notifications.outbox import MailOutbox, OutboxProjection
from services.submissions.application import build_application
from services.submissions.dependencies import CaseCountsStore, CaseList, OrganisationCopies
from services.submissions.projections import CaseProjection
from tests.support.scenario import submit

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


def _backend_of(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(settings, pid: int | None = None) -> int:
    """What a database restart does to pooled connections: their server processes are gone (``pid``'s, or
    every other one of this test's database); returns how many."""
    with storage.postgres_session(settings.database_url) as admin:
        return len(
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND (%s::int IS NULL OR pid = %s)",
                (pid, pid),
            ).fetchall()
        )


def test_a_connection_that_rested_is_checked_and_replaced_when_its_server_process_is_gone(
    settings, monkeypatch
) -> None:
    monkeypatch.setattr(storage, "IDLE_BEFORE_PING", 0.0)  # every return to the pool counts as a rest
    engine = read_model_engine(settings, "submissions")
    first = _backend_of(engine)
    _terminate(settings, first)

    assert _backend_of(engine) != first  # checked on its way out, replaced, and the query answered
    engine.dispose()


def test_a_connection_checked_after_its_rest_leaves_no_transaction_open(settings, monkeypatch) -> None:
    """The check is a query; a transaction it left open would keep the caller from switching the connection to
    autocommit (as ``satu rebuild`` does for VACUUM). The dialect's ping runs in autocommit, so none is."""
    monkeypatch.setattr(storage, "IDLE_BEFORE_PING", 0.0)
    engine = read_model_engine(settings, "submissions")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE rested (n integer)")
    with engine.connect() as connection:  # checked on its way out of the pool
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        autocommit.exec_driver_sql("VACUUM (ANALYZE) rested")
    engine.dispose()


def test_a_connection_for_each_worker_stays_open_between_transactions(settings) -> None:
    """A service's workers all busy at once, then again: the second time no connection is opened (each new one
    is a new server process of PostgreSQL)."""
    engine = read_model_engine(settings.model_copy(update={"max_workers": 8}), "submissions")
    opened = []
    sa.event.listen(engine, "connect", lambda *_args: opened.append(1))
    all_busy = threading.Barrier(8)

    def transaction(_n: int) -> None:
        with engine.begin() as connection:
            all_busy.wait(timeout=10)  # every worker holds its connection at the same moment
            connection.execute(sa.text("SELECT 1"))

    for busy_spell in range(2):
        with ThreadPoolExecutor(8) as workers:
            list(workers.map(transaction, range(8)))
        assert len(opened) == 8, f"busy spell {busy_spell + 1}"
    engine.dispose()


def test_a_services_read_models_share_one_pool_in_its_process(settings) -> None:
    """submissions keeps three read models (case list, organisations, the dashboard's counts): a pool each would
    hold three times the connections of the one service."""
    read_models = [CaseList().build(settings), OrganisationCopies().build(settings), CaseCountsStore().build(settings)]

    assert len({id(read_model.engine) for read_model in read_models}) == 1
    read_models[0].engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(settings, monkeypatch) -> None:
    """The counterpart: without the rest, the dead connection is used as it is (no round trip per checkout)."""
    monkeypatch.setattr(storage, "IDLE_BEFORE_PING", 3600.0)
    engine = read_model_engine(settings, "submissions")
    _terminate(settings, _backend_of(engine))

    with pytest.raises(OperationalError):
        _backend_of(engine)
    assert _backend_of(engine) > 0  # SQLAlchemy dropped the broken connection; the next one works
    engine.dispose()


def test_an_event_is_recorded_once_and_its_duplicate_found_by_the_same_statement(settings) -> None:
    source = open_source("submissions", settings)
    submit(source.application)  # type: ignore[arg-type]
    events = [event for _position, event in source.integration_events()]
    source.close()
    cases = ReadModel(CaseProjection(), read_model_engine(settings, "submissions"))

    assert [cases.handle(event) for event in events] == [True] * len(events)
    assert [cases.handle(event) for event in events] == [False] * len(events)
    with cases.engine.connect() as connection:
        recorded = connection.execute(sa.select(sa.func.count()).select_from(cases.projection.processed)).scalar_one()
    assert recorded == len(events)
    cases.close()


def test_a_command_goes_through_when_every_event_store_connection_was_dropped(settings) -> None:
    source = open_source("submissions", settings)
    application = source.application
    submit(application)  # type: ignore[arg-type]
    before = application.recorder.max_notification_id()  # type: ignore[attr-defined]

    assert _terminate(settings) >= 1  # the pool's connections, as a database restart leaves them
    submit(application)  # type: ignore[arg-type]

    assert application.recorder.max_notification_id() > before  # type: ignore[attr-defined]
    source.close()


def test_a_mail_sent_while_its_connection_died_is_still_recorded_as_sent(settings, monkeypatch, tmp_path) -> None:
    """Between the claim and the mark "sent" the connection is not pinged (it was used a moment ago): when the
    database dropped it meanwhile, the mark goes through on a new one, or the mail would be sent again."""
    monkeypatch.setattr(storage, "IDLE_BEFORE_PING", 3600.0)
    source = open_source("submissions", settings)
    submit(source.application)  # type: ignore[arg-type]
    [(_position, event)] = list(source.integration_events())
    source.close()
    outbox = MailOutbox(ReadModel(OutboxProjection(), read_model_engine(settings, "notifications")))
    mail = OutgoingMail("<m-1@satu-ormas.test>", to="sekretaris@example.org", subject="Diterima", body="Terima kasih")
    assert outbox.record(event, mail)

    assert _terminate(settings) >= 1
    assert outbox.send(FileMailer(tmp_path / "mail", "noreply@satu-ormas.test"), event.event_id, mail)

    assert outbox.stats() == {"sent": 1, "waiting": 0, "possibly_sent_twice": 0}
    outbox.read_model.close()


def _connections_of_this_database(settings) -> int:
    with storage.postgres_session(settings.database_url) as admin:
        count = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert count is not None
    return int(count[0])


def test_a_relay_or_a_rebuild_keeps_one_event_store_connection_where_a_service_keeps_five(settings) -> None:
    """The library opens a store's pool at once: a service's five for its workers. A relay, a rebuild's worker
    or a `satu` command reads or writes one call at a time: one, and at most two (each relay held nine
    connections before)."""
    storage.ensure_postgres_schema(settings, "submissions")
    before = _connections_of_this_database(settings)
    service = build_application(storage.event_store_env(settings, "submissions"), settings)
    service.recorder.datastore.pool.wait(timeout=10)  # type: ignore[attr-defined]
    with_service = _connections_of_this_database(settings)
    source = open_source("submissions", settings)
    submit(source.application)  # type: ignore[arg-type]
    submit(source.application)  # type: ignore[arg-type]

    assert with_service - before >= storage.WORKERS.kept == 5
    assert _connections_of_this_database(settings) - with_service <= storage.ONE_THREAD.kept + 1 == 2
    source.close()
    service.close()
