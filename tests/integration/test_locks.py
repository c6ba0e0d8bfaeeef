"""One relay per store: the single-instance lock on SQLite (a file lock) and PostgreSQL (an advisory lock
whose session can die under it)."""

from __future__ import annotations

import psycopg
import pytest

from infra.locks import LEASE_SECONDS, TAKEOVER_SECONDS, AlreadyRunningError, LockLostError, SingleInstanceLock
from infra.settings import Settings


def lock(settings: Settings, clock: list[float] | None = None) -> SingleInstanceLock:
    url = settings.database_url if settings.uses_postgres else None
    if clock is None:
        return SingleInstanceLock("relay-test", url, settings.var_dir)
    return SingleInstanceLock("relay-test", url, settings.var_dir, clock=lambda: clock[0])


def test_a_second_holder_is_refused_until_the_first_lets_go(settings: Settings) -> None:
    first, second = lock(settings), lock(settings)
    first.acquire()
    with pytest.raises(AlreadyRunningError):
        second.acquire()
    first.release()
    second.acquire()
    second.release()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_lock_lost_with_its_session_is_noticed_within_a_lease_and_taken_again(settings: Settings) -> None:
    now = [100.0]
    holder = lock(settings, now)
    holder.acquire()
    assert holder.takeover_seconds == TAKEOVER_SECONDS > LEASE_SECONDS
    with psycopg.connect(settings.database_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (holder.backend_pid,))

    holder.confirm_if_due()  # confirmed less than a lease ago: it may still act (a new holder waits longer)
    now[0] += LEASE_SECONDS
    with pytest.raises(LockLostError):
        holder.confirm_if_due()  # asked again: the session, and the lock with it, is gone
    with pytest.raises(LockLostError):
        holder.confirm_if_due()  # and it stays lost until taken again

    assert holder.try_acquire()
    now[0] += LEASE_SECONDS
    holder.confirm_if_due()
    holder.release()
