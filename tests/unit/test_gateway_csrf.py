"""A page on another site cannot act with an officer's session cookie (issue 14, point 5): a cookie-only
state change from a foreign origin, or without the request header a foreign page cannot send, is 403
and reaches no service; bearer-token clients are not affected."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.gateway_fakes import FakeRpc, sign_in


def test_a_foreign_page_cannot_forward_a_case_with_the_officers_cookie(client: TestClient, rpc: FakeRpc) -> None:
    applicant = sign_in(client, rpc, "siti@ormas.or.id", organisation_id="org-siti")
    upload = client.post("/api/files", headers=applicant, files={"file": ("a.pdf", _pdf(), "application/pdf")})
    filed = client.post(
        "/api/cases", headers=applicant, json={"attachments": [{"file_id": upload.json()["file_id"], "kind": "deed"}]}
    )
    sign_in(client, rpc, "v@kesbangpol.go.id", role="verifier")  # the verifier's cookie is now in the jar
    calls = len(rpc.submissions.calls)
    path = f"/api/cases/{filed.json()['id']}/forward"

    foreign = client.post(path, headers={"Origin": "https://evil.example", "X-Satu-Request": "1"})
    no_header = client.post(path, headers={"Origin": "http://testserver"})
    assert foreign.status_code == no_header.status_code == 403
    assert foreign.json()["error"]["code"] == "cross_site_refused"
    assert len(rpc.submissions.calls) == calls  # nothing reached the service

    ours = client.post(path, headers={"Origin": "http://testserver", "X-Satu-Request": "1"})
    assert ours.status_code == 200  # this site's own page, with the header


def test_bearer_clients_and_reads_are_not_affected(client: TestClient, rpc: FakeRpc) -> None:
    token = sign_in(client, rpc, "siti@ormas.or.id", organisation_id="org-siti")
    assert client.get("/api/me", headers={"Origin": "https://elsewhere.example"}).status_code == 200  # a read
    client.cookies.clear()
    upload = client.post("/api/files", headers=token, files={"file": ("a.pdf", _pdf(), "application/pdf")})
    assert upload.status_code == 201  # a token, no cookie: an integrator, not a browser


def _pdf() -> bytes:
    from tests.support.gateway_fakes import make_pdf

    return make_pdf()
