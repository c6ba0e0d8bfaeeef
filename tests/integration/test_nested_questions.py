"""A service's own question to another (submissions and notifications ask the registry) waits at most half the
RPC timeout. A registry that stops answering costs the requests that needed it a 503 each, and does not take
the asking service's workers with it: before, each question waited for ever, and as many of them as the service
has workers left it unable to take anything else, filings included. Real processes, SQLite stores."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from ops.seed import APPLICANT
from tests.support.system import eventually
from tests.support.world import World, running_world, upload

TIMEOUT_SECONDS = 6  # the gateway's wait for an answer; a service's question to another waits half of it
WORKERS = 3  # per service process
ENV = {"SATU_RPC_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS), "SATU_MAX_WORKERS": str(WORKERS)}


def _filing(client: httpx.Client) -> httpx.Response:
    attachment = {"file_id": upload(client), "kind": "cover_letter"}
    return client.post("/api/cases", json={"service": "skm", "attachments": [attachment]})


def _organisation_copied(world: World) -> bool:
    """submissions' own copy of the demo organisation has arrived: a filing then asks the registry nothing."""
    with sqlite3.connect(world.system.env["SATU_VAR_DIR"] + "/submissions.sqlite") as database:
        return bool(database.execute("SELECT count(*) FROM organisations").fetchone()[0])


def test_a_registry_that_stops_answering_does_not_stop_filings(request, amqp_uri, tmp_path) -> None:
    with running_world(request, "sqlite", amqp_uri, tmp_path, env=ENV) as world:
        applicant = world.sign_in(APPLICANT[0])
        verifier = world.client(world.staff["verifier"])
        case_id = _filing(applicant).json()["id"]
        eventually(lambda: _organisation_copied(world))
        registry = world.system.processes["registry"]
        os.kill(registry.pid, signal.SIGSTOP)  # up, connected, and answering nothing
        try:
            with ThreadPoolExecutor(WORKERS) as clients:
                # Taking a case asks the registry who the taker is: each of these holds a worker of submissions.
                takes = [
                    clients.submit(verifier.post, f"/api/cases/{case_id}/actions/take", json={}) for _ in range(WORKERS)
                ]
                time.sleep(1.0)  # all of them asked
                started = time.monotonic()
                filed = _filing(applicant)  # needs no registry; before, it waited for a free worker in vain
                waited = time.monotonic() - started
                taken = [take.result() for take in takes]
        finally:
            os.kill(registry.pid, signal.SIGCONT)

        assert filed.status_code == 201, filed.text
        assert waited < TIMEOUT_SECONDS
        assert [response.status_code for response in taken] == [503] * WORKERS
        assert {response.json()["error"]["code"] for response in taken} == {"service_unavailable"}
        # The registry answers again, and the step it was needed for goes through when asked again.
        retried = verifier.post(f"/api/cases/{case_id}/actions/take", json={})
        assert retried.status_code == 200, retried.text
