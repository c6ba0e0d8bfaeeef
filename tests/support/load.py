"""Applicants filing through the gateway while a test breaks things, and what came of it (test support;
no tests here). Clients send no Idempotency-Key: the gateway's own command id per request is what must keep
a command from acting twice."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import sqlalchemy as sa

from infra.settings import Settings
from infra.storage import read_model_engine
from ops.sources import open_source
from tests.support.factories import pdf_bytes

# Uploads are rate limited per account; a load test files as fast as it can, and a call the broker lost is
# given up after 5 s rather than 30.
LOAD_ENV = {
    "SATU_UPLOAD_HITS_PER_ACCOUNT": "1000000000",
    "SATU_UPLOAD_HITS_PER_ADDRESS": "1000000000",
    "SATU_RPC_TIMEOUT_SECONDS": "5",
}


@dataclass
class Outcomes:
    sent: int = 0  # filings sent (each a new command)
    acknowledged: list[str] = field(default_factory=list)  # case ids answered 201
    unanswered: Counter[str] = field(default_factory=Counter)  # status or error -> how many


def file_once(client: httpx.Client, outcomes: Outcomes) -> bool:
    """Upload a PDF and file an SKM case with it; True when the filing was acknowledged."""
    try:
        upload = client.post("/api/files", files={"file": ("surat.pdf", pdf_bytes(), "application/pdf")})
        if upload.status_code != 201:
            outcomes.unanswered[f"upload {upload.status_code}"] += 1
            return False
        attachments = [{"file_id": upload.json()["file_id"], "kind": "cover_letter"}]
        outcomes.sent += 1
        filed = client.post("/api/cases", json={"service": "skm", "attachments": attachments})
    except httpx.HTTPError as error:
        outcomes.unanswered[type(error).__name__] += 1
        return False
    if filed.status_code != 201:
        outcomes.unanswered[str(filed.status_code)] += 1
        return False
    outcomes.acknowledged.append(filed.json()["id"])
    return True


def keep_filing(
    base: str, token: str, outcomes: Outcomes, stop: threading.Event, pause: float = 0.0
) -> threading.Thread:
    """An applicant filing one case after another until ``stop``, in the background."""

    def work() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=20) as client:
            while not stop.is_set():
                if not file_once(client, outcomes):
                    time.sleep(0.2)  # refused or unanswered: the system is down, do not spin
                time.sleep(pause)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def filed_case_ids(settings: Settings) -> list[str]:
    """The id of every case the submissions store opened, once per opening event."""
    source = open_source("submissions", settings)
    try:
        return [
            event.aggregate_id for _, event in source.integration_events() if event.event_type == "case.submitted.v1"
        ]
    finally:
        source.close()


def check_each_command_applied_at_most_once(settings: Settings, outcomes: Outcomes, probes: int = 0) -> list[str]:
    """No case opened twice, nothing acknowledged lost, never more cases than filings sent; the case ids."""
    filed = filed_case_ids(settings)
    assert not filed or max(Counter(filed).values()) == 1, "a case was opened twice"
    assert set(outcomes.acknowledged) <= set(filed), "an acknowledged filing was lost"
    assert len(filed) <= outcomes.sent + probes, f"{len(filed)} cases from {outcomes.sent + probes} filings"
    return filed


def read_model_count(settings: Settings, service: str, query: str) -> int:
    """The number ``query`` (a SELECT count(*)) finds in ``service``'s read-model database."""
    engine = read_model_engine(settings, service)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text(query)).scalar() or 0)
    finally:
        engine.dispose()
