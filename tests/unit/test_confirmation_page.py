"""The page the confirmation mail links to: opening it confirms nothing (a mail scanner may open links);
the person's press of its button does, once; a foreign site cannot press it."""

from __future__ import annotations

from uuid import UUID

from fastapi.testclient import TestClient

from services.registry.verification import make_token
from tests.support.in_process import Cluster

PASSWORD = "kata-sandi-panjang"


def mailed_token(client: TestClient, cluster: Cluster, email: str) -> str:
    client.post("/api/accounts", json={"email": email, "password": PASSWORD, "full_name": "Dewi Baru"})
    account_id = client.post("/api/session", json={"email": email, "password": PASSWORD}).json()["account"]["id"]
    account = cluster.application("registry").repository.get(UUID(account_id))
    return make_token(cluster.signer("registry"), account_id, account.verification_nonce)  # type: ignore[attr-defined]


def press(client: TestClient, token: str, origin: str = "http://testserver") -> object:
    page = client.get(f"/verify-email?token={token}")
    form = {"token": token, "csrf_token": client.cookies.get("satu_csrf")}
    return page, client.post("/verify-email", data=form, headers={"Origin": origin})


def test_opening_the_link_confirms_nothing_pressing_the_button_confirms_once(client, cluster) -> None:
    token = mailed_token(client, cluster, "dewi@ormas.or.id")
    page = client.get(f"/verify-email?token={token}")
    assert page.status_code == 200 and "Konfirmasi alamat e-mail" in page.text and 'name="token"' in page.text
    again = client.get(f"/verify-email?token={token}")  # opened twice (a preview, then the person)
    assert again.status_code == 200
    _page, confirmed = press(client, token)
    assert confirmed.status_code == 200 and "dewi@ormas.or.id sudah dikonfirmasi" in confirmed.text  # type: ignore[attr-defined]
    _page, reused = press(client, token)
    assert reused.status_code == 409 and "sudah dikonfirmasi; silakan masuk" in reused.text  # type: ignore[attr-defined]


def test_a_foreign_site_cannot_press_the_button(client, cluster) -> None:
    token = mailed_token(client, cluster, "dewi@ormas.or.id")
    _page, refused = press(client, token, origin="https://evil.example")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    _page, confirmed = press(client, token)
    assert confirmed.status_code == 200  # type: ignore[attr-defined]


def test_a_broken_link_says_so_in_bahasa(client) -> None:
    _page, refused = press(client, "bukan.token.asli")
    assert refused.status_code == 422 and "tidak berlaku atau sudah kedaluwarsa" in refused.text  # type: ignore[attr-defined]
