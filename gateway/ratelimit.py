"""Rate limits shared by every gateway replica: a fixed-window counter per (rule, who) in Redis.

A rule is a name, a number of hits and a window ("sign-in: 10 per 5 minutes per address"). Counting in
Redis makes the limit the same whichever replica a request reaches; a local or test system without
SATU_REDIS_URL counts in the process instead (one replica). A request over the limit is answered 429
with the limit named and Retry-After; Redis being unreachable lets requests through (logged once per
outage): the limits protect the office from abuse, they must not take the service down with them.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from gateway.errors import TooManyRequests

log = logging.getLogger(__name__)

RETRY_REDIS_SECONDS = 5.0


@dataclass(frozen=True)
class Rule:
    name: str  # e.g. "sign-in per address"
    hits: int
    window_seconds: int

    def describe(self) -> str:
        minutes, seconds = divmod(self.window_seconds, 60)
        hours, minutes = divmod(minutes, 60)
        if hours and not minutes and not seconds:
            span = "hour" if hours == 1 else f"{hours} hours"
        elif minutes and not hours and not seconds:
            span = "minute" if minutes == 1 else f"{minutes} minutes"
        else:
            span = f"{self.window_seconds} seconds"
        return f"{self.hits} per {span}"


class Counter(Protocol):
    def add(self, key: str, window_seconds: int) -> tuple[int, float]:
        """Count one hit for ``key`` in the current window: (hits so far, seconds until the window ends)."""
        ...


class MemoryCounter:
    """One process's counts (local and test systems, a single replica)."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def add(self, key: str, window_seconds: int) -> tuple[int, float]:
        now = time.monotonic()
        with self._lock:
            count, ends = self._counts.get(key, (0, now + window_seconds))
            if ends <= now:
                count, ends = 0, now + window_seconds
            self._counts[key] = (count + 1, ends)
            if len(self._counts) > 100_000:  # forget finished windows now and then
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            return count + 1, ends - now


class RedisCounter:
    """Counts shared by every replica: INCR of a key per window, which expires with it."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._down_since: float | None = None
        self._retry_at = 0.0  # while Redis is down, ask again only now and then (requests must not wait on it)

    def add(self, key: str, window_seconds: int) -> tuple[int, float]:
        now = time.time()
        if now < self._retry_at:
            return 0, 0.0
        window = int(now // window_seconds)
        name = f"satu:limit:{key}:{window}"
        try:
            pipeline = self.client.pipeline()
            pipeline.incr(name)
            pipeline.expire(name, window_seconds + 1)
            count = int(pipeline.execute()[0])
        except Exception as error:  # noqa: BLE001 - any Redis failure: let the request through
            self._retry_at = now + RETRY_REDIS_SECONDS
            if self._down_since is None:
                self._down_since = now
                log.warning("rate limits not enforced: Redis is unreachable (%s)", error.__class__.__name__)
            return 0, 0.0
        if self._down_since is not None:
            log.warning("rate limits enforced again: Redis answers")
            self._down_since = None
        return count, (window + 1) * window_seconds - now


class Limiter:
    def __init__(self, counter: Counter) -> None:
        self.counter = counter

    def check(self, rule: Rule, who: str, field: str | None = None) -> None:
        """Count a hit of ``who`` against ``rule``; raise TooManyRequests once over it."""
        digest = hashlib.sha256(who.encode()).hexdigest()[:32]  # no addresses or e-mails in Redis keys
        count, retry_after = self.counter.add(f"{rule.name}:{digest}", rule.window_seconds)
        if count > rule.hits:
            raise TooManyRequests.over(rule, max(1, int(retry_after + 0.999)), field)


def limiter_for(redis_url: str) -> Limiter:
    return Limiter(RedisCounter(redis_url) if redis_url else MemoryCounter())
