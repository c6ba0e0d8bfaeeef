"""Signing in and staying signed in: the token works as a bearer header and as a cookie."""

from __future__ import annotations

import base64
import json
import time

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from contracts.identity import Caller, Role
from gateway.auth import COOKIE_NAME, issue_token
from tests.support.factories import organisation_payload
from tests.support.gateway_client import InProcessRpc, make_app, make_settings, sign_in
from tests.support.in_process import Cluster
from tests.support.office import PASSWORD, enrol


def _unauthenticated(response) -> None:
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response.headers["www-authenticate"] == "Bearer"


def test_sign_up_then_sign_in_returns_token_account_and_httponly_cookie(client: TestClient) -> None:
    created = client.post(
        "/api/accounts", json={"email": "siti@ormas.or.id", "password": PASSWORD, "full_name": "Siti Aminah"}
    )
    assert created.status_code == 202
    assert created.json() == {"email": "siti@ormas.or.id", "status": "confirmation_sent"}

    response = client.post("/api/session", json={"email": "siti@ormas.or.id", "password": PASSWORD})

    assert response.status_code == 200
    assert response.json()["account"]["email"] == "siti@ormas.or.id"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}={response.json()['token']}")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_sign_up_answers_the_same_whether_or_not_the_address_has_an_account(
    client: TestClient, cluster: Cluster
) -> None:
    enrol(cluster, "siti@ormas.or.id", organisation="Perkumpulan Warga")
    body = {"password": "kata-sandi-lain-9", "full_name": "Orang Lain"}
    taken = client.post("/api/accounts", json={"email": "SITI@ormas.or.id", **body})
    free = client.post("/api/accounts", json={"email": "baru@ormas.or.id", **body})
    assert taken.status_code == free.status_code == 202
    assert set(taken.json()) == set(free.json()) and taken.json()["status"] == free.json()["status"]
    signed_in = client.post("/api/session", json={"email": "siti@ormas.or.id", "password": "kata-sandi-lain-9"})
    assert signed_in.status_code == 401  # the account was not touched


def test_an_unconfirmed_account_signs_in_but_cannot_record_an_organisation(client: TestClient) -> None:
    client.post("/api/accounts", json={"email": "baru@ormas.or.id", "password": PASSWORD, "full_name": "Baru Saja"})
    token = client.post("/api/session", json={"email": "baru@ormas.or.id", "password": PASSWORD}).json()["token"]
    refused = client.post(
        "/api/organisations", headers={"Authorization": f"Bearer {token}"}, json=organisation_payload()
    )
    assert refused.status_code == 403 and refused.json()["error"]["field"] == "email"
    assert "Konfirmasikan alamat e-mail Anda" in refused.json()["error"]["message_id"]


def test_sign_ins_from_one_address_beyond_the_limit_are_429(client: TestClient, cluster: Cluster) -> None:
    enrol(cluster, "siti@ormas.or.id")
    answers = [
        client.post("/api/session", json={"email": "siti@ormas.or.id", "password": "salah-sandi-x"}).status_code
        for _ in range(11)
    ]
    assert answers[:10] == [401] * 10 and answers[10] == 429  # 10 per e-mail address per 10 minutes


def test_wrong_password_is_401_without_token(client: TestClient, cluster: Cluster) -> None:
    enrol(cluster, "siti@ormas.or.id")

    response = client.post("/api/session", json={"email": "siti@ormas.or.id", "password": "salah-sandi-x"})

    _unauthenticated(response)
    assert "set-cookie" not in response.headers


def test_token_works_as_bearer_header(client: TestClient, cluster: Cluster) -> None:
    headers = sign_in(client, cluster, "siti@ormas.or.id")
    client.cookies.clear()

    response = client.get("/api/me", headers=headers)

    assert response.status_code == 200
    assert response.json()["email"] == "siti@ormas.or.id"


def test_token_works_as_session_cookie(client: TestClient, cluster: Cluster) -> None:
    sign_in(client, cluster, "siti@ormas.or.id")  # the client keeps the cookie

    assert client.get("/api/me").json()["email"] == "siti@ormas.or.id"


def test_sign_out_clears_the_cookie(client: TestClient, cluster: Cluster) -> None:
    sign_in(client, cluster, "siti@ormas.or.id")

    assert client.delete("/api/session").status_code == 204
    _unauthenticated(client.get("/api/me"))


def test_missing_token_is_401(client: TestClient) -> None:
    _unauthenticated(client.get("/api/me"))
    _unauthenticated(client.get("/api/cases"))


@pytest.mark.parametrize(
    "token",
    [
        URLSafeTimedSerializer("someone-elses-secret", salt="satu-session").dumps(
            {"user_id": "u1", "role": "admin", "organisation_id": None}
        ),
        "not-a-token",
    ],
    ids=["forged", "garbage"],
)
def test_forged_or_garbage_token_is_401(client: TestClient, token: str) -> None:
    _unauthenticated(client.get("/api/me", headers={"Authorization": f"Bearer {token}"}))
    client.cookies.set(COOKIE_NAME, token)
    _unauthenticated(client.get("/api/me"))


