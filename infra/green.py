"""Eventlet process set-up. Import this first in every nameko service module.

psycopg's C wait function blocks eventlet's hub. Until ``make_psycopg_green`` runs (a service's database
is opened), the pure-Python ``wait_select`` cooperates; the variable choosing it is read when psycopg is
imported, so it is set here.

``wait_select`` goes through eventlet's green ``select``, which for every wait adds three listeners to the
hub, a timer, and removes them again; a statement waits several times (pipeline mode: on entering, per
statement, on leaving). ``wait_green`` asks the socket first without waiting (it usually is ready to be
written, often already to be read) and otherwise waits on the one event psycopg wants: 1.1 -> 0.7 ms CPU
per event stored by an event store under eventlet (docs/benchmarks.md).
"""

from __future__ import annotations

import os

os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

from time import monotonic  # noqa: E402 - after the variable, which psycopg reads on import
from typing import Any  # noqa: E402

from eventlet import patcher  # noqa: E402
from eventlet.green import select as green_select  # noqa: E402
from eventlet.hubs import trampoline  # noqa: E402
from psycopg import errors, waiting  # noqa: E402
from psycopg.waiting import READY_NONE, READY_R, READY_W, WAIT_R, WAIT_W  # noqa: E402

_unpatched_select = patcher.original("select").select


class _Idle(Exception):
    """Nothing happened on the socket for psycopg's interval: it is told so (``READY_NONE``) and asks again."""


def make_psycopg_green() -> None:
    """In a monkey-patched process (a nameko service) psycopg waits with ``wait_green``, whenever psycopg was
    imported; elsewhere (threads) its own wait is the right one and stays."""
    if patcher.is_monkey_patched("select"):
        waiting.wait = wait_green


def wait_green(gen: Any, fileno: int, interval: float = 0.0, timeout: float | None = None) -> Any:
    """psycopg's ``wait`` contract (as ``psycopg.waiting.wait_select``): drive ``gen``, which yields what it
    waits for (read, write or either) and is sent what the socket is ready for; returns what ``gen`` returns.
    Every ``interval`` seconds without news it is sent ``READY_NONE``; past ``timeout``, ``_WaitTimeout``."""
    deadline = None if timeout is None else monotonic() + timeout
    socket = (fileno,)
    try:
        wanted = next(gen)
        while True:
            readable, writable, _ = _unpatched_select(
                socket if wanted & WAIT_R else (), socket if wanted & WAIT_W else (), (), 0
            )
            ready = (READY_R if readable else READY_NONE) | (READY_W if writable else READY_NONE)
            if not ready:
                ready = _wait(fileno, wanted, _limit(interval, deadline))
            wanted = gen.send(ready)
            if deadline is not None and monotonic() >= deadline:
                raise errors._WaitTimeout("wait timeout expired")
    except StopIteration as finished:
        return finished.value


def _limit(interval: float, deadline: float | None) -> float | None:
    """How long one wait may last: psycopg's interval (0: no interval), within the deadline; None: no limit."""
    if deadline is None:
        return interval or None
    left = max(0.0, deadline - monotonic())
    return min(interval, left) if interval else left


def _wait(fileno: int, wanted: int, limit: float | None) -> int:
    """What the socket is ready for once it is, or ``READY_NONE`` after ``limit`` seconds."""
    if limit is not None and limit <= 0:
        return READY_NONE
    if wanted in (WAIT_R, WAIT_W):
        try:
            trampoline(fileno, read=wanted == WAIT_R, write=wanted == WAIT_W, timeout=limit, timeout_exc=_Idle)
        except _Idle:
            return READY_NONE
        return READY_R if wanted == WAIT_R else READY_W
    # Either will do (rare: the send buffer is full): eventlet's select waits on both.
    readable, writable, _ = green_select.select((fileno,), (fileno,), (), limit)
    return (READY_R if readable else READY_NONE) | (READY_W if writable else READY_NONE)
