"""The upload store: PDFs under ``var_dir/uploads`` (never under a web root), one JSON sidecar each.

Names on disk are random (``<uuid4 hex>.pdf``); the user's file name is kept, cleaned, for display
only. A file counts as stored once its sidecar exists: both are written to a temporary file first
and renamed into place, so a crash never leaves half a file that looks complete.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import tempfile
import unicodedata
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from contracts.errors import InvalidInput
from contracts.identity import Caller
from gateway.errors import TooLarge, UnsupportedMediaType, size_text
from gateway.inspector import Inspector
from gateway.pdf_inspection import Verdict
from gateway.pending_uploads import PendingUploads
from gateway.scanner import Scanner

_FILE_ID = re.compile(r"^[0-9a-f]{32}$")
_CHUNK = 64 * 1024
_MAX_NAME = 200  # contracts.cases.Attachment.filename


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    filename: str
    size: int
    sha256: str
    uploaded_by: str
    organisation_id: str | None
    uploaded_at: str


class UploadStore:
    def __init__(
        self,
        directory: Path,
        max_bytes: int,
        inspector: Inspector | None = None,
        quota_bytes: int | None = None,
        scanner: Scanner | None = None,
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.inspector = inspector or Inspector()
        self.quota_bytes = quota_bytes
        self.scanner = scanner or Scanner("")
        directory.mkdir(parents=True, exist_ok=True)
        self.pending = PendingUploads(directory)

    def save(self, source: BinaryIO, original_name: str | None, caller: Caller) -> StoredFile:
        file_id = uuid.uuid4().hex
        fd, temporary = tempfile.mkstemp(dir=self.directory, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as target:
                size, sha256 = self._copy_limited(source, target)
            if size == 0:
                raise InvalidInput("the file is empty", field="file")
            refuse_unless_acceptable(self.inspector.inspect(temporary))
            self._within_quota(caller, size)
            self.scanner.check(temporary)
            os.replace(temporary, self.pdf_path(file_id))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        stored = StoredFile(
            file_id=file_id,
            filename=display_name(original_name),
            size=size,
            sha256=sha256,
            uploaded_by=caller.user_id,
            organisation_id=caller.organisation_id,
            uploaded_at=dt.datetime.now(dt.UTC).isoformat(),
        )
        _write_atomically(self._sidecar(file_id), json.dumps(asdict(stored)).encode())
        self.pending.add(caller.user_id, file_id, size)  # counts against the quota until attached
        return stored

    def _within_quota(self, caller: Caller, size: int) -> None:
        if self.quota_bytes is not None and self.pending.usage(caller.user_id) + size > self.quota_bytes:
            raise TooLarge(
                f"your files not attached to a case would exceed the limit of {size_text(self.quota_bytes)}; "
                "attach them or wait until the unattached ones expire",
                field="file",
            )

    def delete(self, file_id: str) -> int:
        """Remove a file never attached (the sweep); returns the bytes it held."""
        if not _FILE_ID.match(file_id):
            return 0
        path = self.pdf_path(file_id)
        size = path.stat().st_size if path.exists() else 0
        path.unlink(missing_ok=True)
        self._sidecar(file_id).unlink(missing_ok=True)
        return size

    def get(self, file_id: str) -> StoredFile | None:
        if not _FILE_ID.match(file_id):  # never build a path from anything else
            return None
        try:
            data = json.loads(self._sidecar(file_id).read_text())
        except FileNotFoundError:
            return None
        return StoredFile(**data) if self.pdf_path(file_id).exists() else None

    def pdf_path(self, file_id: str) -> Path:
        return self.directory / f"{file_id}.pdf"

    def _sidecar(self, file_id: str) -> Path:
        return self.directory / f"{file_id}.json"

    def _copy_limited(self, source: BinaryIO, target: BinaryIO) -> tuple[int, str]:
        size, digest = 0, hashlib.sha256()
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                raise TooLarge(f"the file is larger than the limit of {self.max_bytes} bytes", field="file")
            digest.update(chunk)
            target.write(chunk)
        return size, digest.hexdigest()


def refuse_unless_acceptable(verdict: Verdict) -> None:
    if verdict.problem is None:
        return
    if verdict.kind == "not_pdf":
        raise UnsupportedMediaType(verdict.problem, field="file")
    raise InvalidInput(verdict.problem, field="file")


def display_name(original: str | None) -> str:
    """The user's file name without any path, control or shell-special characters, ending in .pdf."""
    name = unicodedata.normalize("NFC", (original or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>:|?*;`$')
    name = " ".join(name.split()).strip(" .")
    stem = name[:-4] if name.lower().endswith(".pdf") else name
    return (stem[: _MAX_NAME - 4].rstrip(" .") or "dokumen") + ".pdf"


def _write_atomically(path: Path, content: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
