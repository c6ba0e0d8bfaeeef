"""Pieces of scripts run in a monkey-patched process of their own (as ``ops.service`` runs a service)."""

from __future__ import annotations

import textwrap

# Another worker of the process, counting in ``ticks`` how often it got to run (every 5 ms when nothing blocks).
TICKING_WORKER = textwrap.dedent(
    """
    ticks = []
    def other_worker():
        while True:
            ticks.append(1)
            eventlet.sleep(0.005)
    eventlet.spawn(other_worker)
    """
)

# Another worker that would run every millisecond, noting in ``gaps`` how long each time it had to wait; the
# script spawns ``gap_keeper`` when its measurement begins.
GAP_KEEPER = textwrap.dedent(
    """
    gaps, last = [], [time.monotonic()]
    def gap_keeper():
        while True:
            now = time.monotonic()
            gaps.append(now - last[0])
            last[0] = now
            eventlet.sleep(0.001)
    """
)
