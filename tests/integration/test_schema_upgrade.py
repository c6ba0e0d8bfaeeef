"""A deployed read model upgrades itself: a column a newer release adds to an existing table appears on
start-up, on SQLite and PostgreSQL, with the rows already there kept (no hand SQL); a column that cannot
be added in place stops the start with a line that says to rebuild."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from infra.settings import Settings
from infra.storage import create_tables, read_model_engine
from services.submissions.projections import CaseProjection


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


def test_new_columns_are_added_in_place_and_rows_kept(settings: Settings) -> None:
    engine = read_model_engine(settings, "submissions")
    old = sa.MetaData()
    table = walking_skeleton_cases(old)
    old.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            table.insert().values(
                case_id="c-1", reference="SKM-2026-0001", service="skm", organisation_id="o-1",
                organisation_name="Perkumpulan Lama", status="approved", submitted_at=sa.func.now(),
                updated_at=sa.func.now(), version=5,
            )
        )  # fmt: skip
    projection = CaseProjection()
    create_tables(projection.metadata, engine)  # what a service of the new release does on start-up
    columns = {column["name"] for column in sa.inspect(engine).get_columns("cases")}
    assert {"assignee_id", "assignee_name", "clock", "overdue"} <= columns
    with engine.connect() as connection:
        row = connection.execute(sa.select(projection.cases)).one()
    assert (row.reference, row.status, row.version, row.assignee_name) == ("SKM-2026-0001", "approved", 5, None)
    create_tables(projection.metadata, engine)  # idempotent: a second start changes nothing
    engine.dispose()


def test_a_column_that_cannot_be_added_in_place_asks_for_a_rebuild(settings: Settings) -> None:
    engine = read_model_engine(settings, "submissions")
    old = sa.MetaData()
    sa.Table("notes", old, sa.Column("id", sa.Integer, primary_key=True)).create(engine)
    new = sa.MetaData()
    sa.Table("notes", new, sa.Column("id", sa.Integer, primary_key=True), sa.Column("body", sa.Text, nullable=False))
    with pytest.raises(RuntimeError, match="lacks column body.*run `satu rebuild`"):
        create_tables(new, engine)
    engine.dispose()
