"""Eventlet process set-up. Import this first in every nameko service module.

psycopg's C wait function blocks eventlet's hub, and so does its wait while connecting unless psycopg was
imported after eventlet patched ``selectors``. ``ops.service`` patches a service's process and then calls
``make_psycopg_green``, which stops a service whose psycopg was imported too early. Until then (and in a
service started some other way) the pure-Python ``wait_select`` cooperates; the variable choosing it is read
when psycopg is imported, so it is set here.

``wait_select`` goes through eventlet's green ``select``: for every wait a listener per event wanted and a
timer are added to the hub and removed again, and a statement waits several times (in pipeline mode, as the
event store writes: on entering, per statement, on leaving). ``wait_green`` first asks the socket without
waiting, which usually answers (psycopg mostly asks "read or write", and the socket can be written), and
otherwise waits on the one event psycopg wants. An event stored by the submissions service on PostgreSQL cost
1.1 ms CPU before and 0.7 after (a scratch loop under eventlet; docs/benchmarks.md has the system's figures).
"""

from __future__ import annotations

import os

os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

import selectors  # noqa: E402 - after the variable, which psycopg reads on import
from time import monotonic  # noqa: E402
from typing import Any  # noqa: E402

import eventlet  # noqa: E402
from eventlet import patcher  # noqa: E402
from eventlet.green import select as green_select  # noqa: E402
from eventlet.hubs import trampoline  # noqa: E402
from psycopg import errors, waiting  # noqa: E402
from psycopg.waiting import READY_NONE, READY_R, READY_W, WAIT_R, WAIT_RW, WAIT_W  # noqa: E402

_unpatched = patcher.original("select")
_POLL_MASKS: dict[int, int] = {
    WAIT_R: _unpatched.POLLIN,
    WAIT_W: _unpatched.POLLOUT,
    WAIT_RW: _unpatched.POLLIN | _unpatched.POLLOUT,
}
_READABLE = _unpatched.POLLIN | _unpatched.POLLERR | _unpatched.POLLHUP
BUSY_SECONDS = 0.005  # the longest waits that keep finding the socket ready hold on before other workers run
_last_switch = monotonic()  # when a wait last let the other workers of this process run


class _Idle(Exception):
    """Nothing happened on the socket for psycopg's interval: it is told so (``READY_NONE``) and asks again."""


def make_psycopg_green() -> None:
    """In a monkey-patched process (a nameko service), psycopg waits with ``wait_green``; a psycopg imported
    before eventlet patched ``selectors`` would block every worker while it connects, so that stops the service.
    Elsewhere (threads) psycopg's own waits are the right ones and stay."""
    if not patcher.is_monkey_patched("select"):
        return
    if waiting.DefaultSelector is not selectors.DefaultSelector:
        raise SystemExit(
            "psycopg was imported before eventlet patched the process (import infra.green first, and patch before "
            "that); PostgreSQL connections would block the eventlet hub"
        )
    waiting.wait = wait_green


def wait_green(gen: Any, fileno: int, interval: float = 0.0, timeout: float | None = None) -> Any:
    """psycopg's ``wait`` contract (as ``psycopg.waiting.wait_select``): drive ``gen``, which yields what it
    waits for (read, write or either) and is sent what the socket is ready for; returns what ``gen`` returns.
    Every ``interval`` seconds without news it is sent ``READY_NONE``; past ``timeout``, ``_WaitTimeout``; a
    socket that fails, ``OperationalError``."""
    global _last_switch
    deadline = None if timeout is None else monotonic() + timeout
    try:
        wanted = next(gen)
        while True:
            ready = _ready_now(fileno, wanted)
            if ready:
                # A long run of ready answers, in one wait or over many (a COPY waits once per chunk): let the
                # other workers in every few ms, as a wait that blocks would.
                if monotonic() - _last_switch > BUSY_SECONDS:
                    eventlet.sleep(0)
                    _last_switch = monotonic()
            else:
                ready = _wait(fileno, wanted, _limit(interval, deadline))
                _last_switch = monotonic()
            wanted = gen.send(ready)
            if deadline is not None and monotonic() >= deadline:
                raise errors._WaitTimeout("wait timeout expired")
    except StopIteration as finished:
        return finished.value
    except OSError as failure:  # eventlet's IOClosed too
        raise errors.OperationalError("connection socket closed") from failure


def _ready_now(fileno: int, wanted: int) -> int:
    """What the socket is ready for without waiting (poll: any descriptor number, unlike select)."""
    poll = _unpatched.poll()
    poll.register(fileno, _POLL_MASKS[wanted])
    ready: int = READY_NONE
    for _fd, events in poll.poll(0):
        if events & _unpatched.POLLNVAL:
            # Closed meanwhile (by another worker): handed to the hub, it would leave a listener behind there
            # that fails whoever gets the same number next.
            raise errors.OperationalError("connection socket closed")
        if events & _READABLE:
            ready |= READY_R  # an error or hang-up too: psycopg reads it and raises
        if events & _unpatched.POLLOUT:
            ready |= READY_W
    return ready


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
    # Either will do, and neither is possible now (the send buffer is full): eventlet's select waits on both.
    readable, writable, _ = green_select.select((fileno,), (fileno,), (), limit)
    return (READY_R if readable else READY_NONE) | (READY_W if writable else READY_NONE)
