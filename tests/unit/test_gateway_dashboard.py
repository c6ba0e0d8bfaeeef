"""GET /api/dashboard through the gateway on the real services: staff see the figures counted by the
submissions service's timer, an applicant is refused, and the document describes the operation."""

from __future__ import annotations

from tests.support.gateway_client import file_case, forward


def test_staff_see_the_cases_counted_with_the_words_of_the_definitions(client, cluster, siti, verifier) -> None:
    forward(client, verifier, file_case(client, siti)["id"])
    file_case(client, siti)
    cluster.worker("submissions").refresh_dashboard()  # one tick of the service's timer

    response = client.get("/api/dashboard", headers=verifier)

    assert response.status_code == 200, response.text
    skm = next(service for service in response.json()["services"] if service["service"] == "skm")
    assert (skm["label"], skm["cases"], skm["open"], skm["queues"]) == (
        "Surat Keterangan Melapor",
        2,
        2,
        {"verifier": 1, "approver": 1},
    )
    assert {"status": "forwarded", "label": "Diteruskan ke kepala bidang", "cases": 1} in skm["by_status"]
    assert response.json()["as_of"] is not None


def test_an_applicant_is_refused_the_dashboard(client, siti) -> None:
    response = client.get("/api/dashboard", headers=siti)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    client.cookies.clear()  # signed out
    assert client.get("/api/dashboard").status_code == 401


def test_the_document_shows_the_dashboard_and_its_refusals(client) -> None:
    spec = client.get("/openapi.json").json()

    operation = spec["paths"]["/api/dashboard"]["get"]
    assert {"200", "401", "403", "503"} <= set(operation["responses"])
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/Dashboard"}
    assert {"as_of", "refresh_seconds", "services"} <= set(spec["components"]["schemas"]["Dashboard"]["properties"])
