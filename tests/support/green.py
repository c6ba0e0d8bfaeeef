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
