"""A page on another site cannot act with an officer's session cookie (issue 14, point 5): a cookie-only
state change from a foreign origin, or without the request header a foreign page cannot send, is 403
and reaches no service; bearer-token clients are not affected."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.factories import pdf_bytes
from tests.support.gateway_client import file_case, record_field_visit, sign_in
from tests.support.in_process import Cluster


def test_a_foreign_page_cannot_forward_a_case_with_the_officers_cookie(client: TestClient, cluster: Cluster) -> None:
    applicant = sign_in(client, cluster, "siti@ormas.or.id", organisation="Perkumpulan Uji")
    case_id = file_case(client, applicant)["id"]
    verifier = sign_in(client, cluster, "v@kesbangpol.go.id", role="verifier")  # its cookie is now in the jar
    record_field_visit(client, verifier, case_id)  # what the definition asks before forwarding
    calls = len(cluster.calls)
    path = f"/api/cases/{case_id}/forward"

    foreign = client.post(path, headers={"Origin": "https://evil.example", "X-Satu-Request": "1"})
    no_header = client.post(path, headers={"Origin": "http://testserver"})
    assert foreign.status_code == no_header.status_code == 403
    assert foreign.json()["error"]["code"] == "cross_site_refused"
    assert len(cluster.calls) == calls  # nothing reached the service

    ours = client.post(path, headers={"Origin": "http://testserver", "X-Satu-Request": "1"})
    assert ours.status_code == 200  # this site's own page, with the header


def test_bearer_clients_and_reads_are_not_affected(client: TestClient, cluster: Cluster) -> None:
    token = sign_in(client, cluster, "siti@ormas.or.id", organisation="Perkumpulan Uji")
    assert client.get("/api/me", headers={"Origin": "https://elsewhere.example"}).status_code == 200  # a read
    client.cookies.clear()
    upload = client.post("/api/files", headers=token, files={"file": ("a.pdf", pdf_bytes(), "application/pdf")})
    assert upload.status_code == 201  # a token, no cookie: an integrator, not a browser
