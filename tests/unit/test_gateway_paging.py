"""Lists come a page at a time (on the real services): paging through more cases than fit a page — more than
the 500 the lists used to stop at — reaches every case exactly once, in the list's order; the cursor is an
opaque token, and one the service did not make is refused naming the ``cursor`` parameter."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.gateway_client import account, sign_in
from tests.support.in_process import Cluster
from tests.support.office import file_case

FILINGS = 520


@pytest.fixture
def filed(client: TestClient, cluster: Cluster, siti: dict[str, str]) -> list[str]:
    """The ids of FILINGS cases of Siti's organisation, oldest first (filed as the gateway passes them on)."""
    applicant = account(client, siti)
    return [file_case(cluster, applicant)["id"] for _ in range(FILINGS)]


def _pages(client: TestClient, path: str, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    pages, cursor = [], None
    while True:
        response = client.get(path, headers=headers, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return pages


def _ids(pages: list[dict[str, Any]]) -> list[str]:
    return [row["case_id"] for page in pages for row in page["items"]]


def test_staff_page_through_every_case_exactly_once_newest_first(client, verifier, filed) -> None:
    pages = _pages(client, "/api/cases", verifier, limit=100)

    assert [len(page["items"]) for page in pages] == [100, 100, 100, 100, 100, 20]
    assert _ids(pages) == list(reversed(filed))  # the 501st case and the last are there, each once


def test_an_applicant_pages_through_their_own_cases_only(client, cluster, siti, filed) -> None:
    budi = sign_in(client, cluster, "budi@lain.or.id", organisation="Forum Warga Teritip")
    theirs = file_case(cluster, account(client, budi))["id"]

    mine = _ids(_pages(client, "/api/cases", siti, limit=250))

    assert mine == list(reversed(filed))
    assert _ids(_pages(client, "/api/cases", budi)) == [theirs]


def test_the_work_queue_pages_through_every_waiting_case_longest_waiting_first(client, verifier, filed) -> None:
    pages = _pages(client, "/api/queue", verifier, limit=200)

    assert _ids(pages) == filed
    assert pages[-1]["next_cursor"] is None


def test_a_status_filter_pages_within_its_status(client, verifier, filed) -> None:
    assert _ids(_pages(client, "/api/cases", verifier, status="submitted", limit=300)) == list(reversed(filed))
    assert _pages(client, "/api/cases", verifier, status="approved") == [{"items": [], "next_cursor": None}]


def test_the_cursor_is_an_opaque_token(client, verifier, filed) -> None:
    first = client.get("/api/cases", headers=verifier, params={"limit": 10}).json()

    cursor = first["next_cursor"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)  # safe in a query string as it is
    assert first["items"][-1]["case_id"] not in cursor  # nothing in it to read, or to build on


@pytest.mark.parametrize("path", ["/api/cases", "/api/queue", "/api/organisations"])
@pytest.mark.parametrize("cursor", ["not a cursor!", "bm90LWEtY3Vyc29y", "WyIyMDI2Il0", "x" * 400])
def test_a_cursor_the_service_did_not_make_is_422_naming_it(client, verifier, path, cursor) -> None:
    response = client.get(path, headers=verifier, params={"cursor": cursor})

    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "cursor"


def test_the_directory_pages_through_every_organisation(client, cluster, verifier) -> None:
    for number in range(5):
        sign_in(client, cluster, f"sekretaris{number}@ormas.or.id", organisation=f"Ormas Nomor {number}")

    pages = _pages(client, "/api/organisations", verifier, limit=2)

    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    listed = [row["organisation_id"] for page in pages for row in page["items"]]
    assert listed == sorted(set(listed)) and len(listed) == 5


def test_the_home_page_links_to_the_next_page_until_the_last(client, siti, filed) -> None:
    seen, path = [], "/"
    while path:
        page = client.get(path)
        assert page.status_code == 200
        seen += re.findall(r'href="/cases/([0-9a-f-]{36})"', page.text)
        following = re.search(r'href="(/\?cursor=[^"]+)" rel="next">Halaman berikutnya', page.text)
        path = following.group(1) if following else ""

    assert seen == list(reversed(filed))


def test_a_mangled_page_link_shows_the_first_page(client, siti, filed) -> None:
    page = client.get("/", params={"cursor": "WyIyMDI2Il0"})

    assert page.status_code == 200
    assert re.findall(r'href="/cases/([0-9a-f-]{36})"', page.text)[0] == filed[-1]
