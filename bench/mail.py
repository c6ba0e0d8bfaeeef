"""A mail's own work in the notifications service, against the same work done with the database driver and
the file system alone, side by side in one run, on SQLite and PostgreSQL:

- outbox: ``MailOutbox.record`` (the event recorded as applied and its mail claimed, one transaction), then
  ``MailOutbox.send`` with the file backend (the message built, written as an .eml and fsynced, its outcome
  recorded);
- raw: the same rows inserted and updated with the driver (sqlite3 / psycopg) and the same bytes written
  and fsynced, the message built once beforehand.

CPU ms per mail is this process's user+system time (the database server's own work on PostgreSQL apart).

    .venv/bin/python -m bench.mail [--mails 500] [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from contracts.events import IntegrationEvent
from infra.nameko_support import ReadModelProvider
from infra.settings import Settings
from services.notifications.mailer import FileMailer, OutgoingMail, build_message
from services.notifications.outbox import MailOutbox
from tests.support.postgres import scratch_database

SENDER = "Satu Ormas <no-reply@ormas.balikpapan.go.id>"
BODY = "Yth. Pengurus Perkumpulan Bench,\n\n" + "Nomor permohonan: SKM-2026-000123\nLayanan: Pendaftaran\n" * 4


def mails(count: int) -> list[tuple[IntegrationEvent, OutgoingMail]]:
    made = []
    for _ in range(count):
        event_id = str(uuid.uuid4())
        event = IntegrationEvent.replayed(
            event_id=event_id, event_type="case.submitted.v1", source="submissions", aggregate_id=event_id,
            aggregate_version=1, occurred_at=dt.datetime.now(dt.UTC), data={},
        )  # fmt: skip
        mail = OutgoingMail(f"<{event_id}@satu-ormas>", "sekretaris@ormas.or.id", "SKM-2026-000123: Diterima", BODY)
        made.append((event, mail))
    return made


def cpu_ms_per_mail(count: int, work: Callable[[int], object]) -> tuple[float, float]:
    """(CPU ms, wall ms) per mail of ``work`` run for each mail."""
    cpu, wall = time.process_time(), time.perf_counter()
    for index in range(count):
        work(index)
    return (time.process_time() - cpu) / count * 1000, (time.perf_counter() - wall) / count * 1000


def outbox_run(settings: Settings, count: int) -> tuple[float, float]:
    outbox = MailOutbox(ReadModelProvider("notifications.outbox").build(settings))
    mailer = FileMailer(settings.var_dir / "outbox-mail", SENDER)
    batch = mails(count)

    def one(index: int) -> None:
        event, mail = batch[index]
        if outbox.record(event, mail):
            outbox.send(mailer, event.event_id, mail)

    try:
        return cpu_ms_per_mail(count, one)
    finally:
        outbox.read_model.close()


def raw_run(settings: Settings, count: int) -> tuple[float, float]:
    """The outbox's tables (made by the outbox run) written with the driver alone, and the files with ``os``."""
    batch = mails(count)
    data = build_message(batch[0][1], SENDER).as_bytes()
    directory = settings.var_dir / "raw-mail"
    directory.mkdir()
    # Autocommit, with the transaction spelt out: the record in one, the outcome a statement of its own.
    if settings.uses_postgres:
        connection: Any = psycopg.connect(settings.database_url, autocommit=True, options="-csearch_path=notifications")
        mark = "%s"
    else:
        connection = sqlite3.connect(settings.var_dir / "notifications.sqlite", isolation_level=None)
        mark = "?"
    record_event = f"INSERT INTO processed_events (event_id, event_type, applied_at) VALUES ({mark}, {mark}, {mark})"
    record_mail = (
        "INSERT INTO mail_outbox (event_id, message_id, recipient, subject, body, created_at, claimed_at, attempts) "
        f"VALUES ({', '.join([mark] * 8)})"
    )
    outcome = f"UPDATE mail_outbox SET sent_at = {mark}, claimed_at = NULL WHERE event_id = {mark}"

    def one(index: int) -> None:
        event, mail = batch[index]
        now = dt.datetime.now(dt.UTC)
        connection.execute("BEGIN")
        connection.execute(record_event, (event.event_id, event.event_type, now))
        connection.execute(
            record_mail, (event.event_id, mail.message_id, mail.to, mail.subject, mail.body, now, now, 1)
        )
        connection.execute("COMMIT")
        descriptor = os.open(directory / f"{event.event_id}.eml", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(descriptor, data)
        os.fsync(descriptor)
        os.close(descriptor)
        connection.execute(outcome, (dt.datetime.now(dt.UTC), event.event_id))

    try:
        return cpu_ms_per_mail(count, one)
    finally:
        connection.close()


def measure(backend: str, count: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory(prefix="satu-bench-mail-") as scratch:
        if backend == "sqlite":
            settings = Settings(env="test", var_dir=Path(scratch))
            return {"outbox": outbox_run(settings, count), "raw": raw_run(settings, count)}
        with scratch_database("satu_bench_mail") as url:
            settings = Settings(env="test", var_dir=Path(scratch), database_url=url)
            return {"outbox": outbox_run(settings, count), "raw": raw_run(settings, count)}


def lines(results: dict[str, dict[str, tuple[float, float]]], count: int) -> list[str]:
    out = [
        "## (i) A mail's own work in the notifications service",
        "",
        f"{count} mails, each recorded with its event, written as an .eml (fsynced) and marked sent, through the "
        "outbox and with the driver alone (bench/mail.py). CPU is this process's.",
        "",
        "| backend | outbox CPU ms / mail | raw CPU ms / mail | raw / outbox (CPU) | outbox wall ms | raw wall ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for backend, runs in results.items():
        (outbox_cpu, outbox_wall), (raw_cpu, raw_wall) = runs["outbox"], runs["raw"]
        out.append(
            f"| {backend} | {outbox_cpu:.2f} | {raw_cpu:.2f} | {raw_cpu / outbox_cpu:.2f} | {outbox_wall:.2f} "
            f"| {raw_wall:.2f} |"
        )
    return [*out, ""]


def section(count: int = 500, backends: tuple[str, ...] = ("sqlite", "postgres")) -> list[str]:
    print("(i) a mail's own work …", flush=True)
    return lines({backend: measure(backend, count) for backend in backends}, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=500)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    print("\n".join(section(args.mails, tuple(args.backends.split(",")))))


if __name__ == "__main__":
    main()
