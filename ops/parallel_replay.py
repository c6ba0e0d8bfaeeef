"""A rebuild's shadow filled by several processes at once, each replaying its own range of log positions.

Reading, decoding and mapping the stored events is most of a rebuild's CPU and is the same work for every
range, so a log split in ranges splits it between cores. Their batches then reach the shadow in no particular
order, which every rebuildable projection allows: each gives the same rows whatever order a model's events are
applied in (the case list keeps a version per group of columns; tests/integration/test_case_order.py).

Each worker is a forked process with its own connections (to the event store and to the shadow), one batch in
memory at a time, and reports the positions it reaches; the caller sees one progress count over all ranges.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable
from typing import Any

from infra.replay import handled_by_any, replay_into
from infra.settings import Settings
from ops.shadow import Shadow
from ops.sources import open_source

Progress = Callable[[int], None]  # told how many log positions were read so far, over all ranges
Range = tuple[int, int]  # positions after the first, up to and including the second

LEAST_PER_WORKER = 10_000  # positions: below this, starting a process and opening the store cost too much


def position_ranges(stop: int, workers: int) -> list[Range]:
    """Up to ``workers`` ranges of about the same length covering positions 1 to ``stop``, none shorter than
    LEAST_PER_WORKER (a short log is one range)."""
    count = max(1, min(workers, stop // LEAST_PER_WORKER))
    bounds = [stop * n // count for n in range(count + 1)]
    return list(zip(bounds, bounds[1:], strict=False))


def replay_ranges(
    source_name: str,
    settings: Settings,
    shadows: list[Shadow],
    ranges: list[Range],
    progress: Progress,
    record_each: bool = False,
) -> list[int]:
    """Replay each range of log ``source_name`` into every one of ``shadows`` (read models of that log), in a
    process of its own per range (with a row per event applied when ``record_each``); returns how many events
    each shadow was applied."""
    context = multiprocessing.get_context("fork")  # the worker inherits the shadows and the settings as they are
    reports: Any = context.Queue()
    workers = [
        context.Process(
            target=_replay_range, args=(source_name, settings, shadows, n, span, reports, record_each), daemon=True
        )
        for n, span in enumerate(ranges)
    ]
    for worker in workers:
        worker.start()
    read, applied, finished = [0] * len(ranges), [0] * len(shadows), 0
    try:
        while finished < len(workers):
            try:
                n, position, done = reports.get(timeout=1.0)
            except queue.Empty:
                if any(worker.exitcode not in (None, 0) for worker in workers):
                    break
                continue
            read[n] = position - ranges[n][0]
            progress(sum(read))
            if done is not None:
                applied, finished = [total + more for total, more in zip(applied, done, strict=True)], finished + 1
    finally:
        for worker in workers:
            worker.join(timeout=None if finished == len(workers) else 0)
            if worker.is_alive():
                worker.terminate()
                worker.join()
    failed = [str(n) for n, worker in enumerate(workers) if worker.exitcode != 0]
    if failed:
        names = " + ".join(shadow.projection.name for shadow in shadows)
        raise RuntimeError(f"{names}: the replay of position range(s) {', '.join(failed)} failed (see above)")
    return applied


def _replay_range(
    source_name: str, settings: Settings, shadows: list[Shadow], n: int, span: Range, reports: Any, record_each: bool
) -> None:
    """In the worker: the inherited engines' connections belong to the parent, so it opens its own."""
    for shadow in shadows:
        shadow.engine.dispose(close=False)
    source = open_source(source_name, settings, replay=True)
    try:
        start, stop = span
        targets = [(shadow.engine, shadow.projection) for shadow in shadows]
        events = source.integration_events(start=start, stop=stop, wanted=handled_by_any(targets))
        applied = replay_into(
            targets, events, lambda position: reports.put((n, position, None)), record_each=record_each
        )
        reports.put((n, stop, applied))
    finally:
        source.close()
