"""Which periodic reports are filed, answered from the case read model in bulk (the reminders' sweep
asks about every organisation of a region, national scale included: no per-case event-store read)."""

from __future__ import annotations

import sqlalchemy as sa

from contracts.workflow import Workflow
from services.submissions.deadlines import Fulfilled
from services.submissions.domain import Case

BATCH = 2000  # ids per IN (...) query: well under every database's parameter limit


def filed_in_read_model(engine: sa.Engine, cases: sa.Table, workflow: Workflow) -> Fulfilled:
    def filed(pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
        by_id = {
            str(Case.subject_id(organisation, workflow.key, period)): (organisation, period)
            for organisation, period in pairs
        }
        ids = list(by_id)
        found: set[tuple[str, str]] = set()
        with engine.connect() as connection:
            for start in range(0, len(ids), BATCH):
                query = sa.select(cases.c.case_id).where(
                    cases.c.case_id.in_(ids[start : start + BATCH]), cases.c.status != workflow.initial_state
                )
                found.update(by_id[case_id] for case_id in connection.scalars(query))
        return found

    return filed
