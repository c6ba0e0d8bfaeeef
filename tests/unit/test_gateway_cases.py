"""Filing a case with uploaded files, and downloading what belongs to a case."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient

from tests.support.gateway_fakes import FakeRpc, make_pdf, sign_in, upload


@pytest.fixture
def siti(client: TestClient, rpc: FakeRpc) -> dict[str, str]:
    return sign_in(client, rpc, "siti@ormas.or.id", organisation_id="org-siti")


@pytest.fixture
def budi(client: TestClient, rpc: FakeRpc) -> dict[str, str]:
    return sign_in(client, rpc, "budi@lain.or.id", organisation_id="org-budi")


def _file_id(client: TestClient, headers: dict[str, str], name: str = "surat.pdf") -> str:
    response = upload(client, headers, make_pdf(), name=name)
    assert response.status_code == 201
    return str(response.json()["file_id"])


def _submit(client: TestClient, headers: dict[str, str], *file_ids: str):
    attachments = [{"file_id": file_id, "kind": "cover_letter"} for file_id in file_ids]
    return client.post("/api/cases", headers=headers, json={"service": "skm", "attachments": attachments})


def test_submit_fills_name_size_and_checksum_from_the_upload(client, rpc, siti) -> None:
    file_id = _file_id(client, siti, name="Surat Permohonan.pdf")

    response = _submit(client, siti, file_id)

    assert response.status_code == 201
    caller, payload = rpc.submissions.calls[-1][1]
    assert caller.organisation_id == "org-siti"
    pdf = make_pdf()
    assert payload["attachments"] == [
        {
            "file_id": file_id,
            "kind": "cover_letter",
            "filename": "Surat Permohonan.pdf",
            "size": len(pdf),
            "sha256": hashlib.sha256(pdf).hexdigest(),
        }
    ]


def test_submit_refuses_a_file_someone_else_uploaded(client, rpc, siti, budi) -> None:
    mine = _file_id(client, siti)
    theirs = _file_id(client, budi)

    response = _submit(client, siti, mine, theirs)

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "attachments.1.file_id"
    assert rpc.submissions.calls == []


def test_submit_refuses_an_unknown_file_id(client, rpc, siti) -> None:
    response = _submit(client, siti, "0" * 32)

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "attachments.0.file_id"


def test_submit_refuses_a_file_id_that_is_not_an_upload_id(client, siti) -> None:
    response = _submit(client, siti, "../../etc/passwd")

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "attachments.0.file_id"


def test_submit_before_recording_an_organisation_shows_the_services_409(client, rpc) -> None:
    headers = sign_in(client, rpc, "baru@ormas.or.id")

    response = _submit(client, headers, _file_id(client, headers))

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "conflict",
        "message": "record your organisation before filing",
        "message_id": "Daftarkan organisasi Anda sebelum mengajukan permohonan.",
        "field": "organisation",
    }


def test_resubmission_checks_and_fills_attachments_too(client, rpc, siti, budi) -> None:
    case_id = _submit(client, siti, _file_id(client, siti)).json()["id"]
    theirs = _file_id(client, budi)
    refused = client.post(
        f"/api/cases/{case_id}/resubmissions",
        headers=siti,
        json={"attachments": [{"file_id": theirs, "kind": "deed"}]},
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "attachments.0.file_id"

    fixed = _file_id(client, siti, name="akta-baru.pdf")
    response = client.post(
        f"/api/cases/{case_id}/resubmissions",
        headers=siti,
        json={"attachments": [{"file_id": fixed, "kind": "deed"}], "note": "sudah diperbaiki"},
    )

    assert response.status_code == 200
    assert response.json()["attachments"][0]["filename"] == "akta-baru.pdf"


def test_forward_works_without_a_body(client, rpc, siti) -> None:
    case_id = _submit(client, siti, _file_id(client, siti)).json()["id"]
    verifier = sign_in(client, rpc, "v@kesbangpol.go.id", role="verifier")

    response = client.post(f"/api/cases/{case_id}/forward", headers=verifier)

    assert response.status_code == 200
    assert rpc.submissions.calls[-1] == ("forward", (case_id, {"note": None}))


def test_case_state_passes_version_and_moment(client, rpc, siti) -> None:
    case_id = _submit(client, siti, _file_id(client, siti)).json()["id"]

    assert client.get(f"/api/cases/{case_id}/state?version=1", headers=siti).status_code == 200
    assert client.get(f"/api/cases/{case_id}/state?at=2026-03-02T10:00:00%2B08:00", headers=siti).status_code == 200
    bad = client.get(f"/api/cases/{case_id}/state?version=0", headers=siti)

    assert rpc.submissions.calls[-2:] == [
        ("case_state", (case_id, 1, None)),
        ("case_state", (case_id, None, "2026-03-02T10:00:00+08:00")),
    ]
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "version"


def test_an_attachment_of_the_case_downloads_as_pdf(client, siti) -> None:
    file_id = _file_id(client, siti, name="Surat Permohonan.pdf")
    case_id = _submit(client, siti, file_id).json()["id"]

    response = client.get(f"/api/cases/{case_id}/attachments/{file_id}", headers=siti)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.content == make_pdf()


def test_a_file_not_attached_to_the_case_is_404_even_if_it_exists(client, siti) -> None:
    case_id = _submit(client, siti, _file_id(client, siti)).json()["id"]
    other = _file_id(client, siti)

    response = client.get(f"/api/cases/{case_id}/attachments/{other}", headers=siti)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_attachments_of_another_organisations_case_are_404(client, siti, budi) -> None:
    file_id = _file_id(client, siti)
    case_id = _submit(client, siti, file_id).json()["id"]

    response = client.get(f"/api/cases/{case_id}/attachments/{file_id}", headers=budi)

    assert response.status_code == 404


def test_the_letter_downloads_as_a_pdf_attachment(client, rpc, siti) -> None:
    rpc.documents.letters["00000000-0000-4000-8000-000000000001"] = make_pdf()

    response = client.get("/api/cases/00000000-0000-4000-8000-000000000001/letter", headers=siti)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="SKM-0001-KESBANGPOL-2026.pdf"'
    assert response.content.startswith(b"%PDF-")
    assert response.content == make_pdf()


def test_no_letter_yet_is_404_json(client, siti) -> None:
    response = client.get("/api/cases/00000000-0000-4000-8000-000000000002/letter", headers=siti)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_unknown_status_filter_is_422_not_an_empty_list(client, rpc, siti) -> None:
    response = client.get("/api/cases", params={"status": "aproved"}, headers=siti)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "status"
    assert not [call for call in rpc.submissions.calls if call[0] == "list_cases"]


@pytest.mark.parametrize("route", ["revision-requests", "rejection"])
def test_a_whitespace_reason_is_422_naming_the_field_and_reaches_no_service(client, rpc, siti, route) -> None:
    case_id = _submit(client, siti, _file_id(client, siti)).json()["id"]
    staff = sign_in(client, rpc, "staf@kesbangpol.go.id", role="approver" if route == "rejection" else "verifier")
    calls = len(rpc.submissions.calls)

    response = client.post(f"/api/cases/{case_id}/{route}", headers=staff, json={"reason": "    \n\t "})

    assert response.status_code == 422 and response.json()["error"]["field"] == "reason"
    assert len(rpc.submissions.calls) == calls
