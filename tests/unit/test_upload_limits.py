"""What one account or address may upload: a rate per account and per address (429, the limit named),
a quota on files not attached to a case (413), removal of files never attached after a day, and an
optional virus scanner (a real scanner program, written by the test)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gateway.pending_uploads import PendingUploads
from ops.cli import app as satu
from tests.support.factories import pdf_bytes
from tests.support.gateway_client import InProcessRpc, make_app, sign_in, upload, uploaded

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.fixture
def client_with(tmp_path: Path, rpc: InProcessRpc) -> Iterator[Any]:
    clients: list[TestClient] = []

    def make(**settings: Any) -> TestClient:
        client = TestClient(make_app(tmp_path, rpc, **settings))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def pdfs(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "uploads").glob("*.pdf"))


def test_uploads_beyond_the_accounts_rate_are_429_naming_the_limit(client_with, cluster, tmp_path) -> None:
    client = client_with(upload_hits_per_account=2, upload_window_seconds=600)
    siti = sign_in(client, cluster, "siti@ormas.or.id", organisation="Perkumpulan Warga")
    uploaded(client, siti, pdf_bytes())
    uploaded(client, siti, pdf_bytes())
    refused = upload(client, siti, pdf_bytes())
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    error = refused.json()["error"]
    assert error["field"] == "file" and "uploads per account: at most 2 per 10 minutes" in error["message"]
    assert len(pdfs(tmp_path)) == 2  # nothing kept of the refused one
    budi = sign_in(client, cluster, "budi@ormas.or.id", organisation="Perkumpulan Lain")
    assert upload(client, budi, pdf_bytes()).status_code == 201  # another account is not held back


def test_uploads_beyond_the_addresss_rate_are_429_whatever_the_account(client_with, cluster) -> None:
    client = client_with(upload_hits_per_address=2)
    for name in ("a", "b"):
        uploaded(client, sign_in(client, cluster, f"{name}@ormas.or.id", organisation=f"Ormas {name}"), pdf_bytes())
    third = sign_in(client, cluster, "c@ormas.or.id", organisation="Ormas c")
    refused = upload(client, third, pdf_bytes())
    assert refused.status_code == 429 and "uploads per address" in refused.json()["error"]["message"]


def test_files_not_attached_count_against_a_quota_until_they_are_attached(client_with, cluster, tmp_path) -> None:
    document = pdf_bytes(pages=5)
    one = len(document)
    client = client_with(upload_quota_bytes=max(1024, one + one // 2))
    siti = sign_in(client, cluster, "siti@ormas.or.id", organisation="Perkumpulan Warga")
    first = uploaded(client, siti, document)
    refused = upload(client, siti, document)
    assert refused.status_code == 413 and refused.json()["error"]["field"] == "file"
    assert "not attached to a case would exceed the limit of" in refused.json()["error"]["message"]
    filed = client.post(
        "/api/cases", headers=siti, json={"service": "skm", "attachments": [{"file_id": first, "kind": "cover_letter"}]}
    )
    assert filed.status_code == 201, filed.text
    assert upload(client, siti, document).status_code == 201  # attached: it no longer counts


def test_files_never_attached_are_removed_after_a_day_and_attached_ones_kept(client_with, cluster, tmp_path) -> None:
    client = client_with()
    siti = sign_in(client, cluster, "siti@ormas.or.id", organisation="Perkumpulan Warga")
    forgotten, kept, recent = (uploaded(client, siti, pdf_bytes()) for _ in range(3))
    filed = client.post(
        "/api/cases", headers=siti, json={"service": "skm", "attachments": [{"file_id": kept, "kind": "cover_letter"}]}
    )
    assert filed.status_code == 201
    two_days_ago = time.time() - 2 * 86400
    for marker in (tmp_path / "uploads" / "pending").glob("*/*"):
        if marker.name in (forgotten, kept):  # the attached one has no marker any more
            os.utime(marker, (two_days_ago, two_days_ago))
    env = {"SATU_VAR_DIR": str(tmp_path), "SATU_ENV": "test"}
    result = CliRunner().invoke(satu, ["uploads-sweep"], env=env)
    assert result.exit_code == 0, result.output
    assert "removed 1 upload(s) never attached to a case" in result.output
    assert {path.stem for path in pdfs(tmp_path)} == {kept, recent}
    assert not (tmp_path / "uploads" / f"{forgotten}.json").exists()
    case = client.get(f"/api/cases/{filed.json()['id']}", headers=siti).json()
    assert (
        client.get(
            case["attachments"][0]["url"]
            if "url" in case["attachments"][0]
            else f"/api/cases/{case['id']}/attachments/{kept}",
            headers=siti,
        ).status_code
        == 200
    )


@pytest.fixture
def scanner(tmp_path: Path) -> str:
    """A scanner with clamdscan's exit codes: 1 when the file holds the EICAR test signature."""
    script = tmp_path / "scan.py"
    script.write_text(
        "import sys\n"
        "data = open(sys.argv[-1], 'rb').read()\n"
        "if b'BROKEN-SCANNER' in data: sys.exit(2)\n"
        f"sys.exit(1 if {EICAR!r} in data else 0)\n"
    )
    return f"{sys.executable} {script}"


def test_the_scanner_refuses_an_infected_file_and_keeps_a_clean_one(client_with, cluster, tmp_path, scanner) -> None:
    client = client_with(upload_scanner=scanner)
    siti = sign_in(client, cluster, "siti@ormas.or.id", organisation="Perkumpulan Warga")
    infected = upload(client, siti, pdf_bytes() + b"\n%" + EICAR + b"\n")
    assert infected.status_code == 422 and infected.json()["error"]["field"] == "file"
    assert "virus scanner" in infected.json()["error"]["message"]
    assert pdfs(tmp_path) == []
    assert upload(client, siti, pdf_bytes()).status_code == 201


def test_with_a_scanner_configured_nothing_is_kept_unscanned(client_with, cluster, tmp_path, scanner) -> None:
    client = client_with(upload_scanner=scanner)
    siti = sign_in(client, cluster, "siti@ormas.or.id", organisation="Perkumpulan Warga")
    failed = upload(client, siti, pdf_bytes() + b"\n%BROKEN-SCANNER\n")
    assert failed.status_code == 503 and pdfs(tmp_path) == []


def test_a_file_attached_by_another_request_meanwhile_is_no_error_to_hold(tmp_path, monkeypatch) -> None:
    """Two requests naming the same upload at once (two tabs): the first one's release removes the marker
    between the second one finding it and touching it. Seen as a 503 under load; the file is attached either
    way, so there is nothing to hold."""
    pending = PendingUploads(tmp_path)
    pending.add("siti", "a" * 32, 1234)
    pending.release("siti", ["a" * 32])  # the other request's filing was accepted
    monkeypatch.setattr(Path, "exists", lambda _path: True)  # ... just after this request looked
    pending.hold("siti", ["a" * 32])
    assert pending.usage("siti") == 0
