"""Eventlet process set-up. Import this first in every nameko service module.

psycopg's C wait function blocks eventlet's hub; the pure-Python ``wait_select`` cooperates. The
variable is read when psycopg is imported, so it is set here and checked after import.
"""

from __future__ import annotations

import os

os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")


def check_psycopg_is_green() -> None:
    import psycopg.waiting

    if psycopg.waiting.wait is not psycopg.waiting.wait_select:
        raise SystemExit(
            "PSYCOPG_WAIT_FUNC did not take effect (psycopg was imported before infra.green); "
            "PostgreSQL calls would block the eventlet hub"
        )
