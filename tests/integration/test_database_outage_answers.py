"""Requests the services cannot serve while their database is away are answered 503 ("retry"), within
seconds, never 502 or a half-minute wait; each service says so once for the whole outage, not once per
request; and the same filing retried once the database is back is filed once (real processes, real
PostgreSQL behind a forwarder that the test closes, as a database restart or a network fault does)."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from infra.settings import Settings
from ops.seed import APPLICANT, seed
from tests.support.factories import pdf_bytes
from tests.support.system import eventually, free_port, running_system
from tests.support.tls import Forwarder

POSTGRES = ("127.0.0.1", 5432)
FILING_OUTAGE = "the database of submissions is unreachable"


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_requests_while_the_database_is_away_are_answered_503_and_the_outage_said_once(
    settings: Settings, amqp_uri: str
) -> None:
    port = free_port()
    forwarder = Forwarder(target=POSTGRES, port=port)
    through = Settings(
        env="test",
        var_dir=settings.var_dir,
        database_url=settings.database_url.replace("127.0.0.1:5432", f"127.0.0.1:{port}"),
        amqp_uri=amqp_uri,
    )
    try:
        _requests_while_the_database_is_away(through, amqp_uri, port, forwarder)
    finally:
        forwarder.close()


def _requests_while_the_database_is_away(through: Settings, amqp_uri: str, port: int, forwarder: Forwarder) -> None:
    with running_system(through, amqp_uri, relays=False) as system:
        passwords = seed(through)
        base = f"http://127.0.0.1:{system.port}"
        token = httpx.post(
            f"{base}/api/session", json={"email": APPLICANT[0], "password": passwords[APPLICANT[0]]}
        ).json()["token"]
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as applicant:
            upload = applicant.post("/api/files", files={"file": ("akta.pdf", pdf_bytes(), "application/pdf")})
            assert upload.status_code == 201, upload.text
            filing = {"service": "skm", "attachments": [{"file_id": upload.json()["file_id"], "kind": "deed"}]}
            key = {"Idempotency-Key": str(uuid.uuid4())}

            forwarder.close()  # the database goes away: every connection dropped, none taken
            for _ in range(3):
                started = time.monotonic()
                refused = applicant.post("/api/cases", json=filing, headers=key)
                assert refused.status_code == 503, refused.text
                assert refused.json()["error"]["code"] == "service_unavailable"
                assert time.monotonic() - started < 15  # said, not left to the gateway's 30 s wait
            listed = applicant.get("/api/cases")
            assert listed.status_code == 503, listed.text
            started = time.monotonic()
            me = applicant.get("/api/me")  # the registry's event store, whose library tries each call 10 times
            assert me.status_code == 503 and time.monotonic() - started < 25, me.text  # before the gateway's 30 s
            assert me.json()["error"]["code"] == "service_unavailable"

            back = Forwarder(target=POSTGRES, port=port)  # and is back
            try:
                filed = eventually(lambda: _filed(applicant, filing, key), timeout=30)
                again = applicant.post("/api/cases", json=filing, headers=key)
                assert again.status_code in (200, 201) and again.json()["id"] == filed["id"]  # filed once
            finally:
                back.close()

        log = (system.log_dir / "submissions.log").read_text()
        assert log.count(FILING_OUTAGE) == 1, log
        assert "the database of submissions answers again" in log, log
        assert "error handling worker" not in log, log  # no line per request
        assert (system.log_dir / "registry.log").read_text().count("the database of registry is unreachable") == 1
        gateway_log = (system.log_dir / "gateway.log").read_text()
        assert "service raised" not in gateway_log, gateway_log  # taken for unavailable, not for a failure


def _filed(applicant: httpx.Client, filing: dict[str, object], key: dict[str, str]) -> dict[str, object] | None:
    response = applicant.post("/api/cases", json=filing, headers=key)
    if response.status_code == 503:
        return None
    assert response.status_code == 201, response.text
    return dict(response.json())
