"""The one-command system's supervisor: a part that exits is started again with growing pauses, said
in one line each way, and the parts' states are written for /health (real processes, a stepped clock)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from infra.part_status import STATUS_FILE, read_status, write_status
from ops.supervisor import Supervisor

EXITS = [sys.executable, "-c", "import sys; sys.exit(3)"]
STAYS = [sys.executable, "-c", "import time; time.sleep(60)"]


class SteppedClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def spawn(_name: str, command: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command)


def wait_exit(supervisor: Supervisor, name: str) -> None:
    supervisor.parts[name].process.wait(10)


def test_a_part_that_keeps_exiting_is_restarted_with_doubling_pauses(tmp_path: Path) -> None:
    said: list[str] = []
    clock = SteppedClock()
    supervisor = Supervisor(spawn, said.append, tmp_path / "parts.json", clock=clock)
    supervisor.add("relay-submissions", EXITS)
    pauses = []
    for _ in range(4):
        wait_exit(supervisor, "relay-submissions")
        supervisor.tick()  # notices the exit
        part = supervisor.parts["relay-submissions"]
        assert part.restart_at is not None
        pauses.append(part.restart_at - clock.now)
        supervisor.tick()  # too early: still waiting
        assert part.state == "restarting"
        clock.now = part.restart_at
        supervisor.tick()  # started again
        assert part.state == "running"
    assert pauses == [1.0, 2.0, 4.0, 8.0]
    assert said[0] == "relay-submissions exited with code 3; starting it again in 1s"
    assert said[1] == "relay-submissions started again (restart 1)"
    status = read_status(tmp_path / "parts.json")
    assert status is not None and status["relay-submissions"]["restarts"] == 4  # type: ignore[index]
    supervisor.parts["relay-submissions"].process.wait(10)


def test_a_part_that_ran_a_while_is_restarted_at_once_and_the_others_are_left_alone(tmp_path: Path) -> None:
    clock = SteppedClock()
    supervisor = Supervisor(spawn, lambda _line: None, tmp_path / "parts.json", clock=clock)
    killed = supervisor.add("registry", STAYS)
    calm = supervisor.add("documents", STAYS)
    try:
        clock.now += 3600  # up for an hour, then killed
        killed.kill()
        killed.wait(10)
        supervisor.tick()
        assert supervisor.parts["registry"].restart_at == clock.now + 1.0
        assert read_status(tmp_path / "parts.json")["registry"]["state"] == "restarting"  # type: ignore[index]
        clock.now += 1.0
        supervisor.tick()
        assert supervisor.parts["registry"].process.pid != killed.pid
        assert supervisor.parts["documents"].process is calm and calm.poll() is None
        assert read_status(tmp_path / "parts.json")["registry"]["state"] == "running"  # type: ignore[index]

        pauses = []  # killed again each time it is back: the pauses double from there
        for _ in range(3):
            supervisor.parts["registry"].process.kill()
            supervisor.parts["registry"].process.wait(10)
            supervisor.tick()
            restart_at = supervisor.parts["registry"].restart_at
            assert restart_at is not None
            pauses.append(restart_at - clock.now)
            clock.now = restart_at
            supervisor.tick()
        assert pauses == [2.0, 4.0, 8.0]
    finally:
        for part in supervisor.parts.values():
            part.process.kill()
            part.process.wait(10)


def test_no_status_without_a_supervisor(tmp_path: Path) -> None:
    assert read_status(tmp_path / "parts.json") is None


def test_health_shows_each_part_as_the_supervisor_last_saw_it(client, tmp_path: Path) -> None:
    assert client.get("/health").json() == {"status": "ok"}  # no supervisor here: the gateway alone
    write_status(tmp_path / STATUS_FILE, {"relay-registry": {"state": "restarting", "restarts": 2, "last_exit": 1}})
    health = client.get("/health").json()
    assert health["parts"]["relay-registry"] == {"state": "restarting", "restarts": 2, "last_exit": 1}
