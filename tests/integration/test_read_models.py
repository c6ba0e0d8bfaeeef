"""Read models: idempotent and order-guarded consumers, rebuild and check (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from infra import readmodel, statements
from infra.readmodel import ReadModel
from infra.replay import replay
from infra.settings import Settings
from infra.storage import read_model_engine
from ops import parallel_replay
from ops.rebuild import READ_MODELS, run_all
from ops.rebuild import run as rebuild
from ops.shadow import Shadow, ShadowInUse, shadows_held
from ops.sources import open_source
from services.documents.projections import LetterProjection
from services.registry.domain import Organisation
from services.submissions.projections import CaseProjection
from tests.support.factories import organisation_payload
from tests.support.scenario import FIELD_VISIT, VERIFIER, approved_case, forward, submit, two_letters_and_a_filing


def feed_live(settings: Settings) -> tuple[ReadModel, ReadModel, list]:
    """Project every stored event into the live read models, as the consumers would."""
    source = open_source("submissions", settings)
    events = [event for _position, event in source.integration_events()]
    source.close()
    cases = ReadModel(CaseProjection(), read_model_engine(settings, "submissions"))
    letters = ReadModel(LetterProjection(), read_model_engine(settings, "documents"))
    for event in events:
        cases.handle(event)
        letters.handle(event)
    return cases, letters, events


def make_history(settings: Settings) -> None:
    source = open_source("submissions", settings)
    two_letters_and_a_filing(source.application)  # type: ignore[arg-type]
    source.close()


def count(model: ReadModel, table: str) -> int:
    with model.engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() or 0)


def test_a_duplicate_delivery_is_applied_once(settings: Settings) -> None:
    make_history(settings)
    cases, letters, events = feed_live(settings)
    assert all(cases.handle(event) is False for event in events)  # every one a duplicate now
    assert all(letters.handle(event) is False for event in events)
    assert count(cases, "case_timeline") == len(events) == 11  # 6 + 5: each case has its field visit
    assert count(cases, "cases") == 3 and count(letters, "letters") == 2


def test_an_older_event_never_overwrites_a_newer_state(settings: Settings) -> None:
    source = open_source("submissions", settings)
    case = approved_case(source.application)  # type: ignore[arg-type]
    events = [event for _position, event in source.integration_events()]
    source.close()
    cases = ReadModel(CaseProjection(), read_model_engine(settings, "submissions"))
    for event in reversed(events):  # worst case: newest first
        cases.handle(event)
    with cases.engine.connect() as connection:
        status, version, submitted_at = connection.execute(
            sa.text("SELECT status, version, submitted_at FROM cases")
        ).one()
    assert (status, version) == ("approved", 6)
    filed_at = events[0].occurred_at
    assert str(submitted_at)[:19] == filed_at.strftime("%Y-%m-%d %H:%M:%S")  # the filing's time, not a later step's
    assert case["status"] == "approved"


def test_a_step_applied_before_the_older_take_keeps_the_holder(settings: Settings) -> None:
    """Two workers: the field visit (version 3, names no holder) is written before the take (version 2)."""
    source = open_source("submissions", settings)
    case = submit(source.application)  # type: ignore[arg-type]
    source.application.act(VERIFIER, case["id"], "take", {})  # type: ignore[attr-defined]
    source.application.act(VERIFIER, case["id"], "record_field_visit", FIELD_VISIT)  # type: ignore[attr-defined]
    filed, taken, visited = [event for _position, event in source.integration_events()]
    source.close()
    cases = ReadModel(CaseProjection(), read_model_engine(settings, "submissions"))
    for event in (filed, visited, taken):
        assert cases.handle(event)
    with cases.engine.connect() as connection:
        row = connection.execute(sa.text("SELECT status, version, assignee_id, updated_at FROM cases")).one()
    assert (row.status, row.version, row.assignee_id) == ("submitted", 3, "u-verifier")
    assert str(row.updated_at)[:19] == visited.occurred_at.strftime("%Y-%m-%d %H:%M:%S")  # still the latest step's


def test_check_finds_a_live_model_equal_to_a_rebuild(settings: Settings) -> None:
    make_history(settings)
    feed_live(settings)
    for spec in READ_MODELS:
        outcome = rebuild(spec, settings, apply=False, progress_factory=lambda _name, _total: lambda _p: None)
        assert outcome.differences == [], spec.name
        # The registry's log is empty here: its read models are rebuilt from nothing.
        assert outcome.events == {"submissions.cases": 11, "documents.letters": 2}.get(spec.name, 0), spec.name


def test_check_reports_a_damaged_live_model_and_rebuild_repairs_it(settings: Settings) -> None:
    make_history(settings)
    cases, _letters, _events = feed_live(settings)
    with cases.engine.begin() as connection:
        connection.execute(sa.text("UPDATE cases SET status = 'rejected' WHERE status = 'approved'"))
        connection.execute(sa.text("DELETE FROM case_timeline WHERE version = 1"))
    spec = READ_MODELS[0]
    seen: list[int] = []
    damaged = rebuild(spec, settings, apply=False, progress_factory=lambda _n, _t: seen.append)
    assert any("only in live model" in line and "rejected" in line for line in damaged.differences)
    assert any("case_timeline: missing from live model" in line for line in damaged.differences)
    assert seen and seen == sorted(seen)  # progress was reported, in log order
    rebuild(spec, settings, apply=True, progress_factory=lambda _n, _t: lambda _p: None)
    repaired = rebuild(spec, settings, apply=False, progress_factory=lambda _n, _t: lambda _p: None)
    assert repaired.differences == []


def test_events_of_one_case_applied_concurrently_are_all_kept(settings: Settings) -> None:
    """Consumers run several workers: two events of one case may arrive at the same moment."""
    source = open_source("submissions", settings)
    for _ in range(20):
        approved_case(source.application)  # type: ignore[arg-type]
    events = [event for _position, event in source.integration_events()]
    source.close()
    cases = ReadModel(CaseProjection(), read_model_engine(settings, "submissions"))
    with ThreadPoolExecutor(max_workers=8) as pool:
        applied = list(pool.map(cases.handle, events))
    assert all(applied) and count(cases, "case_timeline") == len(events) == 120  # 20 cases of 6 events
    with cases.engine.connect() as connection:
        statuses = connection.execute(sa.text("SELECT status, version FROM cases")).all()
    assert sorted(statuses) == [("approved", 6)] * 20


def test_a_rebuilt_model_keeps_the_position_it_was_rebuilt_through_not_a_row_per_event(settings: Settings) -> None:
    """After a rebuild the live model holds no row per event of the log it replayed, only the position it applied
    it through: a delivery from at or below it (the relay publishing again after a restart, a consumer's queue
    that lagged) is skipped as seen, one from above it is applied once, and a check still finds it equal."""
    make_history(settings)
    source = open_source("submissions", settings)
    published = list(source.integration_events())  # (position, event), as the relay publishes them
    source.close()
    cases, _letters, _events = feed_live(settings)
    spec = READ_MODELS[0]
    quiet = lambda _n, _t: lambda _p: None  # noqa: E731
    assert rebuild(spec, settings, apply=True, progress_factory=quiet).events == 11
    assert count(cases, "processed_events") == 0
    with cases.engine.connect() as connection:
        through = connection.execute(sa.text("SELECT source, position FROM processed_events_through")).all()
    assert through == [("submissions", published[-1][0])]

    assert not any(cases.handle(event.at(position)) for position, event in published)  # each one seen
    assert not any(cases.handle(event) for _position, event in published)  # an earlier release's relay: older still
    assert count(cases, "case_timeline") == 11 and count(cases, "processed_events") == 0

    source = open_source("submissions", settings)
    submit(source.application)  # type: ignore[arg-type]
    [(position, filed)] = list(source.integration_events(start=published[-1][0]))
    source.close()
    assert cases.handle(filed.at(position)) is True  # above it: applied, and recorded by its id
    assert cases.handle(filed.at(position)) is False
    assert count(cases, "case_timeline") == 12 and count(cases, "processed_events") == 1
    assert rebuild(spec, settings, apply=False, progress_factory=quiet).differences == []


def file_and_apply_live(settings: Settings, cases: ReadModel) -> None:
    """A filing recorded now and applied by a live consumer as its relay publishes it (with its position)."""
    source = open_source("submissions", settings)
    start = source.last_position()
    submit(source.application)  # type: ignore[arg-type]
    [filed] = list(source.as_published(start=start))
    source.close()
    assert cases.handle(filed) is True


def test_an_event_a_consumer_applied_after_the_rebuild_caught_up_is_kept_by_the_swap(
    settings: Settings, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Between the shadow's catch-up and the swap a live consumer applies a new event to the old tables; the swap
    drops those and applies the event itself (the broker will not deliver it again)."""
    make_history(settings)
    cases, _letters, _events = feed_live(settings)
    recorded = Shadow.record_applied_through
    calls: list[int] = []

    def then_a_filing_applied_live(shadow: Shadow, source: str, position: int) -> None:
        recorded(shadow, source, position)
        calls.append(position)
        if len(calls) == 2:  # the catch-up's (the first: the replay's own)
            file_and_apply_live(settings, cases)

    monkeypatch.setattr(Shadow, "record_applied_through", then_a_filing_applied_live)
    rebuild(READ_MODELS[0], settings, apply=True, progress_factory=lambda _n, _t: lambda _p: None)
    assert count(cases, "cases") == 4


