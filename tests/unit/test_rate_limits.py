"""Rate limits: counted per rule and per who, the same in every replica when Redis counts (a real Redis)."""

from __future__ import annotations

import uuid

import pytest
import redis

from gateway.errors import TooManyRequests
from gateway.ratelimit import Limiter, MemoryCounter, RedisCounter, Rule

REDIS_URL = "redis://127.0.0.1:6379/15"
SIGN_IN = Rule("sign-in per address", hits=3, window_seconds=300)


def test_the_hit_over_the_limit_is_refused_naming_the_rule_and_when_to_retry() -> None:
    limiter = Limiter(MemoryCounter())
    for _ in range(3):
        limiter.check(SIGN_IN, "10.0.0.7")
    with pytest.raises(TooManyRequests) as refused:
        limiter.check(SIGN_IN, "10.0.0.7", field="email")
    assert refused.value.status == 429 and refused.value.field == "email"
    assert str(refused.value) == "too many requests (sign-in per address: at most 3 per 5 minutes); try again later"
    assert "Terlalu banyak permintaan" in refused.value.message_id
    assert 1 <= refused.value.retry_after <= 300
    limiter.check(SIGN_IN, "10.0.0.8")  # someone else is not affected


def test_replicas_counting_in_redis_share_one_limit() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()
    rule = Rule(f"upload {uuid.uuid4().hex}", hits=4, window_seconds=60)
    first, second = Limiter(RedisCounter(REDIS_URL)), Limiter(RedisCounter(REDIS_URL))  # two gateway replicas
    for replica in (first, second, first, second):
        replica.check(rule, "account-1")
    with pytest.raises(TooManyRequests):
        second.check(rule, "account-1")
    assert not any(b"account-1" in key for key in client.keys("satu:limit:*"))  # who is hashed, not stored


def test_an_unreachable_redis_lets_requests_through() -> None:
    limiter = Limiter(RedisCounter("redis://127.0.0.1:1/0"))
    for _ in range(10):
        limiter.check(SIGN_IN, "10.0.0.9")
