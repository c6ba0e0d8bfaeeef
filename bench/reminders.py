"""(e) The reminders' sweep at national scale: which reports of 150,000 organisations × 2 periods are
due on a day, against the raw read of the same directory rows, in the same run.

The directory (registry) and the case list (submissions) read models are filled directly with
realistic rows — a third of the organisations have filed the period's report — and the sweep's own
code (keyset pages of the directory, `due_reminders`, the bulk "filed?" query) evaluates them.
Recording the reminders is not measured here: it is one event per reminder, like any command.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

from bench.measure import Rate
from infra.catalogue import load_catalogue
from infra.settings import Settings
from infra.storage import create_tables, read_model_engine
from services.registry.projections import DirectoryProjection
from services.registry.queries import list_organisations
from services.submissions.deadlines import SWEEP_PAGE, directory_entry, due_reminders
from services.submissions.domain import Case
from services.submissions.filings import filed_in_read_model
from services.submissions.projections import CaseProjection

DAY = dt.date(2027, 2, 1)  # 2026-S2 is one day overdue; 2026-S1 still counts in the run of missed periods
RECORDED = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def fill(settings: Settings, organisations: int) -> None:
    directory, cases = DirectoryProjection(), CaseProjection()
    registry, submissions = read_model_engine(settings, "registry"), read_model_engine(settings, "submissions")
    create_tables(directory.metadata, registry)
    create_tables(cases.metadata, submissions)
    ids = [str(uuid.UUID(int=index + 1)) for index in range(organisations)]
    with registry.begin() as connection:
        connection.execute(
            directory.organisations.insert(),
            [
                {"organisation_id": oid, "name": f"Ormas {n}", "legal_form": "tidak_berbadan_hukum",
                 "kecamatan": "Balikpapan Kota", "kelurahan": "Damai", "recorded_at": RECORDED,
                 "reporting_status": "up_to_date", "missed_periods": "", "version": 1}
                for n, oid in enumerate(ids)
            ],
        )  # fmt: skip
    with submissions.begin() as connection:
        connection.execute(
            cases.cases.insert(),
            [
                {"case_id": str(Case.subject_id(oid, "report", "2026-S2")), "reference": f"LAP-{n}",
                 "service": "report", "organisation_id": oid, "organisation_name": f"Ormas {n}",
                 "status": "submitted", "submitted_at": RECORDED, "updated_at": RECORDED, "version": 2}
                for n, oid in enumerate(ids) if n % 3 == 0
            ],
        )  # fmt: skip
    registry.dispose()
    submissions.dispose()


def reminder_rates(settings: Settings, organisations: int = 150_000) -> tuple[Rate, Rate, int]:
    """(raw read of the directory, evaluation of the due reminders, reminders found)."""
    fill(settings, organisations)
    workflow = load_catalogue().workflows["report"]
    assert workflow.deadline is not None
    directory, cases = DirectoryProjection(), CaseProjection()
    registry, submissions = read_model_engine(settings, "registry"), read_model_engine(settings, "submissions")

    started, cursor, rows = time.perf_counter(), None, 0
    while True:
        page = list_organisations(registry, directory, None, cursor, SWEEP_PAGE)
        rows, cursor = rows + len(page["items"]), page["next_cursor"]
        if cursor is None:
            break
    raw = Rate(rows, time.perf_counter() - started)

    filed = filed_in_read_model(submissions, cases.cases, workflow)
    zone = dt.timezone(dt.timedelta(hours=8))
    started, cursor, evaluated, due = time.perf_counter(), None, 0, 0
    while True:
        page = list_organisations(registry, directory, None, cursor, SWEEP_PAGE)
        entries = [directory_entry(row, zone) for row in page["items"]]
        due += sum(1 for _ in due_reminders(workflow.deadline, DAY, entries, filed))
        evaluated, cursor = evaluated + len(entries), page["next_cursor"]
        if cursor is None:
            break
    evaluation = Rate(evaluated, time.perf_counter() - started)
    registry.dispose()
    submissions.dispose()
    return raw, evaluation, due
