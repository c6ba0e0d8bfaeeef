"""`satu demo-data` on SQLite and PostgreSQL: a realistic dataset written through the applications — every
service and every state, the region's kecamatan, exact counts — whose read models equal a rebuild and whose
history is never published (no mail for generated people); the same seed gives the same dataset."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from eventsourcing.application import Repository

from contracts.identity import Caller, Role
from infra.catalogue import load_catalogue
from infra.published import EventName, Publishing, prepare_positions, published_mark
from infra.readmodel import ReadModel, applied_through
from infra.settings import Settings
from infra.storage import read_model_engine
from infra.topology import REBUILDABLE, read_model
from ops.demo_data import generator
from ops.demo_data.generator import GenerationError, generate
from ops.demo_data.stores import GenerationRefused
from ops.demo_data.walks import reachable_states
from ops.demo_data.writer import Batch, Writer, WriterFailed
from ops.rebuild import run as rebuild
from ops.seed import seed
from ops.sources import open_source
from services.registry.domain import Organisation
from services.registry.regions import load_region
from tests.support.factories import organisation_payload
from tests.support.recorded import mark_published

UNTIL = dt.datetime(2026, 6, 30, 8, tzinfo=dt.UTC)  # 16:00 in Balikpapan
PASSWORD = "kata-sandi-demo-panjang"


def _rows(settings: Settings, service: str, sql: str) -> list[Any]:
    engine = read_model_engine(settings, service)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql))]
    finally:
        engine.dispose()


def test_a_dataset_of_every_service_and_state_that_equals_a_rebuild(settings: Settings) -> None:
    summary = generate(settings, organisations=200, cases=1000, seed=3, until=UNTIL, password=PASSWORD)

    catalogue = load_catalogue()
    every_state = {
        (key, state) for key, workflow in catalogue.workflows.items() for state in reachable_states(workflow)
    }
    by_state = dict(_rows(settings, "submissions", "SELECT service || ':' || status, count(*) FROM cases GROUP BY 1"))
    assert {tuple(key.split(":")) for key in by_state} == every_state
    assert sum(by_state.values()) == summary.cases == 1000
    assert by_state == {f"{key}:{state}": count for (key, state), count in summary.states.items()}  # as planned
    places = _rows(settings, "registry", "SELECT kecamatan, kelurahan, reporting_status FROM organisations")
    assert len(places) == 200
    assert {kecamatan for kecamatan, _, _ in places} == set(load_region())
    assert len({kelurahan for _, kelurahan, _ in places}) >= 25
    assert {status for _, _, status in places} == {"up_to_date", "late", "inactive"}
    issued = by_state["skm:approved"] + by_state["report:accepted"]
    assert _rows(settings, "documents", "SELECT count(*) FROM letters") == [(issued,)]

    for spec in REBUILDABLE:  # what `satu check` does
        outcome = rebuild(spec, settings, apply=False, progress_factory=lambda _name, _total: lambda _at: None, wait=1)
        assert outcome.differences == [], spec.name
    for name in ("registry", "submissions"):  # marked published: a relay started now sends nothing of it
        source, engine = open_source(name, settings), read_model_engine(settings, name)
        assert published_mark(engine, name).position == source.last_position() > 0
        source.close()
        engine.dispose()


def test_a_new_dataset_s_read_models_keep_the_position_they_applied_through_not_a_row_per_event(
    settings: Settings, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(generator, "BATCH_EVENTS", 200)  # several batches: each one goes on from the one before
    generate(settings, organisations=20, cases=40, seed=3, until=UNTIL, password=PASSWORD)
    for spec in REBUILDABLE:
        source = open_source(spec.source, settings)
        model = ReadModel(spec.new_projection(), read_model_engine(settings, spec.service))
        with model.engine.connect() as connection:
            assert applied_through(connection, model.projection, spec.source) == source.last_position(), spec.name
            rows = connection.execute(sa.select(sa.func.count()).select_from(model.projection.processed)).scalar()
        assert rows == 0, spec.name
        source.close()
        model.close()


def test_an_event_published_before_the_generation_and_still_queued_is_applied_when_delivered(
    settings: Settings,
) -> None:
    """The relay had published it (the generator starts only then) but the directory's consumer had not applied it:
    the generation must not mark the directory as having applied every event up to its end."""
    registry = open_source("registry", settings)
    registry.application.save(Organisation(profile=organisation_payload(name="Perkumpulan Antre"), owner_id="u-1"))
    [queued] = list(registry.as_published())
    engine = read_model_engine(settings, "registry")
    prepare_positions(engine)
    # Published; still in the consumer's queue.
    mark_published(engine, "registry", registry.application.recorder, registry.last_position())
    engine.dispose()
    registry.close()

    generate(settings, organisations=5, cases=5, seed=3, until=UNTIL, password=PASSWORD)

    directory = ReadModel(
        read_model("registry.organisations").new_projection(), read_model_engine(settings, "registry")
    )
    assert directory.handle(queued) is True
    assert _rows(settings, "registry", "SELECT count(*) FROM organisations WHERE name = 'Perkumpulan Antre'") == [(1,)]
    directory.close()


def test_a_generated_secretary_signs_in_with_the_demo_password(settings: Settings) -> None:
    generate(settings, organisations=3, cases=5, seed=4, until=UNTIL, password=PASSWORD)
    organisation_id = _rows(settings, "registry", "SELECT organisation_id FROM organisations LIMIT 1")[0][0]
    source = open_source("registry", settings)
    registry: Any = source.application
    admin = Caller(user_id="admin", role=Role.ADMIN)
    owner = registry.get_account(admin, registry.get_organisation(admin, organisation_id)["owner_id"])

    signed_in = registry.authenticate({"email": owner["email"], "password": PASSWORD})

    assert signed_in["organisation_id"] == organisation_id
    source.close()


def test_the_same_seed_gives_the_same_dataset(tmp_path: Path) -> None:
    def dataset(name: str) -> tuple[list[Any], list[Any]]:
        settings = Settings(env="test", var_dir=tmp_path / name)
        settings.var_dir.mkdir()
        generate(settings, organisations=30, cases=150, seed=11, until=UNTIL, password=PASSWORD)
        # Ids and references are drawn by the applications as for any filing; everything else is the seed's.
        organisations = (
            "SELECT name, kecamatan, kelurahan, recorded_at, reporting_status FROM organisations ORDER BY 1, 4"
        )
        cases = "SELECT service, status, organisation_name, submitted_at, updated_at, version FROM cases ORDER BY 3, 4"
        return _rows(settings, "registry", organisations), _rows(settings, "submissions", cases)

    assert dataset("first") == dataset("second")


def test_a_database_that_holds_demo_data_already_is_refused(settings: Settings) -> None:
    generate(settings, organisations=2, cases=2, seed=5, until=UNTIL, password=PASSWORD)

    with pytest.raises(GenerationError, match="demo data"):
        generate(settings, organisations=2, cases=2, seed=5, until=UNTIL, password=PASSWORD)


def test_it_refuses_while_events_wait_for_their_relay(settings: Settings) -> None:
    seed(settings)  # the demo accounts, recorded while no relay runs

    with pytest.raises(GenerationRefused, match="relay of the registry store has .* still to publish"):
        generate(settings, organisations=2, cases=2, seed=5, until=UNTIL, password=PASSWORD)


def test_it_refuses_a_store_restored_behind_its_relay(settings: Settings) -> None:
    """A store without the event its relay published last (restored from a backup): generating into it would
    hand the lost positions out again, and mark them published."""
    seed(settings)
    registry = open_source("registry", settings)
    engine = read_model_engine(settings, "registry")
    prepare_positions(engine)
    Publishing(engine, "registry", registry.application.recorder).save(
        10_000, EventName("00000000-0000-5000-8000-000000000000")
    )
    engine.dispose()
    registry.close()

    with pytest.raises(GenerationRefused, match="registry event store has no event at position 10000"):
        generate(settings, organisations=2, cases=2, seed=5, until=UNTIL, password=PASSWORD)


def test_on_an_empty_store_it_asks_the_store_for_nothing(settings: Settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Before making a record the applications look whether it exists (an account for an address, a case for a
    period). On an empty store nothing exists but what this run saved, so no look-up reaches the database; on a
    store that held records before, each does (the previous test: the second run finds the office's staff)."""
    asked: list[object] = []
    looked_up = Repository.get

    def counted(self: Repository, aggregate_id: object, *args: Any, **kwargs: Any) -> Any:
        asked.append(aggregate_id)
        return looked_up(self, aggregate_id, *args, **kwargs)

    monkeypatch.setattr(Repository, "get", counted)

    summary = generate(settings, organisations=20, cases=80, seed=6, until=UNTIL, password=PASSWORD)

    assert summary.cases == 80
    assert asked == []