def test_check_finds_equal_a_live_model_that_applied_events_after_the_check_began(
    settings: Settings, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    make_history(settings)
    cases, _letters, _events = feed_live(settings)
    replayed = Shadow.add_indexes

    def then_a_filing_applied_live(shadow: Shadow) -> None:
        replayed(shadow)
        file_and_apply_live(settings, cases)

    monkeypatch.setattr(Shadow, "add_indexes", then_a_filing_applied_live)
    outcome = rebuild(READ_MODELS[0], settings, apply=False, progress_factory=lambda _n, _t: lambda _p: None)
    assert outcome.differences == [] and count(cases, "cases") == 4


def test_a_consumer_writing_during_a_rebuild_loses_nothing(settings: Settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The swap holds live consumers off; the event they carry is applied by the swap itself."""
    source = open_source("submissions", settings)
    case = submit(source.application)  # type: ignore[arg-type]
    cases, _letters, _events = feed_live(settings)
    consumer: dict[str, object] = {}
    real_lock = ReadModel.lock_exclusively

    def lock_then_let_a_consumer_race(self: ReadModel, connection: sa.Connection) -> None:
        real_lock(self, connection)
        # A step recorded after the rebuild caught up, delivered to a live consumer while the swap is under way.
        start = source.last_position()
        forward(source.application, case["id"])
        *_visited, forwarded = source.as_published(start=start)  # the field visit, then the forward
        worker = threading.Thread(target=lambda: consumer.update(applied=cases.handle(forwarded)))
        worker.start()
        consumer["worker"] = worker
        time.sleep(0.5)

    spec = READ_MODELS[0]
    monkeypatch.setattr(ReadModel, "lock_exclusively", lock_then_let_a_consumer_race)
    rebuild(spec, settings, apply=True, progress_factory=lambda _n, _t: lambda _p: None)
    monkeypatch.undo()
    source.close()
    consumer["worker"].join(timeout=30)  # type: ignore[attr-defined]
    assert consumer["applied"] is False  # the swap had applied it already
    with cases.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT status, version FROM cases")).one() == ("forwarded", 3)
        # filed, field visit, forwarded
        assert connection.execute(sa.text("SELECT count(*) FROM case_timeline")).scalar() == 3
    assert rebuild(spec, settings, apply=False, progress_factory=lambda _n, _t: lambda _p: None).differences == []


def test_a_rebuild_in_small_batches_equals_the_live_model(settings: Settings) -> None:
    """A case's events split over batches, and several of one case in a batch (PostgreSQL applies those in
    rounds): the batch driver gives the rows the live one gives, event by event."""
    make_history(settings)
    source = open_source("submissions", settings)
    approved_case(source.application)  # type: ignore[arg-type]
    source.close()
    cases, _letters, _events = feed_live(settings)
    source = open_source("submissions", settings, replay=True)
    shadow = Shadow.fresh(CaseProjection(), "submissions", settings)
    reached: list[int] = []
    events = source.integration_events()
    applied = replay(shadow.engine, shadow.projection, events, reached.append, batch_events=4, record_each=True)
    source.close()
    assert applied == 17 and len(reached) == 5  # 11 + 6 events, in batches of 4
    with shadow.beside(cases.engine) as connection:
        assert shadow.differences(connection) == []
        assert shadow.not_applied_live(connection, "submissions") == 0
    shadow.close()


def test_a_rebuild_in_position_ranges_side_by_side_equals_the_live_model(settings: Settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Three processes, each replaying a third of the log into the same shadow at once: cases whose events lie
    in two ranges get them in no particular order, and every read model still equals the live one."""
    source = open_source("submissions", settings)
    for _ in range(4):
        approved_case(source.application)  # type: ignore[arg-type]
    source.close()
    feed_live(settings)
    monkeypatch.setattr(parallel_replay, "LEAST_PER_WORKER", 5)
    spread = settings.model_copy(update={"rebuild_workers": 3})
    for spec in READ_MODELS:
        reached: list[int] = []
        outcome = rebuild(spec, spread, apply=False, progress_factory=lambda _name, _total, seen=reached: seen.append)
        assert outcome.differences == [], spec.name
        assert reached == sorted(reached), spec.name  # one count over all ranges, growing
    cases = next(spec for spec in READ_MODELS if spec.name == "submissions.cases")
    assert rebuild(cases, spread, apply=False, progress_factory=lambda _n, _t: lambda _p: None).events == 24
    # Every read model of the log at once: each range's worker feeds both shadows.
    together = {o.name: o for o in run_all(list(READ_MODELS), spread, False, lambda _n, _t: lambda _p: None)}
    assert [
        (together[name].differences, together[name].events) for name in ("submissions.cases", "documents.letters")
    ] == [
        ([], 24),
        ([], 4),
    ]


def test_the_read_models_of_one_log_are_checked_and_rebuilt_in_one_pass(settings: Settings) -> None:
    """`satu rebuild` / `satu check` of every read model: a pass per log (a progress bar each) feeds all of
    its read models; each is compared, or swapped in, on its own."""
    make_history(settings)
    cases, letters, _events = feed_live(settings)
    with cases.engine.begin() as connection:
        connection.execute(sa.text("UPDATE cases SET status = 'rejected' WHERE status = 'approved'"))
    with letters.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM letters"))
    passes: list[str] = []

    def progress_factory(label: str, _total: int) -> Callable[[int], None]:
        passes.append(label)
        return lambda _position: None

    checked = run_all(list(READ_MODELS), settings, False, progress_factory)

    assert passes == ["submissions.cases + documents.letters", "submissions.organisations + registry.organisations"]
    assert [outcome.name for outcome in checked] == [spec.name for spec in READ_MODELS]
    damaged = {outcome.name: outcome for outcome in checked}
    assert damaged["submissions.cases"].events == 11 and damaged["documents.letters"].events == 2
    assert any("only in live model" in line and "rejected" in line for line in damaged["submissions.cases"].differences)
    assert any("letters: missing from live model" in line for line in damaged["documents.letters"].differences)
    run_all(list(READ_MODELS), settings, True, progress_factory)
    assert all(outcome.differences == [] for outcome in run_all(list(READ_MODELS), settings, False, progress_factory))
    assert count(letters, "letters") == 2


def test_check_finds_a_changed_json_column(settings: Settings) -> None:
    """PostgreSQL has no equality for json: compared as jsonb."""
    make_history(settings)
    _cases, letters, _events = feed_live(settings)
    with letters.engine.begin() as connection:
        connection.execute(sa.text("""UPDATE letters SET organisation = '{"name": "Ormas Palsu"}'"""))
    spec = next(spec for spec in READ_MODELS if spec.name == "documents.letters")
    damaged = rebuild(spec, settings, apply=False, progress_factory=lambda _n, _t: lambda _p: None)
    assert sum("letters: only in live model" in line and "Ormas Palsu" in line for line in damaged.differences) == 2


def test_the_registry_read_models_equal_a_rebuild(settings: Settings) -> None:
    """The directory (two upserts, one guarded by version) and submissions' copy of the organisations (an
    insert that keeps the row there) rebuilt from the registry's log equal what its consumers built."""
    registry = open_source("registry", settings)
    recorded = [Organisation(profile=organisation_payload(name=f"Ormas {n}"), owner_id=f"u-{n}") for n in range(5)]
    for organisation in recorded[:2]:
        organisation.report_overdue("2026-S1", 0, lambda _missed: "late")
        organisation.report_overdue("2026-S2", 1, lambda _missed: "inactive")
    registry.application.save(*recorded)
    events = [event for _position, event in registry.integration_events()]
    registry.close()
    for spec in READ_MODELS:
        if spec.source == "registry":
            live = ReadModel(spec.new_projection(), read_model_engine(settings, spec.service))
            for event in [*events, *events]:  # every event delivered twice
                live.handle(event)
            outcome = rebuild(spec, settings, apply=False, progress_factory=lambda _n, _t: lambda _p: None)
            assert outcome.differences == [] and outcome.events == (9 if spec.name == "registry.organisations" else 5)
    with read_model_engine(settings, "registry").connect() as connection:
        statuses = connection.execute(sa.text("SELECT reporting_status, count(*) FROM organisations GROUP BY 1"))
        assert sorted(statuses) == [("inactive", 2), ("up_to_date", 3)]


@pytest.mark.parametrize("recorded_meanwhile", [False, True], ids=["quiet", "a step recorded during the rebuild"])
def test_a_rebuilt_model_is_vacuumed_so_its_index_only_scans_stay_in_the_index(
    settings: Settings, monkeypatch, recorded_meanwhile: bool
) -> None:  # type: ignore[no-untyped-def]
    """After the swap every live row is new and every old one dead: without a vacuum an index-only scan visits
    the table for each row (and steps over the dead ones) until autovacuum comes. The shadow is vacuumed before
    it goes live; rows written after that (a step recorded during the rebuild) are vacuumed once it is live."""
    if not settings.uses_postgres:
        pytest.skip("SQLite keeps no row versions")
    make_history(settings)
    cases, _letters, events = feed_live(settings)
    if recorded_meanwhile:
        made_ready = Shadow.ready_to_go_live

        def ready_then_a_step(shadow: Shadow) -> None:
            made_ready(shadow)
            source = open_source("submissions", settings)
            submit(source.application)  # type: ignore[arg-type]
            source.close()

        monkeypatch.setattr(Shadow, "ready_to_go_live", ready_then_a_step)
    rebuild(READ_MODELS[0], settings, apply=True, progress_factory=lambda _n, _t: lambda _p: None)
    assert count(cases, "cases") == (4 if recorded_meanwhile else 3)
    with cases.engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")  # a table this small would be read whole
        (plan,) = connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, FORMAT JSON) SELECT updated_at, case_id FROM cases "
            "WHERE service = 'skm' ORDER BY service, status, updated_at, case_id"
        ).scalar_one()
    scan = plan["Plan"]
    while "Plans" in scan and scan["Node Type"] != "Index Only Scan":
        (scan,) = scan["Plans"]
    assert scan["Node Type"] == "Index Only Scan" and scan["Actual Rows"] >= 1
    assert scan["Heap Fetches"] == 0


