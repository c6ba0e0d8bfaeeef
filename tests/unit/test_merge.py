"""Folding a batch's rows of one key (infra/merge.py) is only right if merging is associative: the database
applies the stored row, then each row in turn; the fold first merges the rows, then the database merges the
result with the stored row. Checked here for every merge the read models use, rows with any NULLs and in any
order; tests/integration/test_case_order.py checks the SQL gives the same rows as the fold."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.merge import Higher, Kept, Lower, Merge, Take, fold_by_key
from services.registry.projections import DirectoryProjection
from services.submissions.projections import MOVES

directory = DirectoryProjection()
MERGES = {
    "case list": MOVES,
    "directory: recorded": directory._record.merge,
    "directory: status changed": directory._change_status.merge,
}
COLUMNS = {name for merge in MERGES.values() if merge for rule in merge.rules for name in rule.columns}

versions = st.none() | st.integers(min_value=-3, max_value=6)
rows = st.fixed_dictionaries({name: versions for name in sorted(COLUMNS)})


@pytest.mark.parametrize("name", list(MERGES))
@given(stored=rows, first=rows, second=rows)
def test_merging_rows_one_after_the_other_equals_merging_their_fold(
    name: str, stored: dict[str, Any], first: dict[str, Any], second: dict[str, Any]
) -> None:
    merge = MERGES[name]
    assert merge is not None
    assert merge.fold(merge.fold(stored, first), second) == merge.fold(stored, merge.fold(first, second))


def test_a_batch_keeps_one_row_per_key_in_the_order_keys_first_came() -> None:
    merge = Merge((Take(("version", "status"), when=Higher("version")), Kept(("overdue",))))
    batch = [
        {"id": "b", "version": 1, "status": "submitted", "overdue": None},
        {"id": "a", "version": 2, "status": "verified", "overdue": True},
        {"id": "b", "version": 3, "status": "approved", "overdue": None},
        {"id": "a", "version": 1, "status": "submitted", "overdue": None},  # late: older than what came
    ]
    assert fold_by_key(batch, ("id",), merge) == [
        {"id": "b", "version": 3, "status": "approved", "overdue": None},
        {"id": "a", "version": 2, "status": "verified", "overdue": True},
    ]
    assert fold_by_key(batch, ("id",), None) == batch[:2]  # DO NOTHING: a key's first row stands


def test_a_rule_decided_by_a_column_it_does_not_carry_is_refused() -> None:
    """Such a rule is not associative: a later row could win on a column that its group then does not keep."""
    with pytest.raises(ValueError, match="without being one of them"):
        Merge((Take(("status",), when=Higher("version")),))
    with pytest.raises(ValueError, match="without any rule taking its column"):
        Merge((Take(("status",)),), only_if=Lower("rank"))
