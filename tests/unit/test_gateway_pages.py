"""The pages a secretary opens from a status e-mail: the sign-in form, the case page, signing out; on
the real services, with cases moved by the real officers' steps."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from contracts.errors import PermissionDenied
from gateway.auth import COOKIE_NAME
from gateway.pages import local_time
from infra.dates import indonesian_date
from tests.support.factories import attachment, pdf_bytes
from tests.support.gateway_client import upload
from tests.support.in_process import Cluster
from tests.support.office import PASSWORD, approve, enrol, file_case, signed
from tests.support.scenario import FIELD_VISIT

EMAIL = "sekretaris@ormas.or.id"
ORGANISATION = "Perkumpulan Pemuda Manggar"


@pytest.fixture
def secretary(cluster: Cluster) -> dict[str, Any]:
    return enrol(cluster, EMAIL, organisation=ORGANISATION)


@pytest.fixture
def officers(cluster: Cluster) -> dict[str, dict[str, Any]]:
    return {role: enrol(cluster, f"{role}@kesbangpol.go.id", role=role) for role in ("verifier", "approver")}


@pytest.fixture
def case(cluster: Cluster, secretary: dict[str, Any]) -> dict[str, Any]:
    """A case the secretary's organisation filed."""
    return file_case(cluster, secretary)


def _step(cluster: Cluster, officer: dict[str, Any], case_id: str, action: str, **payload: Any) -> dict[str, Any]:
    return dict(cluster["submissions"].act(signed(cluster, officer), case_id, action, payload))


def _wita(moment: str) -> str:
    """How a person in Balikpapan reads the UTC moment ``moment``."""
    local = dt.datetime.fromisoformat(moment).astimezone(ZoneInfo("Asia/Makassar"))
    return f"{indonesian_date(local.date())} {local:%H:%M} WITA"


SAME_SITE = {"Origin": "http://testserver"}  # what a browser sends with a form posted from this site


def form_token(client: TestClient) -> str:
    """The CSRF token of the sign-in page (its cookie half stays in the client's jar)."""
    page = client.get("/login").text
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def sign_in_with_form(client: TestClient, next_path: str = "/", password: str = PASSWORD):
    form = {"email": EMAIL, "password": password, "next": next_path, "csrf_token": form_token(client)}
    return client.post("/login", data=form, headers=SAME_SITE, follow_redirects=False)


def test_the_case_link_without_a_session_leads_to_the_sign_in_form(client, case) -> None:
    response = client.get(f"/cases/{case['id']}", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/cases/{case['id']}"
    form = client.get(response.headers["location"])
    assert form.status_code == 200 and form.headers["content-type"].startswith("text/html")
    assert '<html lang="id">' in form.text
    assert f'name="next" value="/cases/{case["id"]}"' in form.text
    assert '<label for="email">' in form.text and '<label for="password">' in form.text


@pytest.mark.parametrize("cookie", ["forged.token.value", ""])
def test_a_forged_session_also_leads_to_the_sign_in_form(client, case, cookie) -> None:
    client.cookies.set(COOKIE_NAME, cookie)

    response = client.get(f"/cases/{case['id']}", follow_redirects=False)

    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=/cases/")


def test_signing_in_through_the_form_goes_back_to_the_case(client, case) -> None:
    response = sign_in_with_form(client, f"/cases/{case['id']}")

    assert response.status_code == 303
    assert response.headers["location"] == f"/cases/{case['id']}"
    assert response.headers["set-cookie"].startswith(f"{COOKIE_NAME}=") and "HttpOnly" in response.headers["set-cookie"]
    assert client.get(f"/cases/{case['id']}").status_code == 200
    assert client.get("/api/me").json()["email"] == EMAIL  # the same session as the API's


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "http://evil.example/", "https://evil.example", "/\\evil.example", "\\\\evil.example",
     "/\t/evil.example", "javascript:alert(1)", "evil.example", ""],
)  # fmt: skip
def test_sign_in_never_sends_the_browser_to_another_site(client, secretary, target) -> None:
    response = sign_in_with_form(client, target)

    assert response.status_code == 303 and response.headers["location"] == "/"
    assert 'value="/"' in client.get("/login", params={"next": target}).text.replace('name="next" ', "")


def test_a_wrong_password_shows_the_form_again_with_a_message(client, secretary) -> None:
    response = sign_in_with_form(client, "/cases/abc", password="sandi-yang-keliru")

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert "Alamat e-mail atau kata sandi salah" in response.text
    assert f'value="{EMAIL}"' in response.text and "sandi-yang-keliru" not in response.text
    assert 'value="/cases/abc"' in response.text
    assert "satu_session" not in response.headers.get("set-cookie", "")  # no session (a form token only)


def test_a_refused_sign_in_shows_the_services_own_words_in_bahasa(client, cluster, secretary) -> None:
    refusal = PermissionDenied("role 'auditor' may not do this (allowed: applicant)")
    cluster.fail_in_service("registry", "authenticate", refusal)

    response = sign_in_with_form(client, "/cases/abc")

    assert response.status_code == 401
    assert "Peran &#39;auditor&#39; tidak berhak melakukan tindakan ini" in response.text
    assert "may not do this" not in response.text


