"""Uploads not attached to any case yet: a marker per file under ``uploads/pending/<account>/<file id>``
holding its size, so an account's usage (its quota) is one small folder to read, and files never
attached can be found and removed.

A file is held (its marker touched) when a request names it, and released (its marker removed) once the
service accepted the filing or step; the sweep removes files whose marker is older than the limit. A
marker is claimed by renaming it before its file is deleted, so two gateway replicas sweeping the shared
folder, or a sweep and a request naming the file, never both act on it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path


def account_folder(user_id: str) -> str:
    return hashlib.sha256(user_id.encode()).hexdigest()[:32]  # no account id in a path


@dataclass(frozen=True)
class Swept:
    files: int
    bytes: int


class PendingUploads:
    def __init__(self, directory: Path) -> None:
        self.directory = directory / "pending"
        self.directory.mkdir(parents=True, exist_ok=True)

    def _marker(self, user_id: str, file_id: str) -> Path:
        return self.directory / account_folder(user_id) / file_id

    def add(self, user_id: str, file_id: str, size: int) -> None:
        marker = self._marker(user_id, file_id)
        marker.parent.mkdir(exist_ok=True)
        marker.write_text(str(size))

    def usage(self, user_id: str) -> int:
        """Bytes the account holds in files not attached to a case."""
        folder = self.directory / account_folder(user_id)
        total = 0
        for marker in folder.glob("*") if folder.exists() else ():
            try:
                total += int(marker.read_text() or 0)
            except (OSError, ValueError):
                continue  # claimed by a sweep meanwhile
        return total

    def hold(self, user_id: str, file_ids: Iterable[str]) -> None:
        """Named by a request now: not swept for another full period, whatever becomes of the request."""
        now = time.time()
        for file_id in file_ids:
            # Gone already: attached by another request naming the same file (two tabs), or never pending.
            with contextlib.suppress(FileNotFoundError):
                os.utime(self._marker(user_id, file_id), (now, now))

    def release(self, user_id: str, file_ids: Iterable[str]) -> None:
        """Attached to a case: the file stays for good and no longer counts against the quota."""
        for file_id in file_ids:
            self._marker(user_id, file_id).unlink(missing_ok=True)

    def sweep(
        self, older_than_seconds: float, delete: Callable[[str], int], progress: Callable[[], None] = lambda: None
    ) -> Swept:
        """Remove every file whose marker is older than ``older_than_seconds``; ``delete(file_id)`` removes
        a file and returns the bytes it held."""
        limit = time.time() - older_than_seconds
        files = freed = 0
        for marker in self.directory.glob("*/*"):
            progress()
            if marker.name.endswith(".sweeping"):
                continue
            try:
                if marker.stat().st_mtime >= limit:
                    continue
                claimed = marker.with_name(marker.name + ".sweeping")
                os.rename(marker, claimed)  # one sweeper wins; a request holding it meanwhile made it recent
            except FileNotFoundError:
                continue
            freed += delete(marker.name)
            files += 1
            claimed.unlink(missing_ok=True)
        return Swept(files, freed)
