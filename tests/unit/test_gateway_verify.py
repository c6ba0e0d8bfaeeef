"""Public verification: the page a phone opens from the QR code on a letter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support.gateway_fakes import FakeRpc, make_app

LETTER = {
    "genuine": True,
    "status": "valid",
    "number": "500.1/0007/KESBANGPOL/2026",
    "title": "SURAT KETERANGAN MELAPOR",
    "organisation_name": "Perkumpulan <Warga> & Pemuda",
    "issued_on": "2026-03-12",
    "issuer": "Badan Kesatuan Bangsa dan Politik Kota Balikpapan",
}


@pytest.fixture
def client(tmp_path) -> Iterator[TestClient]:
    rpc = FakeRpc()
    rpc.documents.verifications["K7Q2M9XA"] = LETTER
    rpc.documents.verifications["REVOKED1"] = {**LETTER, "genuine": False, "status": "revoked"}
    with TestClient(make_app(tmp_path, rpc)) as client:
        yield client


def test_the_page_says_the_letter_is_genuine_with_its_details(client) -> None:
    response = client.get("/verify/K7Q2M9XA")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "Surat ini asli" in page
    assert "500.1/0007/KESBANGPOL/2026" in page
    assert "SURAT KETERANGAN MELAPOR" in page
    assert "12 Maret 2026" in page
    assert "Berlaku" in page


def test_organisation_names_are_escaped_not_interpreted(client) -> None:
    page = client.get("/verify/K7Q2M9XA").text

    assert "Perkumpulan &lt;Warga&gt; &amp; Pemuda" in page
    assert "<Warga>" not in page


def test_a_revoked_letter_is_not_shown_as_valid(client) -> None:
    page = client.get("/verify/REVOKED1").text

    assert "tidak berlaku lagi" in page
    assert "Dicabut" in page


def test_an_unknown_code_gets_a_404_page_in_indonesian(client) -> None:
    response = client.get("/verify/<img src=x onerror=alert(1)>")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "tidak ditemukan" in response.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in response.text
    assert "<img" not in response.text


def test_verification_json_is_public(client) -> None:
    response = client.get("/api/verify/K7Q2M9XA")

    assert response.status_code == 200
    assert response.json()["number"] == LETTER["number"]
    assert client.get("/api/verify/NOPE").status_code == 404
