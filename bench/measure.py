"""Small timing helpers shared by the benchmarks."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Rate:
    count: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else float("inf")


def timed(count: int, action: Callable[[int], object]) -> Rate:
    started = time.perf_counter()
    for index in range(count):
        action(index)
    return Rate(count, time.perf_counter() - started)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(samples: list[float]) -> str:
    return (
        f"p50 {percentile(samples, 0.5) * 1000:.0f} ms, p99 {percentile(samples, 0.99) * 1000:.0f} ms "
        f"(mean {statistics.fmean(samples) * 1000:.0f} ms, n={len(samples)})"
    )


def cpu_seconds(pid: int) -> float:
    """CPU time process ``pid`` used so far (user + system); OSError once it is gone."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_part(pids: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds each part's processes used so far (a process gone meanwhile counts nothing)."""

    def used(pid: int) -> float:
        try:
            return cpu_seconds(pid)
        except OSError:
            return 0.0

    return {part: sum(used(pid) for pid in found) for part, found in pids.items()}


def pids_named(command: str, unless_in_environment: bytes | None = None) -> list[int]:
    """The processes whose command is ``command``, but those whose environment holds ``unless_in_environment``."""
    found = []
    for process in Path("/proc").glob("[0-9]*"):
        try:
            if (process / "comm").read_text().strip() != command:
                continue
            if unless_in_environment is None or unless_in_environment not in (process / "environ").read_bytes():
                found.append(int(process.name))
        except OSError:
            continue
    return found


BROKER = "RabbitMQ"


def parts_and_broker(processes: Mapping[str, Any]) -> dict[str, list[int]]:
    """The process of each part of a running system (``System.processes``), and the broker's as ``BROKER``."""
    return {name: [process.pid] for name, process in processes.items()} | {BROKER: broker_pids()}


def broker_pids() -> list[int]:
    """The shared RabbitMQ's Erlang VM (a test's own node, named in its environment, is not it)."""
    return pids_named("beam.smp", unless_in_environment=b"RABBITMQ_NODENAME=")


def postgres_server_cpu_seconds() -> float:
    """CPU time the PostgreSQL server used so far: each postmaster's own, that of its children that ended (their
    backends come and go with the pools' connections), and that of those alive now."""
    clock = os.sysconf("SC_CLK_TCK")
    stats = {}
    for pid in pids_named("postgres"):
        try:
            stats[pid] = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
    postmasters = {pid for pid, fields in stats.items() if int(fields[1]) not in stats}
    total = 0
    for pid, fields in stats.items():
        if pid in postmasters:
            total += sum(int(fields[index]) for index in (11, 12, 13, 14))  # utime, stime, cutime, cstime
        elif int(fields[1]) in postmasters:
            total += int(fields[11]) + int(fields[12])
    return total / clock


def machine_cpu_seconds() -> float:
    """CPU time every process on the machine used so far (user, nice, system, irq, softirq: no idle, no wait)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(value) for value in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")
