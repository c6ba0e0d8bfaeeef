"""Filing a case with uploaded files, and downloading what belongs to a case (on the real services)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from fastapi.testclient import TestClient

from contracts.identity import Caller, Role
from tests.support.factories import pdf_bytes
from tests.support.gateway_client import account, act, file_case, forward, record_field_visit, sign_in, uploaded
from tests.support.in_process import Call, Cluster
from tests.support.pdf import pdf_text


@pytest.fixture
def budi(client: TestClient, cluster: Cluster) -> dict[str, str]:
    return sign_in(client, cluster, "budi@lain.or.id", organisation="Forum Warga Teritip")


def _file_id(client: TestClient, headers: dict[str, str], name: str = "surat.pdf") -> str:
    return uploaded(client, headers, pdf_bytes(), name=name)


def _calls(cluster: Cluster, method: str) -> list[Call]:
    return [call for call in cluster.calls if call.method == method]


def _submit(client: TestClient, headers: dict[str, str], *file_ids: str):
    attachments = [{"file_id": file_id, "kind": "cover_letter"} for file_id in file_ids]
    return client.post("/api/cases", headers=headers, json={"service": "skm", "attachments": attachments})


def test_submit_fills_name_size_and_checksum_from_the_upload(client, siti) -> None:
    file_id = _file_id(client, siti, name="Surat Permohonan.pdf")

    response = _submit(client, siti, file_id)

    assert response.status_code == 201
    assert response.json()["organisation_id"] == account(client, siti)["organisation_id"]
    pdf = pdf_bytes()
    assert response.json()["attachments"] == [
        {
            "file_id": file_id,
            "kind": "cover_letter",
            "filename": "Surat Permohonan.pdf",
            "size": len(pdf),
            "sha256": hashlib.sha256(pdf).hexdigest(),
        }
    ]


def test_submit_refuses_a_file_someone_else_uploaded(client, cluster, siti, budi) -> None:
    mine = _file_id(client, siti)
    theirs = _file_id(client, budi)

    response = _submit(client, siti, mine, theirs)

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "attachments.1.file_id"
    assert _calls(cluster, "submit_case") == []


def test_submit_refuses_an_unknown_file_id(client, siti) -> None:
    response = _submit(client, siti, "0" * 32)

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "attachments.0.file_id"


def test_submit_refuses_a_file_id_that_is_not_an_upload_id(client, siti) -> None:
    response = _submit(client, siti, "../../etc/passwd")

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "attachments.0.file_id"


def test_submit_before_recording_an_organisation_shows_the_services_409(client, cluster) -> None:
    headers = sign_in(client, cluster, "baru@ormas.or.id")

    response = _submit(client, headers, _file_id(client, headers))

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "conflict",
        "message": "record your organisation before filing",
        "message_id": "Daftarkan organisasi Anda sebelum mengajukan permohonan.",
        "field": "organisation",
    }


def test_resubmission_checks_and_fills_attachments_too(client, siti, budi, verifier) -> None:
    case_id = _submit(client, siti, _file_id(client, siti)).json()["id"]
    act(client, verifier, case_id, "request_revision", reason="Akta notaris tidak terbaca")
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
    # A resubmission replaces the files of the kinds it sends and keeps the others.
    files = {attachment["kind"]: attachment["filename"] for attachment in response.json()["attachments"]}
    assert files == {"cover_letter": "surat.pdf", "deed": "akta-baru.pdf"}


def test_forward_works_without_a_body(client, cluster, siti, verifier) -> None:
    case_id = file_case(client, siti)["id"]
    record_field_visit(client, verifier, case_id)

    response = client.post(f"/api/cases/{case_id}/forward", headers=verifier)

    assert response.status_code == 200 and response.json()["status"] == "forwarded"
    sent_case, sent_payload = _calls(cluster, "forward")[-1].args[1:]
    assert sent_case == case_id and sent_payload["note"] is None
    assert sent_payload["command_id"].startswith("cmd-")  # one made for this request


def test_a_step_sent_again_with_its_key_is_done_once(client, cluster, siti, verifier) -> None:
    # The answer was lost (a timeout, a broker restart): the client sends the same step with the same key.
    case_id = file_case(client, siti)["id"]
    key = {"Idempotency-Key": "langkah-0001"}
    first = client.post(f"/api/cases/{case_id}/actions/take", headers={**verifier, **key})
    again = client.post(f"/api/cases/{case_id}/actions/take", headers={**verifier, **key})
    assert first.status_code == again.status_code == 200
    assert again.json()["version"] == first.json()["version"] == 2
    history = client.get(f"/api/cases/{case_id}/history", headers=verifier).json()
    assert [entry["type"] for entry in history].count("Case.Moved") == 1
    other = client.post(f"/api/cases/{case_id}/actions/take", headers=verifier)  # a new command: done
    assert other.status_code == 200 and other.json()["version"] == 3
    misused = client.post(f"/api/cases/{case_id}/actions/hold", headers={**verifier, **key}, json={"reason": "x y"})
    assert misused.status_code == 422 and misused.json()["error"]["field"] == "Idempotency-Key"


def test_a_filing_whose_rpc_arrives_twice_makes_one_case(client, cluster, siti) -> None:
    # The gateway gives every filing a command id: the same request delivered again names the same case.
    first = file_case(client, siti)
    [call] = _calls(cluster, "submit_case")
    payload = call.args[1]
    assert payload["request_key"].startswith("cmd-")
    me = account(client, siti)
    caller = Caller(user_id=me["id"], role=Role.APPLICANT, organisation_id=me["organisation_id"])
    again = cluster["submissions"].submit_case(caller, payload)  # as a redelivery would run it
    assert again["id"] == first["id"]
    assert [row["case_id"] for row in client.get("/api/cases", headers=siti).json()["items"]] == [first["id"]]


def test_case_state_passes_version_and_moment(client, cluster, siti, verifier) -> None:
    filed = file_case(client, siti)
    case_id = filed["id"]
    assert act(client, verifier, case_id, "take")["version"] == 2
    filed_at = dt.datetime.fromisoformat(filed["modified_at"])

    by_version = client.get(f"/api/cases/{case_id}/state", params={"version": 1}, headers=siti)
    by_moment = client.get(f"/api/cases/{case_id}/state", params={"at": filed_at.isoformat()}, headers=siti)
    before = client.get(f"/api/cases/{case_id}/state", params={"at": "2026-03-02T10:00:00+08:00"}, headers=siti)
    calls = len(cluster.calls)
    bad = client.get(f"/api/cases/{case_id}/state?version=0", headers=siti)

    assert by_version.json()["version"] == by_moment.json()["version"] == 1
    assert by_version.json()["assignee"] is None  # as it was before the verifier took it
    assert before.status_code == 422 and before.json()["error"]["field"] == "at"  # the service's own answer
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "version"
    assert len(cluster.calls) == calls  # the gateway refused it itself


def test_an_attachment_of_the_case_downloads_as_pdf(client, siti) -> None:
    file_id = _file_id(client, siti, name="Surat Permohonan.pdf")
    case_id = _submit(client, siti, file_id).json()["id"]

    response = client.get(f"/api/cases/{case_id}/attachments/{file_id}", headers=siti)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.content == pdf_bytes()


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


def test_the_letter_downloads_as_a_pdf_attachment(client, cluster, siti, verifier) -> None:
    case_id = file_case(client, siti)["id"]
    forward(client, verifier, case_id)
    approver = sign_in(client, cluster, "kabid@kesbangpol.go.id", role="approver")
    letter = act(client, approver, case_id, "approve")["letter"]

    response = client.get(f"/api/cases/{case_id}/letter", headers=siti)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    filename = f"SKM-0001-KESBANGPOL-{letter['year']}.pdf"  # the first number of this year's register
    assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert letter["number"] in pdf_text(response.content)


def test_no_letter_yet_is_404_json(client, siti) -> None:
    response = client.get("/api/cases/00000000-0000-4000-8000-000000000002/letter", headers=siti)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_unknown_status_filter_is_422_not_an_empty_list(client, cluster, siti) -> None:
    response = client.get("/api/cases", params={"status": "aproved"}, headers=siti)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "status"
    assert _calls(cluster, "list_cases") == []


@pytest.mark.parametrize("route", ["revision-requests", "rejection"])
def test_a_whitespace_reason_is_422_naming_the_field_and_reaches_no_service(client, cluster, siti, route) -> None:
    case_id = _submit(client, siti, _file_id(client, siti)).json()["id"]
    staff = sign_in(client, cluster, "staf@kesbangpol.go.id", role="approver" if route == "rejection" else "verifier")
    calls = len(cluster.calls)

    response = client.post(f"/api/cases/{case_id}/{route}", headers=staff, json={"reason": "    \n\t "})

    assert response.status_code == 422 and response.json()["error"]["field"] == "reason"
    assert len(cluster.calls) == calls
