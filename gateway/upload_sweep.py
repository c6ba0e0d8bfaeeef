"""Uploads never attached to a case are removed after SATU_UPLOAD_UNATTACHED_HOURS: a thread in every
gateway replica sweeps once an hour (replicas sharing the folder never remove a file twice), and
`satu uploads-sweep` does it at once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from gateway.pending_uploads import Swept
from gateway.uploads import UploadStore

log = logging.getLogger(__name__)

SWEEP_EVERY_SECONDS = 3600


def sweep_unattached(store: UploadStore, hours: float, progress: Callable[[], None] = lambda: None) -> Swept:
    swept = store.pending.sweep(hours * 3600, store.delete, progress)
    if swept.files:
        log.info("removed %d upload(s) never attached to a case (%d bytes)", swept.files, swept.bytes)
    return swept


class SweepTimer:
    def __init__(self, store: UploadStore, hours: float, every: float = SWEEP_EVERY_SECONDS) -> None:
        self.store, self.hours, self.every = store, hours, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="upload-sweep", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                sweep_unattached(self.store, self.hours)
            except OSError:
                log.exception("the upload sweep failed; it runs again in an hour")

    def stop(self) -> None:
        self._stop.set()
