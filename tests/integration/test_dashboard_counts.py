"""The dashboard's counts on SQLite and PostgreSQL: counted from the case list as it is, never doubled when
replicas count at the same moment, read whole while one counts, and kept through `satu rebuild` and
`satu check` (which count what the rebuild wrote at the next refresh)."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from infra.readmodel import ReadModel
from infra.settings import Settings
from infra.storage import read_model_engine
from ops.rebuild import READ_MODELS
from ops.rebuild import run as rebuild
from services.submissions.case_counts import CaseCounts
from services.submissions.projections import CaseProjection
from tests.integration.test_read_models import feed_live, make_history

FILED = dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)
MIX = [("skm", "submitted", "running"), ("skm", "revision_requested", "paused"), ("report", "draft", "stopped")]


def _by_status(counts: CaseCounts) -> dict[tuple[str, str], int]:
    return {(count.service, count.status): count.cases for count in counts.read().counts}


def _add_cases(engine: sa.Engine, how_many: int) -> None:
    rows = [
        {
            "case_id": str(uuid.uuid4()),
            "reference": f"SKM-2026-{n:08X}",
            "service": MIX[n % 3][0],
            "organisation_id": f"org-{n % 7}",
            "organisation_name": "Ormas",
            "status": MIX[n % 3][1],
            "submitted_at": FILED,
            "updated_at": FILED,
            "version": 1,
            "clock": MIX[n % 3][2],
            "overdue": n % 10 == 0 or None,
        }
        for n in range(how_many)
    ]
    with engine.begin() as connection:
        connection.execute(CaseProjection().cases.insert(), rows)


def test_the_counts_are_kept_through_a_rebuild_and_count_what_it_repaired(settings: Settings) -> None:
    make_history(settings)  # two cases approved, one filed
    cases, _letters, _events = feed_live(settings)
    counts = CaseCounts(read_model_engine(settings, "submissions"))
    assert counts.refresh()
    assert _by_status(counts) == {("skm", "approved"): 2, ("skm", "submitted"): 1}
    with cases.engine.begin() as connection:  # a damaged case list, counted as it is
        connection.execute(sa.text("UPDATE cases SET status = 'rejected' WHERE status = 'approved'"))
    assert counts.refresh()
    assert _by_status(counts) == {("skm", "rejected"): 2, ("skm", "submitted"): 1}

    quiet = lambda _name, _total: lambda _position: None  # noqa: E731
    spec = next(part for part in READ_MODELS if part.name == "submissions.cases")
    rebuild(spec, settings, apply=True, progress_factory=quiet)
    assert rebuild(spec, settings, apply=False, progress_factory=quiet).differences == []

    assert _by_status(counts) == {("skm", "rejected"): 2, ("skm", "submitted"): 1}  # until the next count
    assert counts.refresh()
    assert _by_status(counts) == {("skm", "approved"): 2, ("skm", "submitted"): 1}
    counts.close()
    cases.close()


def test_replicas_counting_at_once_never_double_a_count_and_readers_see_whole_figures(settings: Settings) -> None:
    engine = read_model_engine(settings, "submissions")
    ReadModel(CaseProjection(), engine)  # the case list's tables, as the service makes them
    _add_cases(engine, 3000)
    replicas = [CaseCounts(read_model_engine(settings, "submissions")) for _ in range(4)]
    reader = CaseCounts(read_model_engine(settings, "submissions"))
    assert replicas[0].refresh()
    racing = threading.Event()
    seen: list[int] = []

    def count_again(counts: CaseCounts) -> list[bool]:
        return [counts.refresh() for _ in range(15)]

    def read_meanwhile() -> None:
        while not racing.is_set():
            seen.append(sum(count.cases for count in reader.read().counts))

    with ThreadPoolExecutor(len(replicas) + 1) as pool:
        watching = pool.submit(read_meanwhile)
        try:
            outcomes = [outcome for run in pool.map(count_again, replicas) for outcome in run]
        finally:
            racing.set()
        watching.result()

    assert any(outcomes)  # on PostgreSQL the others give way while one counts; SQLite takes turns
    assert seen and set(seen) == {3000}  # never a half-written or doubled set of figures
    figures = reader.read().counts
    counted = {(count.service, count.status): (count.cases, count.paused, count.overdue) for count in figures}
    assert counted == {
        ("skm", "submitted"): (1000, 0, 100),
        ("skm", "revision_requested"): (1000, 1000, 100),
        ("report", "draft"): (1000, 0, 100),
    }
    assert not replicas[1].refresh(younger_than=60)  # counted a moment ago: a timer's tick gives way
    for counts in [*replicas, reader]:
        counts.close()
    engine.dispose()