def test_a_rebuild_on_postgres_puts_the_shadow_s_tables_in_place_durable_and_indexed(settings: Settings) -> None:
    """No row is copied: the shadow's tables become the live ones. They must then be written to the
    write-ahead log like any live table (the shadow's were unlogged: a crash would have emptied them) and
    carry every index the read model declares."""
    if not settings.uses_postgres:
        pytest.skip("SQLite copies the shadow's rows")
    make_history(settings)
    cases, _letters, _events = feed_live(settings)

    def live_tables() -> dict[str, tuple[int, str]]:
        with cases.engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT relname, oid::int, relpersistence FROM pg_class "
                    "WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'"
                )
            ).all()
        return {name: (oid, persistence) for name, oid, persistence in rows}

    before = live_tables()
    rebuild(READ_MODELS[0], settings, apply=True, progress_factory=lambda _n, _t: lambda _p: None)
    after = live_tables()
    projection = CaseProjection()
    for table in projection.metadata.sorted_tables:
        assert after[table.name][0] != before[table.name][0], f"{table.name} was copied into, not replaced"
        assert after[table.name][1] == "p", f"{table.name} is not written to the write-ahead log"
    with cases.engine.connect() as connection:
        inspector = sa.inspect(connection)
        assert {index["name"] for index in inspector.get_indexes("cases")} == {
            index.name for index in projection.cases.indexes
        }
        assert not inspector.has_table("cases", schema="submissions_rebuild")
        assert count(cases, "cases") == 3 and count(cases, "case_timeline") == 11
    check = rebuild(READ_MODELS[0], settings, apply=False, progress_factory=lambda _n, _t: lambda _p: None)
    assert check.differences == []


