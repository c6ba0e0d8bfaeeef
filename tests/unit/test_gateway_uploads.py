"""Uploading the PDFs of a case: only real PDFs, within the size limit, stored under a random name."""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.factories import pdf_bytes
from tests.support.gateway_client import InProcessRpc, account, make_app, sign_in, upload
from tests.support.in_process import Cluster

LIMIT = 64 * 1024


def kept(tmp_path: Path) -> list[Path]:
    """The files the store holds (PDFs and their sidecars), not its bookkeeping folders."""
    return [path for path in (tmp_path / "uploads").iterdir() if path.is_file()]


@pytest.fixture
def client(tmp_path, rpc: InProcessRpc) -> Iterator[TestClient]:
    with TestClient(make_app(tmp_path, rpc, upload_max_bytes=LIMIT)) as client:
        yield client


@pytest.fixture
def headers(client: TestClient, cluster: Cluster) -> dict[str, str]:
    return sign_in(client, cluster, "siti@ormas.or.id", organisation="Perkumpulan Uji")


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0\0")) + chunk(b"IEND", b"")


def _error(response) -> dict[str, object]:
    return response.json()["error"]


def test_a_real_pdf_is_stored_outside_the_web_root_with_its_checksum(tmp_path, client, headers) -> None:
    pdf = pdf_bytes()

    response = upload(client, headers, pdf, name="../../etc/Akta Pendirian.pdf")

    assert response.status_code == 201
    body = response.json()
    assert body["size"] == len(pdf)
    assert body["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert body["filename"] == "Akta Pendirian.pdf"
    stored = tmp_path / "uploads" / f"{body['file_id']}.pdf"
    assert stored.read_bytes() == pdf
    sidecar = json.loads((tmp_path / "uploads" / f"{body['file_id']}.json").read_text())
    assert sidecar["organisation_id"] == account(client, headers)["organisation_id"]
    assert sidecar["filename"] == "Akta Pendirian.pdf"
    assert sorted(path.suffix for path in kept(tmp_path)) == [".json", ".pdf"]


def test_a_png_renamed_to_pdf_is_415(tmp_path, client, headers) -> None:
    response = upload(client, headers, _png(), name="scan.pdf")

    assert response.status_code == 415
    assert _error(response) | {"message": "", "message_id": ""} == {
        "code": "unsupported_media_type",
        "message": "",
        "message_id": "",
        "field": "file",
    }
    assert kept(tmp_path) == []


def test_a_file_that_only_starts_like_a_pdf_is_415(client, headers) -> None:
    response = upload(client, headers, b"%PDF-1.7\n this is not really a PDF")

    assert response.status_code == 415


def test_a_file_just_over_the_limit_is_413_and_nothing_is_kept(tmp_path, client, headers) -> None:
    oversize = pdf_bytes() + b"%" * LIMIT

    response = upload(client, headers, oversize)

    assert response.status_code == 413
    assert _error(response)["code"] == "too_large"
    assert _error(response)["field"] == "file"
    assert kept(tmp_path) == []


def test_a_huge_body_is_refused_before_it_is_read(client, headers) -> None:
    response = upload(client, headers, b"%PDF-" + b"0" * (4 * LIMIT))

    assert response.status_code == 413
    assert _error(response)["code"] == "too_large"


def test_an_empty_file_is_422(client, headers) -> None:
    response = upload(client, headers, b"")

    assert response.status_code == 422
    assert _error(response)["field"] == "file"


def test_a_form_without_the_file_is_422_naming_it(client, headers) -> None:
    response = client.post("/api/files", headers=headers, data={"other": "x"})

    assert response.status_code == 422
    assert _error(response)["field"] == "file"


def test_uploading_needs_a_signed_in_user(tmp_path, client) -> None:
    response = client.post("/api/files", files={"file": ("a.pdf", pdf_bytes(), "application/pdf")})

    assert response.status_code == 401
    assert kept(tmp_path) == []


@pytest.mark.parametrize("role", ["approver", "admin", "auditor"])
def test_only_applicants_and_verifiers_upload(tmp_path, client, cluster, role: str) -> None:
    staff = sign_in(client, cluster, f"{role}@kesbangpol.go.id", role=role)
    response = upload(client, staff, pdf_bytes())
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert kept(tmp_path) == []


def test_json_bodies_are_limited_too(client) -> None:
    response = client.post(
        "/api/accounts", json={"email": "a@b.id", "password": "x" * (2 * 1024 * 1024), "full_name": "Siti"}
    )

    assert response.status_code == 413
    assert _error(response)["code"] == "too_large"


def test_a_streamed_body_without_length_stops_at_the_limit(client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"email": "a@b.id", "password": "'
        for _ in range(64):
            yield b"x" * 65536
        yield b'", "full_name": "Siti"}'

    response = client.post("/api/accounts", content=chunks(), headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert _error(response) == {
        "code": "too_large",
        "message": "the request body is larger than the limit of 1 MB",
        "message_id": "Isi permintaan melebihi batas 1 MB.",
        "field": "body",
    }
