"""Worker processes that inspect uploads (gateway/pdf_inspection.py) with CPU, memory and time limits.

The gateway never parses an uploaded PDF itself: a hostile file could hold its CPU (every other request
would wait) or its memory. A small pool of spawned workers does it; each worker has an address-space
cap and a CPU-seconds cap and is replaced after a number of files; a file that takes longer than the
time limit is refused and the pool is replaced (the stuck worker killed).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import threading
from multiprocessing.pool import Pool

from gateway.pdf_inspection import Verdict, inspect_pdf

log = logging.getLogger(__name__)

MEMORY_BYTES = 768 * 1024 * 1024
CPU_SECONDS = 120  # over a worker's whole life; it is replaced after FILES_PER_WORKER files
FILES_PER_WORKER = 50
TIMEOUT_SECONDS = 10.0


def _limit_worker() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    os.nice(5)  # behind the gateway's own work when the cores are busy


class Inspector:
    def __init__(self, workers: int = 2, timeout: float = TIMEOUT_SECONDS) -> None:
        self.workers = workers
        self.timeout = timeout
        self._pool: Pool | None = None
        self._lock = threading.Lock()

    def inspect(self, path: str) -> Verdict:
        pool = self._started()
        try:
            return pool.apply_async(inspect_pdf, (path,)).get(self.timeout)
        except multiprocessing.TimeoutError:
            log.warning("an upload took longer than %.0f s to inspect; refused", self.timeout)
            self._replace(pool)
            return Verdict("the PDF could not be checked in time; save it again as a simpler PDF", "too_complex")
        except (MemoryError, OSError, EOFError) as error:  # the worker hit its memory cap, or died
            log.warning("an upload's inspection failed (%s); refused", type(error).__name__)
            self._replace(pool)
            return Verdict("the PDF could not be checked; save it again as a simpler PDF", "too_complex")

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()
            pool.join()

    def _started(self) -> Pool:
        with self._lock:
            if self._pool is None:
                # spawn: the gateway runs threads, and a forked child would inherit their locks.
                context = multiprocessing.get_context("spawn")
                self._pool = context.Pool(self.workers, initializer=_limit_worker, maxtasksperchild=FILES_PER_WORKER)
            return self._pool

    def _replace(self, pool: Pool) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        # Out of the request's way: Pool.terminate can block on its handler threads (seen hanging a test
        # under load); the next file is inspected by a fresh pool meanwhile.
        threading.Thread(target=pool.terminate, name="inspector-terminate", daemon=True).start()