def test_a_swap_that_deadlocks_with_a_reader_is_tried_again(settings: Settings, caplog) -> None:  # type: ignore[no-untyped-def]
    """A reader holding the case list in its transaction, which then reads the applied-events table the swap
    has already replaced, waits for the swap while the swap waits for it. PostgreSQL fails one of them, here
    the swap (the reader waits longer before it looks for a deadlock): the swap changed nothing, the reader
    gets its answer, and the swap is tried again once the reader is done."""
    if not settings.uses_postgres:
        pytest.skip("SQLite copies the shadow's rows and never blocks readers")
    make_history(settings)
    cases, _letters, _events = feed_live(settings)
    outcome: dict[str, object] = {}

    def swap() -> None:
        try:
            outcome["rebuilt"] = rebuild(READ_MODELS[0], settings, True, lambda _n, _t: lambda _p: None)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            outcome["error"] = error

    reader = cases.engine.connect()
    reader.exec_driver_sql("SET deadlock_timeout = '20s'")  # the swap's (1 s) looks first
    reader.execute(sa.text("SELECT count(*) FROM cases")).scalar()  # holds the case list until it ends
    worker = threading.Thread(target=swap)
    worker.start()
    with cases.engine.connect() as watcher:  # until the swap waits for the reader's hold on the case list
        deadline = time.monotonic() + 30
        while not watcher.execute(
            sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'cases'::regclass")
        ).scalar():
            assert time.monotonic() < deadline, "the swap never came to the case list"
            watcher.rollback()
            time.sleep(0.05)
    assert reader.execute(sa.text("SELECT count(*) FROM processed_events")).scalar() == 11  # the old table
    reader.rollback()
    reader.close()
    worker.join(timeout=60)
    assert "error" not in outcome, outcome.get("error")
    assert "waited on a reader" in caplog.text and "trying again" in caplog.text
    assert count(cases, "cases") == 3
    assert rebuild(READ_MODELS[0], settings, False, lambda _n, _t: lambda _p: None).differences == []


