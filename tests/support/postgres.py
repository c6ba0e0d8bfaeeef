"""A fresh, empty PostgreSQL database on the server the tests use, dropped afterwards (tests and benches)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

PG_ADMIN_URL = os.environ.get("SATU_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def scratch_database(prefix: str = "satu_test", keep: bool = False) -> Iterator[str]:
    """Yield the URL of a new database; drop it (closing any connection left open) on the way out, unless
    ``keep`` (a benchmark's dataset to look at afterwards)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        if keep:
            print(f"kept database {name}", flush=True)
        else:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
