"""An optional virus scanner for uploads (SATU_UPLOAD_SCANNER, e.g. ``clamdscan --no-summary --fdpass``):
run on each file before it is kept, with a time limit. Exit 0: clean; 1: infected (refused, 422); anything
else, or no answer in time: the upload is refused for now (503): with a scanner configured, no file is
kept unscanned."""

from __future__ import annotations

import logging
import shlex
import subprocess

from contracts.errors import InvalidInput
from gateway.rpc import ServiceUnavailable

log = logging.getLogger(__name__)

SCAN_SECONDS = 60


class Scanner:
    def __init__(self, command: str, timeout: float = SCAN_SECONDS) -> None:
        self.command = shlex.split(command)
        self.timeout = timeout

    def check(self, path: str) -> None:
        if not self.command:
            return
        try:
            result = subprocess.run([*self.command, path], capture_output=True, timeout=self.timeout)
        except (OSError, subprocess.TimeoutExpired) as error:
            log.error("upload scanner %s did not answer: %s", self.command[0], error.__class__.__name__)
            raise ServiceUnavailable("the upload scanner is not available; try again later") from None
        if result.returncode == 1:
            raise InvalidInput("the file was refused by the virus scanner", field="file")
        if result.returncode != 0:
            log.error("upload scanner %s failed with code %s", self.command[0], result.returncode)
            raise ServiceUnavailable("the upload scanner is not available; try again later")
