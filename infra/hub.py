"""Blocking work in a process that may run eventlet's hub (a nameko service), where one blocking call stops
every worker of the process."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def off_the_hub(work: Callable[..., T], *args: Any) -> T:
    """Run ``work`` (a file's fsync) in eventlet's pool of native threads when this process runs eventlet's hub,
    so that its other workers go on meanwhile; directly anywhere else (the CLI, the gateway, a test)."""
    if "eventlet" in sys.modules:
        from eventlet import patcher, tpool

        if patcher.is_monkey_patched("thread"):
            result: T = tpool.execute(work, *args)
            return result
    return work(*args)
