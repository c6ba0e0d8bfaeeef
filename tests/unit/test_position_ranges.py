"""How a rebuild splits a long log between processes (ops/parallel_replay.py): every position exactly once."""

from __future__ import annotations

from ops.parallel_replay import LEAST_PER_WORKER, position_ranges


def test_a_long_log_is_split_in_contiguous_ranges_covering_every_position_once() -> None:
    stop = 5 * LEAST_PER_WORKER + 7
    ranges = position_ranges(stop, workers=3)
    assert len(ranges) == 3 and ranges[0][0] == 0 and ranges[-1][1] == stop
    assert all(after == before for (_start, before), (after, _stop) in zip(ranges, ranges[1:], strict=False))
    lengths = [stop - start for start, stop in ranges]
    assert max(lengths) - min(lengths) <= 1


def test_a_short_log_is_one_range_and_no_range_is_shorter_than_the_least() -> None:
    assert position_ranges(LEAST_PER_WORKER - 1, workers=4) == [(0, LEAST_PER_WORKER - 1)]
    assert len(position_ranges(3 * LEAST_PER_WORKER, workers=8)) == 3
    assert position_ranges(0, workers=2) == [(0, 0)]
