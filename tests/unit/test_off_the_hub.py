"""A blocking call in a nameko service (eventlet's hub, one OS thread) stops every worker of the process for as
long as it lasts: a mail file's fsync waited 4-5 ms under load, once per mail. ``off_the_hub`` runs it in a
native thread instead. Checked in a process of its own, monkey-patched as nameko runs a service."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from infra.hub import off_the_hub
from tests.support.green import TICKING_WORKER

WORKER_TICKS_DURING_BLOCKING_WORK = (
    textwrap.dedent(
        """
    import eventlet
    eventlet.monkey_patch()
    import sys
    from eventlet import patcher
    from infra.hub import off_the_hub

    blocking_sleep = patcher.original("time").sleep  # a call that holds the OS thread, as fsync does
    """
    )
    + TICKING_WORKER
    + textwrap.dedent(
        """
    eventlet.sleep(0)
    if sys.argv[1] == "off":
        assert off_the_hub(lambda seconds: blocking_sleep(seconds) or "done", 0.5) == "done"
    else:
        blocking_sleep(0.5)
    print(len(ticks))
    """
    )
)


def _ticks(mode: str) -> int:
    finished = subprocess.run(
        [sys.executable, "-c", WORKER_TICKS_DURING_BLOCKING_WORK, mode], capture_output=True, text=True, check=True
    )
    return int(finished.stdout.split()[-1])


def test_blocking_work_off_the_hub_lets_the_other_workers_go_on() -> None:
    assert _ticks("on") <= 2  # the hub stood still for half a second
    assert _ticks("off") >= 20  # ~100 ticks of 5 ms fit in it; a busy machine gets fewer


def test_outside_eventlet_the_work_runs_as_it_is() -> None:
    assert off_the_hub(lambda a, b: a + b, 2, 3) == 5
    with pytest.raises(ZeroDivisionError):
        off_the_hub(lambda: 1 / 0)