def test_token_with_a_rewritten_role_is_401(client: TestClient, cluster: Cluster) -> None:
    token = sign_in(client, cluster, "siti@ormas.or.id")["Authorization"].removeprefix("Bearer ")
    _payload, timestamp, signature = token.rsplit(".", 2)
    admin = json.dumps({"user_id": "u1", "role": "admin", "organisation_id": None}).encode()
    forged = f"{base64.urlsafe_b64encode(admin).rstrip(b'=').decode()}.{timestamp}.{signature}"

    _unauthenticated(client.get("/api/me", headers={"Authorization": f"Bearer {forged}"}))


def test_token_claiming_the_system_role_is_401(tmp_path, client: TestClient) -> None:
    token = issue_token(make_settings(tmp_path), Caller(user_id="service:x", role=Role.SYSTEM))

    _unauthenticated(client.get("/api/me", headers={"Authorization": f"Bearer {token}"}))


def test_expired_token_is_401_saying_so(tmp_path, client: TestClient, monkeypatch) -> None:
    settings = make_settings(tmp_path)
    signed_at = int(time.time()) - settings.token_ttl_seconds - 60
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at)
        token = issue_token(settings, Caller(user_id="u1", role=Role.APPLICANT))

    response = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})

    _unauthenticated(response)
    assert "expired" in response.json()["error"]["message"]


def test_recording_an_organisation_returns_a_token_carrying_it(client: TestClient, cluster: Cluster) -> None:
    headers = sign_in(client, cluster, "siti@ormas.or.id")
    board = [
        {
            "position": position,
            "name": f"Pengurus {position}",
            "nik": "6471000000000001",
            "phone": "081234567890",
            "term_start": "2024-01-01",
            "term_end": "2028-12-31",
        }
        for position in ("ketua", "sekretaris", "bendahara")
    ]
    profile = {
        "name": "Perkumpulan Warga Gunung Sari",
        "legal_form": "badan_hukum_perkumpulan",
        "legal_number": "AHU-0012345",
        "founded_on": "2020-01-15",
        "field_of_activity": "Sosial",
        "address": {
            "street": "Jl. Gunung Sari 1",
            "kecamatan": "Balikpapan Tengah",
            "kelurahan": "Gunung Sari Ilir",
        },
        "npwp": "01.234.567.8-901.000",
        "phone": "0542123456",
        "email": "info@pwgs.or.id",
        "board": board,
    }

    created = client.post("/api/organisations", json=profile, headers=headers)

    assert created.status_code == 201
    organisation_id = created.json()["organisation"]["id"]
    new_headers = {"Authorization": f"Bearer {created.json()['token']}"}
    assert client.get(f"/api/organisations/{organisation_id}", headers=new_headers).status_code == 200
    # The old token does not carry the organisation, so the registry refuses it.
    assert client.get(f"/api/organisations/{organisation_id}", headers=headers).status_code == 403


def test_organisation_with_bad_nik_is_422_naming_the_field(client: TestClient, cluster: Cluster) -> None:
    headers = sign_in(client, cluster, "siti@ormas.or.id")

    response = client.post(
        "/api/organisations",
        headers=headers,
        json={
            "name": "Ormas",
            "legal_form": "badan_hukum_perkumpulan",
            "legal_number": "AHU-1",
            "founded_on": "2020-01-15",
            "field_of_activity": "Sosial",
            "address": {"street": "Jl. A 1", "kecamatan": "Kota", "kelurahan": "Klandasan"},
            "npwp": "01.234.567.8-901.000",
            "phone": "0542123456",
            "email": "info@ormas.or.id",
            "board": [
                {
                    "position": "ketua",
                    "name": "Ahmad",
                    "nik": "12345",
                    "phone": "081234567890",
                    "term_start": "2024-01-01",
                    "term_end": "2028-12-31",
                }
            ]
            * 3,
        },
    )

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "board.0.nik"
    assert "12345" not in response.text  # the rejected value is not echoed back


def test_staff_creation_is_refused_for_applicants_by_the_service(client: TestClient, cluster: Cluster) -> None:
    headers = sign_in(client, cluster, "siti@ormas.or.id")
    payload = {"email": "v@kesbangpol.go.id", "password": PASSWORD, "full_name": "Budi", "role": "verifier"}

    assert client.post("/api/staff", json=payload, headers=headers).status_code == 403
    admin = sign_in(client, cluster, "admin@kesbangpol.go.id", role="admin")
    assert client.post("/api/staff", json=payload, headers=admin).status_code == 201


def test_app_shutdown_closes_the_rpc_clients(tmp_path, cluster: Cluster) -> None:
    rpc = InProcessRpc(cluster)
    with TestClient(make_app(tmp_path, rpc)):
        assert not rpc.closed
    assert rpc.closed
