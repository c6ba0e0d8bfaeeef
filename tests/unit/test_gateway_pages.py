"""The pages a secretary opens from a status e-mail: the sign-in form, the case page, signing out."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contracts.errors import NotFound, PermissionDenied
from contracts.identity import verify_caller
from gateway.auth import COOKIE_NAME
from gateway.rpc import ServiceUnavailable
from tests.support.gateway_fakes import PASSWORD, SECRET, FakeRpc, FakeSubmissions, make_pdf, upload

EMAIL = "sekretaris@ormas.or.id"


class PageSubmissions(FakeSubmissions):
    """The shared fake, plus full case views and the timeline read model the case page shows."""

    def __init__(self) -> None:
        super().__init__()
        self.timelines: dict[str, list[dict[str, Any]]] = {}

    def add_case(self, organisation_id: str, **changes: Any) -> dict[str, Any]:
        case = {
            "id": str(uuid.uuid4()),
            "reference": "SKM-2026-000123",
            "service": "skm",
            "status": "submitted",
            "organisation_id": organisation_id,
            "organisation_name": "Perkumpulan Pemuda Manggar",
            "attachments": [],
            "superseded_attachments": [],
            "last_reason": None,
            "letter": None,
            "created_at": "2026-11-27T01:00:00+00:00",
            **changes,
        }
        self.cases[case["id"]] = case
        return case

    def case_timeline(self, caller: dict[str, Any], case_id: str) -> list[dict[str, Any]]:
        self._readable(verify_caller(caller, SECRET), case_id)
        if not self.timelines.get(case_id):
            raise NotFound(f"no timeline yet for case {case_id}")
        return self.timelines[case_id]

    def list_cases(self, caller: dict[str, Any], status: str | None) -> list[dict[str, Any]]:
        who = verify_caller(caller, SECRET)
        mine = [c for c in self.cases.values() if c["organisation_id"] == who.organisation_id]
        return [{**c, "case_id": c["id"], "updated_at": c["created_at"]} for c in mine]


def step(status: str, at: str, role: str, reason: str | None = None) -> dict[str, Any]:
    return {"status": status, "at": at, "actor_role": role, "reason": reason, "note": None}


@pytest.fixture
def submissions(rpc: FakeRpc) -> PageSubmissions:
    rpc.submissions = PageSubmissions()
    rpc.registry.add_account(EMAIL, organisation_id="org-siti")
    return rpc.submissions


SAME_SITE = {"Origin": "http://testserver"}  # what a browser sends with a form posted from this site


def form_token(client: TestClient) -> str:
    """The CSRF token of the sign-in page (its cookie half stays in the client's jar)."""
    page = client.get("/login").text
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def sign_in_with_form(client: TestClient, next_path: str = "/", password: str = PASSWORD):
    form = {"email": EMAIL, "password": password, "next": next_path, "csrf_token": form_token(client)}
    return client.post("/login", data=form, headers=SAME_SITE, follow_redirects=False)


def test_the_case_link_without_a_session_leads_to_the_sign_in_form(client, submissions) -> None:
    case = submissions.add_case("org-siti")

    response = client.get(f"/cases/{case['id']}", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/cases/{case['id']}"
    form = client.get(response.headers["location"])
    assert form.status_code == 200 and form.headers["content-type"].startswith("text/html")
    assert '<html lang="id">' in form.text
    assert f'name="next" value="/cases/{case["id"]}"' in form.text
    assert '<label for="email">' in form.text and '<label for="password">' in form.text


@pytest.mark.parametrize("cookie", ["forged.token.value", ""])
def test_a_forged_session_also_leads_to_the_sign_in_form(client, submissions, cookie) -> None:
    case = submissions.add_case("org-siti")
    client.cookies.set(COOKIE_NAME, cookie)

    response = client.get(f"/cases/{case['id']}", follow_redirects=False)

    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=/cases/")


def test_signing_in_through_the_form_goes_back_to_the_case(client, submissions) -> None:
    case = submissions.add_case("org-siti")

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
def test_sign_in_never_sends_the_browser_to_another_site(client, submissions, target) -> None:
    response = sign_in_with_form(client, target)

    assert response.status_code == 303 and response.headers["location"] == "/"
    assert 'value="/"' in client.get("/login", params={"next": target}).text.replace('name="next" ', "")


def test_a_wrong_password_shows_the_form_again_with_a_message(client, submissions) -> None:
    response = sign_in_with_form(client, "/cases/abc", password="sandi-yang-keliru")

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert "Alamat e-mail atau kata sandi salah" in response.text
    assert f'value="{EMAIL}"' in response.text and "sandi-yang-keliru" not in response.text
    assert 'value="/cases/abc"' in response.text
    assert "satu_session" not in response.headers.get("set-cookie", "")  # no session (a form token only)


def test_a_refused_sign_in_shows_the_services_own_words_in_bahasa(client, rpc, submissions) -> None:
    def authenticate(payload: dict[str, Any]) -> dict[str, Any]:
        raise PermissionDenied("role 'auditor' may not do this (allowed: applicant)")

    rpc.registry.authenticate = authenticate  # type: ignore[method-assign]
    response = sign_in_with_form(client, "/cases/abc")

    assert response.status_code == 401
    assert "Peran &#39;auditor&#39; tidak berhak melakukan tindakan ini" in response.text
    assert "may not do this" not in response.text


def test_the_case_page_shows_status_timeline_files_and_letter(client, rpc, submissions) -> None:
    sign_in_with_form(client)
    from_this_site = {**SAME_SITE, "X-Satu-Request": "1"}  # as the site's own page sends it with the cookie
    file_id = upload(client, from_this_site, make_pdf(), name="akta-notaris.pdf").json()["file_id"]
    attachment = {"file_id": file_id, "kind": "deed", "filename": "akta-notaris.pdf", "size": 4096, "sha256": "0" * 64}
    case = submissions.add_case(
        "org-siti",
        status="approved",
        attachments=[attachment],
        last_reason="Akta notaris tidak terbaca",
        letter={"number": "SKM/0001/KESBANGPOL/2026", "verification_code": "K7Q2M9XA"},
    )
    submissions.timelines[case["id"]] = [
        step("submitted", "2026-11-28T06:05:00+00:00", "applicant"),
        step("revision_requested", "2026-11-28T07:30:00+00:00", "verifier", "Akta notaris tidak terbaca"),
        step("approved", "2026-12-01T02:00:00+00:00", "approver"),
    ]

    page = client.get(f"/cases/{case['id']}")

    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    for shown in ("SKM-2026-000123", "Surat Keterangan Melapor", "Perkumpulan Pemuda Manggar", "Status: Disetujui"):
        assert shown in text
    assert "28 November 2026 14:05 WITA" in text and "28 November 2026 15:30 WITA" in text
    assert "Perlu perbaikan" in text and "Akta notaris tidak terbaca" in text
    assert f'href="/api/cases/{case["id"]}/letter">Unduh surat (PDF)</a>' in text
    assert "SKM/0001/KESBANGPOL/2026" in text
    download = f"/api/cases/{case['id']}/attachments/{file_id}"
    assert f'href="{download}"' in text
    assert client.get(download).content.startswith(b"%PDF-")  # the link works with the page's cookie


def test_a_revision_request_shows_its_reason_and_no_letter(client, submissions) -> None:
    sign_in_with_form(client)
    case = submissions.add_case("org-siti", status="revision_requested", last_reason="<b>Akta</b> tidak terbaca")

    text = client.get(f"/cases/{case['id']}").text

    assert "Status: Perlu perbaikan" in text
    assert "&lt;b&gt;Akta&lt;/b&gt; tidak terbaca" in text and "<b>Akta</b>" not in text
    assert "Unduh surat" not in text


def test_a_lagging_timeline_does_not_hide_the_case(client, submissions) -> None:
    sign_in_with_form(client)
    case = submissions.add_case("org-siti", status="submitted")

    page = client.get(f"/cases/{case['id']}")

    assert page.status_code == 200
    assert "Status: Diajukan" in page.text and "Riwayat status sedang diperbarui" in page.text


def test_another_organisations_case_is_a_404_page_not_json(client, submissions) -> None:
    sign_in_with_form(client)
    theirs = submissions.add_case("org-lain", organisation_name="Forum Warga Teritip")

    for path in (f"/cases/{theirs['id']}", "/cases/tidak-ada", "/cases/" + "x" * 300):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "Permohonan tidak ditemukan" in response.text and "Forum Warga Teritip" not in response.text


def test_services_down_is_a_503_page(client, submissions) -> None:
    sign_in_with_form(client)
    case = submissions.add_case("org-siti")

    def unavailable(*_args: object) -> None:
        raise ServiceUnavailable("cannot reach the message broker")

    submissions.get_case = unavailable
    response = client.get(f"/cases/{case['id']}")

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert "Layanan sedang terganggu" in response.text and "Traceback" not in response.text


def test_signing_in_without_next_lists_the_cases(client, submissions) -> None:
    case = submissions.add_case("org-siti", status="forwarded")

    home = client.get(sign_in_with_form(client).headers["location"])

    assert home.status_code == 200
    assert f'href="/cases/{case["id"]}"' in home.text and "Diteruskan ke kepala bidang" in home.text


def test_signing_out_clears_the_session(client, submissions) -> None:
    case = submissions.add_case("org-siti")
    sign_in_with_form(client)

    response = client.post(
        "/logout", data={"csrf_token": form_token(client)}, headers=SAME_SITE, follow_redirects=False
    )

    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get(f"/cases/{case['id']}", follow_redirects=False).status_code == 303


def test_a_sign_in_form_posted_from_another_site_or_without_its_token_is_refused(client, submissions) -> None:
    form = {"email": EMAIL, "password": PASSWORD, "next": "/", "csrf_token": form_token(client)}
    foreign = client.post("/login", data=form, headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert foreign.status_code == 403 and "satu_session" not in foreign.cookies
    no_token = client.post("/login", data={**form, "csrf_token": "x"}, headers=SAME_SITE, follow_redirects=False)
    assert no_token.status_code == 403
    assert sign_in_with_form(client).status_code == 303  # from this site, with the token: signed in