def test_a_second_rebuild_or_check_of_a_service_is_refused_while_one_runs(settings: Settings) -> None:
    """They fill the same shadow: a check started during a rebuild would empty the tables the rebuild is about
    to put live."""
    make_history(settings)
    feed_live(settings)
    quiet = lambda _n, _t: lambda _p: None  # noqa: E731
    with shadows_held(settings, ["submissions"]):
        for apply in (True, False):
            with pytest.raises(ShadowInUse, match="submissions"):
                rebuild(READ_MODELS[0], settings, apply, quiet)
        rebuild(READ_MODELS[-1], settings, True, quiet)  # the registry's read models: another service's shadow
    assert rebuild(READ_MODELS[0], settings, False, quiet).differences == []


def _by_sqlalchemy(connection: sa.Connection, statement: sa.Executable, values: dict) -> sa.CursorResult:
    return connection.execute(statement, values)


def test_the_compiled_path_stores_what_sqlalchemy_stores(settings: Settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Live writes and rebuilds both bind values through ``infra.statements.execute``'s compiled form, so a check
    of a rebuild against the live model cannot see a conversion fault of that form (a datetime on SQLite, JSON
    null, a returned key): here every rebuildable read model is fed the same events once that way and once
    through SQLAlchemy's own ``Connection.execute``, and every table must come out the same."""
    make_history(settings)
    registry = open_source("registry", settings)
    registry.application.save(Organisation(profile=organisation_payload(name="Perkumpulan Dua Jalan"), owner_id="o"))
    registry.close()
    events = {}
    for name in ("submissions", "registry"):
        source = open_source(name, settings)
        events[name] = [event for _position, event in source.integration_events()]
        source.close()

    def feed(suffix: str) -> dict[str, list[tuple]]:
        tables = {}
        for part in READ_MODELS:
            model = ReadModel(part.new_projection(), read_model_engine(settings, part.service, suffix))
            for event in events[part.source]:
                model.handle(event)
            with model.engine.connect() as connection:
                for table in model.projection.metadata.sorted_tables:
                    if table is model.projection.processed:
                        continue  # when each event was applied differs by the clock alone
                    rows = connection.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
                    tables[f"{part.name}.{table.name}"] = [tuple(row) for row in rows]
            model.close()
        return tables

    compiled = feed("compiled")
    monkeypatch.setattr(
        statements, "execute", lambda connection, statement, values: connection.execute(statement, values)
    )
    monkeypatch.setattr(readmodel, "execute", statements.execute)
    by_sqlalchemy = feed("sqlalchemy")
    assert compiled.keys() == by_sqlalchemy.keys()
    assert all(compiled[table] for table in ("submissions.cases.cases", "documents.letters.letters"))
    for table, rows in compiled.items():
        assert rows == by_sqlalchemy[table], table
