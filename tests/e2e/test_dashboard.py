"""The managers' dashboard on the running system: the submissions service's own timer counts the cases
(under eventlet, on SQLite and PostgreSQL), and staff see a filing appear in the figures over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.system import eventually
from tests.support.world import World, running_world, sign_up_with_organisation, upload


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest, amqp_uri: str, tmp_path) -> Iterator[World]:  # type: ignore[no-untyped-def]
    env = {"SATU_DASHBOARD_REFRESH_SECONDS": "0.5"}
    with running_world(request, request.param, amqp_uri, tmp_path, env=env) as world:
        yield world


def test_a_filing_appears_in_the_dashboard_at_the_next_count(world: World) -> None:
    applicant = world.client(sign_up_with_organisation(world, "ketua@karang-taruna.or.id", "Karang Taruna Sepinggan"))
    auditor = world.client(world.staff["auditor"])
    counted_at_start = auditor.get("/api/dashboard").json()["as_of"]

    filed = applicant.post(
        "/api/cases", json={"service": "skm", "attachments": [{"file_id": upload(applicant), "kind": "cover_letter"}]}
    )
    assert filed.status_code == 201, filed.text

    def skm() -> dict:
        answer = auditor.get("/api/dashboard").json()
        return next(service for service in answer["services"] if service["service"] == "skm")

    eventually(lambda: skm()["cases"] == 1)
    assert counted_at_start is not None  # the first count ran as the service started
    assert (skm()["queues"]["verifier"], skm()["open"]) == (1, 1)
    assert applicant.get("/api/dashboard").status_code == 403
