"""Keep the parts of the one-command system running: a part that exits is started again, after a pause
that doubles with each quick failure (1 s, 2 s, 4 s … at most 30 s) and starts over once the part has
stayed up for a minute. One line is said when a part exits and one when it is back; the parts' states
are written to a status file (``var/parts.json``) that the gateway's /health shows.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from infra.outages import doubling_pause
from infra.part_status import write_status

FIRST_PAUSE_SECONDS = 1.0
LONGEST_PAUSE_SECONDS = 30.0
STABLE_SECONDS = 60.0  # a part up this long failed for a new reason: its pauses start over

Spawn = Callable[[str, list[str]], "subprocess.Popen[bytes]"]


@dataclass
class Part:
    name: str
    command: list[str]
    process: subprocess.Popen[bytes]
    started: float
    restarts: int = 0
    failures_in_a_row: int = 0  # exits each within STABLE_SECONDS of the start before it (the last one counts)
    restart_at: float | None = None  # set while the part waits to be started again
    last_exit: int | None = None

    @property
    def state(self) -> str:
        return "restarting" if self.restart_at is not None else "running"


@dataclass
class Supervisor:
    spawn: Spawn
    say: Callable[[str], object]
    status_file: Path | None = None
    clock: Callable[[], float] = time.monotonic
    parts: dict[str, Part] = field(default_factory=dict)

    def add(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        process = self.spawn(name, command)
        self.parts[name] = Part(name, command, process, self.clock())
        self.write_status()
        return process

    def tick(self) -> None:
        """Notice the parts that exited and start those whose pause is over."""
        now = self.clock()
        changed = False
        for part in self.parts.values():
            if part.restart_at is None and part.process.poll() is not None:
                self._schedule(part, now)
                changed = True
            elif part.restart_at is not None and now >= part.restart_at:
                part.process = self.spawn(part.name, part.command)
                part.started, part.restart_at, part.restarts = now, None, part.restarts + 1
                self.say(f"{part.name} started again (restart {part.restarts})")
                changed = True
        if changed:
            self.write_status()

    def _schedule(self, part: Part, now: float) -> None:
        part.last_exit = part.process.returncode
        part.failures_in_a_row = 1 if now - part.started >= STABLE_SECONDS else part.failures_in_a_row + 1
        pause = doubling_pause(part.failures_in_a_row, FIRST_PAUSE_SECONDS, LONGEST_PAUSE_SECONDS)
        part.restart_at = now + pause
        self.say(f"{part.name} exited with code {part.last_exit}; starting it again in {pause:.0f}s")

    def write_status(self) -> None:
        if self.status_file is None:
            return
        status = {
            part.name: {
                "state": part.state,
                "pid": part.process.pid if part.state == "running" else None,
                "restarts": part.restarts,
                "last_exit": part.last_exit,
            }
            for part in self.parts.values()
        }
        write_status(self.status_file, status)