def test_the_case_page_shows_status_timeline_files_and_letter(client, cluster, secretary, officers) -> None:
    sign_in_with_form(client)
    from_this_site = {**SAME_SITE, "X-Satu-Request": "1"}  # as the site's own page sends it with the cookie
    file_id = upload(client, from_this_site, pdf_bytes(), name="akta-notaris.pdf").json()["file_id"]
    filing = {"attachments": [{"file_id": file_id, "kind": "deed"}]}
    case_id = client.post("/api/cases", headers=from_this_site, json=filing).json()["id"]
    _step(cluster, officers["verifier"], case_id, "request_revision", reason="Akta notaris tidak terbaca")
    cluster["submissions"].resubmit(signed(cluster, secretary), case_id, {"attachments": [attachment("npwp")]})
    case = approve(cluster, case_id, officers["verifier"], officers["approver"])

    page = client.get(f"/cases/{case_id}")

    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    for shown in (case["reference"], "Surat Keterangan Melapor", ORGANISATION, "Status: Disetujui"):
        assert shown in text
    timeline = cluster["submissions"].case_timeline(signed(cluster, secretary), case_id)
    assert len(timeline) == 6 and all(_wita(step["at"]) in text for step in timeline)
    assert "Perlu perbaikan" in text and "Akta notaris tidak terbaca" in text
    assert f'href="/api/cases/{case_id}/letter">Unduh surat (PDF)</a>' in text
    assert case["letter"]["number"] in text
    download = f"/api/cases/{case_id}/attachments/{file_id}"
    assert f'href="{download}"' in text
    assert client.get(download).content.startswith(b"%PDF-")  # the link works with the page's cookie


def test_times_are_shown_in_the_regions_time_zone() -> None:
    assert local_time("2026-11-28T06:05:00+00:00", "Asia/Makassar") == "28 November 2026 14:05 WITA"
    assert local_time("2026-11-28T23:30:00", "Asia/Makassar") == "29 November 2026 07:30 WITA"  # naive is UTC


def test_a_revision_request_shows_its_reason_and_no_letter(client, cluster, case, officers) -> None:
    sign_in_with_form(client)
    _step(cluster, officers["verifier"], case["id"], "request_revision", reason="<b>Akta</b> tidak terbaca")

    text = client.get(f"/cases/{case['id']}").text

    assert "Status: Perlu perbaikan" in text
    assert "&lt;b&gt;Akta&lt;/b&gt; tidak terbaca" in text and "<b>Akta</b>" not in text
    assert "Unduh surat" not in text


def test_a_lagging_timeline_does_not_hide_the_case(client, cluster, secretary) -> None:
    sign_in_with_form(client)
    with cluster.events_held():  # the case list and timeline have not heard of the filing yet
        case = file_case(cluster, secretary)
        page = client.get(f"/cases/{case['id']}")

    assert page.status_code == 200
    assert "Status: Diajukan" in page.text and "Riwayat status sedang diperbarui" in page.text


def test_another_organisations_case_is_a_404_page_not_json(client, cluster, secretary) -> None:
    sign_in_with_form(client)
    theirs = file_case(cluster, enrol(cluster, "ketua@forum.or.id", organisation="Forum Warga Teritip"))

    for path in (f"/cases/{theirs['id']}", "/cases/tidak-ada", "/cases/" + "x" * 300):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "Permohonan tidak ditemukan" in response.text and "Forum Warga Teritip" not in response.text


@pytest.mark.parametrize("away", ["the broker", "the database"])
def test_services_down_is_a_503_page(client, cluster, case, away) -> None:
    sign_in_with_form(client)
    cluster.fail_as_away("submissions", "get_case", away)

    response = client.get(f"/cases/{case['id']}")

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert "Layanan sedang terganggu" in response.text and "Traceback" not in response.text


def test_signing_in_without_next_lists_the_cases(client, cluster, case, officers) -> None:
    _step(cluster, officers["verifier"], case["id"], "record_field_visit", **FIELD_VISIT)
    _step(cluster, officers["verifier"], case["id"], "forward")

    home = client.get(sign_in_with_form(client).headers["location"])

    assert home.status_code == 200
    assert f'href="/cases/{case["id"]}"' in home.text and "Diteruskan ke kepala bidang" in home.text


def test_signing_out_clears_the_session(client, case) -> None:
    sign_in_with_form(client)

    response = client.post(
        "/logout", data={"csrf_token": form_token(client)}, headers=SAME_SITE, follow_redirects=False
    )

    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get(f"/cases/{case['id']}", follow_redirects=False).status_code == 303


def test_a_sign_in_form_posted_from_another_site_or_without_its_token_is_refused(client, secretary) -> None:
    form = {"email": EMAIL, "password": PASSWORD, "next": "/", "csrf_token": form_token(client)}
    foreign = client.post("/login", data=form, headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert foreign.status_code == 403 and "satu_session" not in foreign.cookies
    no_token = client.post("/login", data={**form, "csrf_token": "x"}, headers=SAME_SITE, follow_redirects=False)
    assert no_token.status_code == 403
    assert sign_in_with_form(client).status_code == 303  # from this site, with the token: signed in
