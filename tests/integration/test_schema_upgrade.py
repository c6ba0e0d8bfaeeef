"""A deployed read model upgrades without hand SQL, on SQLite and PostgreSQL: a column a newer release adds
to an existing table appears on start-up with the rows kept; any other change raises the projection's
version, the old tables then stop a start with a line naming `satu upgrade`, and the upgrade builds the new
tables beside the old ones from the event store and switches to them in one transaction."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from contracts.events import IntegrationEvent
from infra import schema
from infra.readmodel import ReadModel
from infra.schema import ReadModelOutdated
from infra.settings import Settings
from infra.storage import create_tables, read_model_engine
from infra.topology import ReadModelPart, read_model
from ops.rebuild import needs_upgrade, upgrade
from ops.rebuild import run as rebuild
from ops.shadow import Shadow
from ops.sources import open_source
from services.documents.projections import LetterProjection
from services.submissions.projections import CaseProjection
from tests.support.scenario import FIELD_VISIT, VERIFIER, approved_case, submit, two_letters_and_a_filing


def walking_skeleton_cases(metadata: sa.MetaData) -> sa.Table:
    """The case list as the walking skeleton created it (before the kernel's columns)."""
    return sa.Table(
        "cases", metadata,
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("service", sa.String(20), nullable=False),
        sa.Column("organisation_id", sa.String(36), nullable=False),
        sa.Column("organisation_name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("letter_number", sa.String(80)),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )  # fmt: skip


def project(settings: Settings, model: ReadModel, start: int = 0) -> None:
    source = open_source("submissions", settings)
    for event in source.as_published(start=start):
        model.handle(event)
    source.close()


class CasesWithPriority(CaseProjection):
    """A next release's case list: a nullable priority column, which can be added in place."""

    def __init__(self) -> None:
        super().__init__()
        self.cases.append_column(sa.Column("priority", sa.String(10)))


def test_new_columns_are_added_in_place_and_rows_kept(settings: Settings) -> None:
    source = open_source("submissions", settings)
    approved_case(source.application)  # type: ignore[arg-type]
    source.close()
    engine = read_model_engine(settings, "submissions")
    project(settings, ReadModel(CaseProjection(), engine))  # the deployed release's case list
    projection = CasesWithPriority()
    create_tables(projection.metadata, engine)  # what a service of the new release does on start-up
    columns = {column["name"] for column in sa.inspect(engine).get_columns("cases")}
    assert "priority" in columns
    with engine.connect() as connection:
        row = connection.execute(sa.select(projection.cases)).one()
    assert (row.reference[:4], row.status, row.version, row.priority) == ("SKM-", "approved", 6, None)
    create_tables(projection.metadata, engine)  # idempotent: a second start changes nothing
    engine.dispose()


def test_the_list_indexes_of_a_newer_release_are_created_on_a_deployed_table(settings: Settings) -> None:
    engine = read_model_engine(settings, "submissions")
    with engine.begin() as connection:  # a database from before the paged lists: no index but the primary key
        schema.create_unindexed(CaseProjection(), connection)

    ReadModel(CaseProjection(), engine)  # what a service of the new release does on start-up

    indexes = {index["name"] for index in sa.inspect(engine).get_indexes("cases")}
    declared = {str(index.name) for index in CaseProjection().cases.indexes}
    assert declared <= indexes and "ix_cases_waiting" in declared
    ReadModel(CaseProjection(), engine)  # idempotent: a second start changes nothing
    engine.dispose()


def test_a_case_list_of_the_walking_skeleton_is_rebuilt_by_the_upgrade(settings: Settings) -> None:
    """Its rows cannot say which event set each column (and the order events came in may have lost a
    holder): the case list's version 2 is rebuilt from the log, with the holder a later step kept out."""
    source = open_source("submissions", settings)
    case = submit(source.application)  # type: ignore[arg-type]
    source.application.act(VERIFIER, case["id"], "take", {})  # type: ignore[attr-defined]
    source.application.act(VERIFIER, case["id"], "record_field_visit", FIELD_VISIT)  # type: ignore[attr-defined]
    source.close()
    engine = read_model_engine(settings, "submissions")
    old = sa.MetaData()
    walking_skeleton_cases(old).create(engine)
    with engine.begin() as connection:  # as the order guard left it when the step came before the take
        connection.execute(
            old.tables["cases"].insert().values(
                case_id=case["id"], reference=case["reference"], service="skm", organisation_id="org-1",
                organisation_name="Perkumpulan Lama", status="submitted", submitted_at=sa.func.now(),
                updated_at=sa.func.now(), version=3,
            )
        )  # fmt: skip
    with pytest.raises(ReadModelOutdated, match="submissions.cases holds schema version 1, this release needs 2"):
        ReadModel(CaseProjection(), engine)

    upgrade(read_model("submissions.cases"), settings, lambda _name, _total: lambda _position: None)

    with engine.connect() as connection:
        row = connection.execute(sa.select(CaseProjection().cases)).one()
    assert (row.status, row.version, row.assignee_id, row.clock) == ("submitted", 3, "u-verifier", "running")
    ReadModel(CaseProjection(), engine).close()  # the new release starts on the rebuilt tables


def test_a_column_that_cannot_be_added_in_place_asks_for_a_rebuild(settings: Settings) -> None:
    engine = read_model_engine(settings, "submissions")
    old = sa.MetaData()
    sa.Table("notes", old, sa.Column("id", sa.Integer, primary_key=True)).create(engine)
    new = sa.MetaData()
    sa.Table("notes", new, sa.Column("id", sa.Integer, primary_key=True), sa.Column("body", sa.Text, nullable=False))
    with pytest.raises(RuntimeError, match="lacks column body.*`satu upgrade` rebuilds it"):
        create_tables(new, engine)
    engine.dispose()


class LettersByYear(LetterProjection):
    """A next release's letters read model: a NOT NULL year column, which cannot be added in place."""

    version = 2

    def __init__(self) -> None:
        super().__init__()
        self.letters.append_column(sa.Column("issued_year", sa.Integer, nullable=False))

    def row_for(self, event: IntegrationEvent) -> dict[str, Any]:
        return {**super().row_for(event), "issued_year": event.case().letter.issued_on.year}  # type: ignore[union-attr]


NEXT_RELEASE = ReadModelPart(
    "documents.letters", "documents", "submissions", "tests.integration.test_schema_upgrade:LettersByYear"
)


def letter_rows(engine: sa.Engine) -> list[tuple[str, int | None]]:
    with engine.connect() as connection:
        columns = {column["name"] for column in sa.inspect(connection).get_columns("letters")}
        year = "issued_year" if "issued_year" in columns else "NULL"
        rows = connection.execute(sa.text(f"SELECT number, {year} FROM letters ORDER BY number")).all()
    return [(row[0], row[1]) for row in rows]


def test_a_changed_schema_is_rebuilt_beside_the_old_tables_and_switched_to(settings: Settings) -> None:
    source = open_source("submissions", settings)
    two_letters_and_a_filing(source.application)  # type: ignore[arg-type]
    source.close()
    engine = read_model_engine(settings, "documents")
    project(settings, ReadModel(LetterProjection(), engine))  # the deployed release's model, version 1
    before = letter_rows(engine)
    assert len(before) == 2 and all(year is None for _number, year in before)
    with engine.begin() as connection:  # as a release from before versions were recorded left it
        connection.execute(sa.text("DROP TABLE read_model_versions"))

    with pytest.raises(
        ReadModelOutdated, match="documents.letters holds schema version 1, this release needs 2: run `satu upgrade`"
    ):
        ReadModel(LettersByYear(), engine)  # the new release's service refuses the old tables
    assert letter_rows(engine) == before  # and changed nothing

    assert needs_upgrade(NEXT_RELEASE, settings)
    reached: list[int] = []
    outcome = upgrade(NEXT_RELEASE, settings, lambda _name, _total: reached.append)
    assert outcome.events == 2 and reached  # both approvals, with progress

    issued_year = [year for _number, year in letter_rows(engine)]
    assert [number for number, _year in letter_rows(engine)] == [number for number, _year in before]
    assert len(set(issued_year)) == 1 and issued_year[0] is not None and issued_year[0] >= 2026
    assert not needs_upgrade(NEXT_RELEASE, settings)
    with engine.connect() as connection:
        assert schema.stored(connection, "documents.letters") == (
            2,
            ["letters", "processed_events", "processed_events_through"],
        )

    live = ReadModel(LettersByYear(), engine)  # the new release starts on the switched tables and goes on
    source = open_source("submissions", settings)
    position = source.last_position()
    approved_case(source.application)  # type: ignore[arg-type]
    source.close()
    project(settings, live, start=position)
    assert len(letter_rows(engine)) == 3
    with pytest.raises(ReadModelOutdated, match="holds schema version 2, this release needs 1"):
        ReadModel(LetterProjection(), engine)  # an older release cannot write into the new tables
    live.close()


def test_an_event_the_running_release_applies_during_the_upgrade_is_kept(settings: Settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The old release keeps consuming while the new tables are built: an approval it applies to the old tables,
    which the switch drops, is applied to the new ones by the switch itself."""
    source = open_source("submissions", settings)
    two_letters_and_a_filing(source.application)  # type: ignore[arg-type]
    source.close()
    engine = read_model_engine(settings, "documents")
    deployed = ReadModel(LetterProjection(), engine)
    project(settings, deployed)
    with engine.begin() as connection:  # as a release from before versions were recorded left it
        connection.execute(sa.text("DROP TABLE read_model_versions"))
    replayed = Shadow.add_indexes

    def then_an_approval_applied_by_the_running_release(shadow: Shadow) -> None:
        replayed(shadow)
        source = open_source("submissions", settings)
        start = source.last_position()
        approved_case(source.application)  # type: ignore[arg-type]
        source.close()
        project(settings, deployed, start=start)

    monkeypatch.setattr(Shadow, "add_indexes", then_an_approval_applied_by_the_running_release)
    upgrade(NEXT_RELEASE, settings, lambda _name, _total: lambda _position: None)
    assert len(letter_rows(engine)) == 3


def test_a_case_list_from_before_positions_gains_them_in_place_and_is_rebuilt_through_one(settings: Settings) -> None:
    """The release before positions had no position on its applied events and no table of the position a rebuild
    applied through: both are added on start-up, the new table is recorded as the version's own (so a rebuild or
    an upgrade drops it with the rest), and a rebuild then keeps the position instead of a row per event."""
    source = open_source("submissions", settings)
    two_letters_and_a_filing(source.application)  # type: ignore[arg-type]
    published = list(source.as_published())
    source.close()
    engine = read_model_engine(settings, "submissions")
    before_positions = sa.MetaData()
    for table in CaseProjection().metadata.sorted_tables:
        if table.name != "processed_events_through":
            columns = [
                column.copy()
                for column in table.columns
                if (table.name, column.name) != ("processed_events", "position")
            ]
            sa.Table(table.name, before_positions, *columns)
    with engine.begin() as connection:
        before_positions.create_all(connection)
        schema.ensure_versions_table(connection)
        connection.execute(
            schema.versions.insert().values(
                name="submissions.cases",
                version=2,
                tables="case_timeline cases processed_events",
                built_at=sa.func.now(),
            )
        )

    cases = ReadModel(CaseProjection(), engine)  # this release starts on them
    with engine.connect() as connection:
        assert schema.stored(connection, "submissions.cases") == (
            2,
            ["case_timeline", "cases", "processed_events", "processed_events_through"],
        )
    assert all(cases.handle(event) for event in published)
    spec = read_model("submissions.cases")
    assert rebuild(spec, settings, apply=True, progress_factory=lambda _n, _t: lambda _p: None).events == 11
    assert not any(cases.handle(event) for event in published)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM processed_events")).scalar() == 0
    assert rebuild(spec, settings, apply=False, progress_factory=lambda _n, _t: lambda _p: None).differences == []
    cases.close()


def test_a_rebuild_copies_by_name_into_a_live_table_whose_columns_lie_in_another_order(settings: Settings) -> None:
    """A column a release added in place lies last in the live table, wherever the projection declares it: the
    swap (on SQLite a copy of the rows, by position where both tables agree) puts every value in its column."""
    source = open_source("submissions", settings)
    approved_case(source.application)  # type: ignore[arg-type]
    source.close()
    engine = read_model_engine(settings, "submissions")
    before_letters = sa.MetaData()
    for table in CaseProjection().metadata.sorted_tables:
        columns = [column.copy() for column in table.columns if (table.name, column.name) != ("cases", "letter_number")]
        sa.Table(table.name, before_letters, *columns)
    with engine.begin() as connection:
        before_letters.create_all(connection)
        schema.ensure_versions_table(connection)
        tables = " ".join(sorted(before_letters.tables))
        connection.execute(
            schema.versions.insert().values(name="submissions.cases", version=2, tables=tables, built_at=sa.func.now())
        )
    cases = ReadModel(CaseProjection(), engine)  # this release starts on them: letter_number is added, last
    live_order = [column["name"] for column in sa.inspect(engine).get_columns("cases")]
    declared_order = [column.name for column in CaseProjection().cases.columns]
    assert live_order[-1] == "letter_number" and declared_order[-1] != "letter_number"
    project(settings, cases)
    with engine.connect() as connection:
        applied_live = connection.execute(sa.select(CaseProjection().cases)).one()

    spec = read_model("submissions.cases")
    assert rebuild(spec, settings, apply=True, progress_factory=lambda _n, _t: lambda _p: None).events == 6

    with engine.connect() as connection:
        rebuilt = connection.execute(sa.select(CaseProjection().cases)).one()
    assert rebuilt._asdict() == applied_live._asdict() and rebuilt.letter_number
    assert rebuild(spec, settings, apply=False, progress_factory=lambda _n, _t: lambda _p: None).differences == []
    cases.close()
