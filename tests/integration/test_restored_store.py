"""An event store restored from an earlier backup: its relay refuses it, and `satu relay-reset` recovers.

The restored store hands out the positions of the events it lost again; its relay would never publish the new
events there (they lie at or below its saved position) and the read models would keep what the lost events
did. Real processes (the four services and the relays), real RabbitMQ, a real SMTP server; the backup and the
restore are made with the databases' own tools (SQLite's online backup, pg_dump and psql).
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from eventsourcing.persistence import ApplicationRecorder

from infra import published
from infra.published import (
    CHECKPOINT_SPACING,
    EventName,
    PublishedMark,
    Publishing,
    event_at,
    kept_checkpoints,
    last_held_checkpoint,
    note_refusal,
    prepare_positions,
    published_mark,
    reset_position,
    store_mismatch,
)
from infra.settings import Settings
from infra.storage import read_model_engine
from ops.rebuild import READ_MODELS, run_all
from ops.relay_reset import FROM_END, FROM_START, Reset, ResetRefused, reset_relay
from ops.sources import open_source
from tests.support.recorded import CASE_EVENTS, MAILS, all_applied, count, record_cases, relay_position
from tests.support.scenario import VERIFIER, submit
from tests.support.smtp import ReceivedMail, SmtpSink
from tests.support.system import eventually, running_system

REFUSAL = "it was restored from a backup or replaced"


def test_a_restored_store_is_refused_until_reset_and_then_nothing_is_lost(settings: Settings, amqp_uri: str) -> None:
    backup = settings.var_dir.parent / "backup"
    with SmtpSink() as smtp:
        with running_system(settings, amqp_uri, smtp, gateway=False):
            record_cases(settings, "pertama@ormas.or.id")
            eventually(lambda: all_applied(settings), timeout=30)
            back_up_the_store(settings, backup)
            restored_end = store_end(settings)
            record_cases(settings, "hilang@ormas.or.id")  # the history the restore loses
            eventually(lambda: all_applied(settings, rounds=2), timeout=30)
            smtp.wait_for(count=2 * MAILS, timeout=30)
        restore_the_store(settings, backup)
        assert store_end(settings) == restored_end < relay_position(settings, "submissions")
        # Recorded on the restored store before its relay looked at it, at positions the lost round had (which
        # the relay published): it would never publish them, and the consumers would take them for seen.
        record_cases(settings, "sebelum@ormas.or.id")

        with running_system(settings, amqp_uri, smtp, gateway=False) as system:
            relay_log = system.log_dir / "relay-submissions.log"
            eventually(lambda: REFUSAL in relay_log.read_text(), timeout=30)
            record_cases(settings, "ketiga@ormas.or.id")  # recorded while the relay refuses: held back
            time.sleep(2.0)  # the relay looks again every poll (a second): it must still refuse
            assert count(settings, "submissions", "case_timeline") == 2 * CASE_EVENTS  # rounds 1 and 2
            assert len(case_mails(smtp)) == 2 * MAILS
            assert relay_log.read_text().count(REFUSAL) == 1  # said once, not at every look

            reset = satu(system.env, "relay-reset", "submissions")
            assert reset.returncode == 0, reset.stdout + reset.stderr
            assert "rebuilt from the submissions event store: submissions.cases, documents.letters" in reset.stderr

            # The lost round is gone from the read models; the two rounds recorded after the restore are applied
            # and mailed, once.
            eventually(lambda: count(settings, "submissions", "case_timeline") == 3 * CASE_EVENTS, timeout=30)
            eventually(lambda: count(settings, "documents", "letters") == 6, timeout=30)
            eventually(lambda: len(case_mails(smtp)) >= 4 * MAILS, timeout=30)
            time.sleep(1.0)  # a mail sent twice would have arrived by now
            recipients = [str(mail.message["To"]) for mail in case_mails(smtp)]
            assert len(recipients) == 4 * MAILS
            assert all(recipients.count(f"{who}@ormas.or.id") == MAILS for who in ("sebelum", "ketiga"))
            assert "its position was reset" in relay_log.read_text()
            assert all(not outcome.differences for outcome in run_all(list(READ_MODELS), settings, False, _quiet))

            again = satu(system.env, "relay-reset", "submissions")
            assert again.returncode == 0 and "nothing to reset" in again.stderr
            unknown = satu(system.env, "relay-reset", "arsip")
            assert unknown.returncode == 2 and "unknown event store 'arsip'" in unknown.stderr
            wrong = satu(system.env, "relay-reset", "submissions", "--from", "tengah")
            assert wrong.returncode == 2 and "--from must be start or end" in wrong.stderr


def test_the_relay_refuses_a_store_without_the_event_it_published_last(settings: Settings) -> None:
    """The check itself, on both backends: beyond the store's end, another event there, the same event, a
    position moved by a release from before the event id, and a refusal that stays."""
    record_cases(settings)
    source = open_source("submissions", settings)
    recorder = source.application.recorder
    engine = read_model_engine(settings, "submissions")
    prepare_positions(engine)

    def mismatch(position: int, name: EventName) -> str | None:
        Publishing(engine, "submissions", recorder).save(position, name)
        return store_mismatch(recorder, "submissions", published_mark(engine, "submissions"))

    try:
        end = source.last_position()
        last = named(recorder, end)
        assert mismatch(end, last) is None
        assert f"has no event at position {end + 5}" in str(mismatch(end + 5, EventName(OTHER, "f" * 40)))
        assert "holds another event at position" in str(mismatch(end, EventName(OTHER, "f" * 40)))
        assert mismatch(end - 1, named(recorder, end - 1)) is None

        # A release from before the event id (a rollback) moves the position alone: the id no longer belongs to
        # it, and the position is checked alone.
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE relay_positions SET position = :end"), {"end": end})
        assert store_mismatch(recorder, "submissions", published_mark(engine, "submissions")) is None

        # Once refused, always refused until `satu relay-reset`: the store growing past the position changes nothing.
        checked = published_mark(engine, "submissions")
        note_refusal(engine, "submissions", checked, end)
        assert "refused the submissions event store before" in str(
            store_mismatch(recorder, "submissions", published_mark(engine, "submissions"))
        )
        stale = PublishedMark(end - 1)
        assert not reset_position(engine, "submissions", stale, end, last, kept=end)  # not the mark it checked
        assert reset_position(engine, "submissions", checked, end, last, kept=end)
        assert store_mismatch(recorder, "submissions", published_mark(engine, "submissions")) is None
    finally:
        engine.dispose()
        source.close()


def test_the_relay_refuses_a_store_where_the_same_step_was_taken_again_at_its_position(settings: Settings) -> None:
    """The lost event and the one recorded after the restore in its place are of the same case, at the same
    version (the officer took the same step again): their integration events have the same id. The relay still
    tells them apart, by what the store recorded, and refuses the store; so do the checkpoints."""
    backup = settings.var_dir.parent / "backup"
    source = open_source("submissions", settings)
    case = submit(source.application)  # type: ignore[arg-type]
    source.close()
    back_up_the_store(settings, backup)
    source = open_source("submissions", settings)
    source.application.act(VERIFIER, case["id"], "take", {})  # type: ignore[attr-defined]
    published_through = source.last_position()
    lost = next(source.as_published(start=published_through - 1))
    engine = read_model_engine(settings, "submissions")
    prepare_positions(engine)
    Publishing(engine, "submissions", source.application.recorder).save(
        published_through, named(source.application.recorder, published_through)
    )
    source.close()

    restore_the_store(settings, backup)
    source = open_source("submissions", settings)
    try:
        source.application.act(VERIFIER, case["id"], "take", {})  # type: ignore[attr-defined]
        again = next(source.as_published(start=published_through - 1))
        assert (again.event_id, again.position) == (lost.event_id, lost.position)  # the same id, the same place
        recorder = source.application.recorder
        mark = published_mark(engine, "submissions")
        assert f"holds another event at position {published_through}" in str(
            store_mismatch(recorder, "submissions", mark)
        )
        assert last_held_checkpoint(engine, recorder, "submissions") < published_through
    finally:
        engine.dispose()
        source.close()


def test_a_mark_and_checkpoints_of_the_release_before_keys_are_checked_by_id_and_keyed_when_the_lock_is_taken(
    settings: Settings,
) -> None:
    """Back on the release before keys (a rollback), its relay moved the position and the id and left the key of
    an earlier position: the mark is compared by id (the store holds the case at that version there, or not),
    and named by its key as soon as this release's relay takes its lock, not at its next save (which a quiet
    system may not make for long). So is each checkpoint the release before made, if the store holds its event;
    one it does not hold stays unkeyed and is not taken for held. The release before reads the id, saved beside
    the key, as it always did."""
    record_cases(settings)
    source = open_source("submissions", settings)
    recorder = source.application.recorder
    engine = read_model_engine(settings, "submissions")
    prepare_positions(engine)
    try:
        end = source.last_position()
        Publishing(engine, "submissions", recorder).save(end - 1, named(recorder, end - 1))  # this release
        [(_position, last)] = list(source.integration_events(start=end - 1))
        with engine.begin() as connection:  # then the release before: its save, and its checkpoints, by id alone
            connection.execute(
                sa.text("UPDATE relay_positions SET position = :end, event_id = :id, event_position = :end"),
                {"end": end, "id": last.event_id},
            )
            connection.execute(sa.text("UPDATE relay_checkpoints SET event_key = NULL"))
            connection.execute(
                sa.text("INSERT INTO relay_checkpoints VALUES ('submissions', :at, :id, NULL)"),
                {"at": end - 2, "id": OTHER},  # not the event the store holds there
            )
        mark = published_mark(engine, "submissions")
        assert mark.name == EventName(last.event_id) and store_mismatch(recorder, "submissions", mark) is None

        Publishing(engine, "submissions", recorder).checkpoint_held(PublishedMark(end - 1))  # a mark moved since
        assert published_mark(engine, "submissions") == mark  # unchanged
        Publishing(engine, "submissions", recorder).checkpoint_held(mark)  # the relay, taking its lock

        assert published_mark(engine, "submissions").name == named(recorder, end)
        with engine.connect() as connection:
            keys = {
                at: key for at, key in connection.execute(sa.text("SELECT position, event_key FROM relay_checkpoints"))
            }
            saved = connection.execute(sa.text("SELECT event_id, event_position FROM relay_positions")).one()
        assert keys[end - 2] is None and all(key for at, key in keys.items() if at != end - 2)
        assert last_held_checkpoint(engine, recorder, "submissions") != end - 2
        assert tuple(saved) == (last.event_id, end)  # what the release before reads and compares

        Publishing(engine, "submissions", recorder).save(end, EventName(OTHER))  # another case, or version
        mark = published_mark(engine, "submissions")
        assert "holds another event" in str(store_mismatch(recorder, "submissions", mark))
    finally:
        engine.dispose()
        source.close()


def named(recorder: ApplicationRecorder, position: int) -> EventName:
    name = event_at(recorder, position)
    assert name is not None, f"no event at position {position}"
    return name


def test_checkpoints_stay_few_and_one_lies_near_wherever_a_backup_ended() -> None:
    """A relay's checkpoints over a log of 2 million positions: a few dozen, and wherever a backup ended, one lies
    before it by no more than the backup lies behind the log's end (what a reset publishes again)."""
    held: set[int] = set()
    for head in range(0, 2_000_001, CHECKPOINT_SPACING):
        held = kept_checkpoints([*held, head], head)
        assert len(held) <= 2 * ((head // CHECKPOINT_SPACING).bit_length() + 1)
        for lost in (10, 5_000, 40_000, 300_000, 1_500_000):  # how far behind the end the backup's end lies
            if head % 97_000 == 0 and lost <= head:
                before = max(position for position in held if position <= head - lost)
                assert head - lost - before <= max(lost, CHECKPOINT_SPACING), (head, lost, before)


OTHER = "00000000-0000-5000-8000-000000000000"


def store_end(settings: Settings) -> int:
    source = open_source("submissions", settings)
    try:
        return source.last_position()
    finally:
        source.close()


def _quiet(_name: str, _total: int):  # type: ignore[no-untyped-def]
    return lambda _position: None


def case_mails(smtp: SmtpSink) -> list[ReceivedMail]:
    """The mails about cases (an account's confirmation mail depends on a race with its direct confirmation)."""
    return [mail for mail in smtp.messages if "SKM-" in str(mail.message["Subject"])]


def satu(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops.cli", *arguments], env=env, capture_output=True, text=True, timeout=120
    )


def back_up_the_store(settings: Settings, backup: Path) -> None:
    """The submissions event store as a backup would save it, while the system runs."""
    if settings.uses_postgres:
        tables = _store_tables(settings)
        dump = [_pg("pg_dump"), "--clean", "--if-exists", *(f"--table=submissions.{t}" for t in tables)]
        with backup.open("w") as out:
            subprocess.run([*dump, settings.database_url], stdout=out, check=True, timeout=60)
        return
    # closing(): sqlite3's own context manager commits but leaves the connection open, and an open connection
    # to the store's file would meet a file replaced under it.
    live = contextlib.closing(sqlite3.connect(settings.var_dir / "submissions-events.sqlite"))
    with live as store, contextlib.closing(sqlite3.connect(backup)) as saved:
        store.backup(saved)


def restore_the_store(settings: Settings, backup: Path) -> None:
    """Put the backup back in place of the store (the system is stopped)."""
    if settings.uses_postgres:
        restore = [_pg("psql"), "--quiet", "--set=ON_ERROR_STOP=1", f"--file={backup}", settings.database_url]
        subprocess.run(restore, check=True, timeout=60, capture_output=True)
        return
    store = settings.var_dir / "submissions-events.sqlite"
    for leftover in (Path(f"{store}-wal"), Path(f"{store}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(backup, store)


def _store_tables(settings: Settings) -> list[str]:
    """The event store's own tables in the submissions schema (events and snapshots), not the read models."""
    engine = sa.create_engine(settings.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema = 'submissions' "
                    "AND column_name = 'originator_version'"
                )
            )
            return [row[0] for row in rows]
    finally:
        engine.dispose()


def _pg(tool: str) -> str:
    found = shutil.which(tool) or next(iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"))), None)
    assert found, f"{tool} is not installed"
    return str(found)


def test_a_relays_first_checkpoints_reach_back_into_the_store(settings: Settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The first save of a relay (after an upgrade to checkpoints, or on a new store) also checkpoints the
    events the store holds at each doubling of the distance back: a backup taken before still finds one."""
    monkeypatch.setattr(published, "CHECKPOINT_SPACING", 4)
    for round_ in range(3):
        record_cases(settings, f"ronde{round_}@ormas.or.id")
    source = open_source("submissions", settings)
    engine = read_model_engine(settings, "submissions")
    prepare_positions(engine)
    try:
        recorder = source.application.recorder
        end = source.last_position()
        Publishing(engine, "submissions", recorder).save(end, named(recorder, end))
        with engine.connect() as connection:
            held = sorted(connection.execute(sa.text("SELECT position FROM relay_checkpoints")).scalars())
        back = [4 * 2**k for k in range(10)]
        assert held == sorted({end, 1, *(end - distance for distance in back if end - distance >= 1)})
        assert last_held_checkpoint(engine, recorder, "submissions") == end
    finally:
        engine.dispose()
        source.close()


def test_a_store_holding_none_of_the_checkpoints_is_reset_only_as_told(settings: Settings) -> None:
    """Another system's store, or a backup from before checkpoints: the reset cannot tell where the backup
    ended, so it asks (republishing everything could mail every event of another system)."""
    record_cases(settings, "asli@ormas.or.id")
    source = open_source("submissions", settings)
    engine = read_model_engine(settings, "submissions")
    prepare_positions(engine)
    recorder = source.application.recorder
    Publishing(engine, "submissions", recorder).save(source.last_position(), named(recorder, source.last_position()))
    source.close()
    replace_the_store(settings)
    record_cases(settings, "lain@ormas.or.id")  # the other system's history, at the same positions
    try:
        with pytest.raises(ResetRefused, match="holds none of its relay's checkpoints"):
            reset_relay("submissions", settings, _quiet)
        reset = reset_relay("submissions", settings, _quiet, FROM_END)
        assert reset is not None and reset.position == reset.end == store_end(settings)
        assert reset_relay("submissions", settings, _quiet) is None  # it matches now
        # The other system's checkpoints are gone; the relay's next save checkpoints this store's events.
        record_cases(settings, "berikut@ormas.or.id")
        source = open_source("submissions", settings)
        recorder, end = source.application.recorder, source.last_position()
        assert last_held_checkpoint(engine, recorder, "submissions") == 0
        Publishing(engine, "submissions", recorder).save(end, named(recorder, end))
        assert last_held_checkpoint(engine, recorder, "submissions") == end
        source.close()
        with pytest.raises(ResetRefused, match="leave out --from"):  # a store holding a checkpoint: not asked
            with engine.begin() as connection:
                connection.execute(sa.text("UPDATE relay_positions SET refused_at = 1"))
            reset_relay("submissions", settings, _quiet, FROM_END)
        with engine.begin() as connection:  # and with none of them held, the other way
            connection.execute(sa.text("DELETE FROM relay_checkpoints"))
        assert reset_relay("submissions", settings, _quiet, FROM_START) == Reset(
            "submissions", ["submissions.cases", "documents.letters"], 0, store_end(settings)
        )
    finally:
        engine.dispose()


def replace_the_store(settings: Settings) -> None:
    """An empty submissions event store in place of the one there (its positions start again at 1)."""
    if settings.uses_postgres:
        tables = ", ".join(f"submissions.{table}" for table in _store_tables(settings))
        engine = sa.create_engine(settings.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as connection:
            connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY"))
        engine.dispose()
        return
    (settings.var_dir / "submissions-events.sqlite").unlink()


def test_a_relay_upgraded_on_a_quiet_system_checkpoints_when_it_takes_its_lock(settings: Settings) -> None:
    """Its position saved by a release from before checkpoints (no event id with it), and no new event since: a
    restore now must still find a checkpoint, so the relay makes them when it reads its mark."""
    record_cases(settings)
    source = open_source("submissions", settings)
    engine = read_model_engine(settings, "submissions")
    prepare_positions(engine)
    try:
        recorder, end = source.application.recorder, source.last_position()
        saved_before = sa.text("INSERT INTO relay_positions (source, position) VALUES ('submissions', :p)")
        with engine.begin() as connection:  # as the release before saved it: the position alone
            connection.execute(saved_before, {"p": end})
        mark = published_mark(engine, "submissions")
        assert mark.name is None and store_mismatch(recorder, "submissions", mark) is None
        Publishing(engine, "submissions", recorder).checkpoint_held(mark)
        assert last_held_checkpoint(engine, recorder, "submissions") == end
        with engine.connect() as connection:
            assert 1 in set(connection.execute(sa.text("SELECT position FROM relay_checkpoints")).scalars())
    finally:
        engine.dispose()
        source.close()