def test_a_writer_that_fails_stops_the_generation_with_its_reason(settings: Settings) -> None:
    """The batches are written by a process of its own: its error reaches the generator (no hang, no silence)."""
    writer = Writer(settings)
    try:
        writer.put(Batch("no-such-store", [], [], []))
        with pytest.raises(WriterFailed, match="KeyError: 'no-such-store'"):
            writer.finish()
    finally:
        writer.stop()


def test_a_generation_that_fails_midway_leaves_whole_batches_stored_projected_and_published(
    settings: Settings, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Batches handed to the writer are finished when the generator fails: none is cut off with its events
    stored but neither projected nor marked published (a relay would then mail generated people)."""
    monkeypatch.setattr(generator, "BATCH_EVENTS", 200)  # a batch every few organisations
    carry_out = generator.Run.organisation

    def failing(self: generator.Run, plan: Any) -> None:
        if plan.index == 12:
            raise GenerationError("stopped on purpose")
        carry_out(self, plan)

    monkeypatch.setattr(generator.Run, "organisation", failing)

    with pytest.raises(GenerationError, match="stopped on purpose"):
        generate(settings, organisations=20, cases=60, seed=7, until=UNTIL, password=PASSWORD)

    for store in ("registry", "submissions"):
        source = open_source(store, settings)
        stored = source.last_position()
        source.close()
        engine = read_model_engine(settings, store)
        try:
            assert stored > 0 and published_mark(engine, store).position == stored, store
        finally:
            engine.dispose()
    for spec in REBUILDABLE:
        assert rebuild(spec, settings, apply=False, progress_factory=lambda _n, _t: lambda _p: None).differences == []


def test_the_writer_ends_when_the_generator_is_killed(settings: Settings) -> None:
    """`satu demo-data` killed outright (kill -9) sends no end mark: its writer must not wait for ever with its
    database connections open."""
    script = (
        "import sys, time\n"
        "from infra.settings import Settings\n"
        "from ops.demo_data.writer import Writer\n"
        "if __name__ == '__main__':\n"
        "    writer = Writer(Settings.model_validate_json(sys.argv[1]))\n"
        "    print(writer._process.pid, flush=True)\n"
        "    time.sleep(600)\n"
    )
    generator_process = subprocess.Popen(
        [sys.executable, "-c", script, settings.model_dump_json()], stdout=subprocess.PIPE, text=True
    )
    assert generator_process.stdout is not None
    writer_pid = int(generator_process.stdout.readline())

    generator_process.kill()
    generator_process.wait()

    deadline = time.monotonic() + 30
    try:
        while _running(writer_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _running(writer_pid)
    finally:
        if _running(writer_pid):
            os.kill(writer_pid, signal.SIGKILL)


def _running(pid: int) -> bool:
    """Not ended (a zombie waiting for its reaper has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False
