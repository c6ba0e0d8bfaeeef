"""The case page speaks the region's words: service and status labels from the workflow definitions
(one vocabulary with GET /api/workflows and the mails), and the service-level clock in Bahasa."""

from __future__ import annotations

from pathlib import Path

from gateway.pages import Words, case_page_context, sla_summary
from infra.catalogue import load_catalogue

CASE = {
    "id": "0b9e0000-0000-4000-8000-000000000001",
    "reference": "SKM-2026-ABCD1234",
    "service": "skm",
    "status": "on_hold",
    "organisation_name": "Perkumpulan Pemuda Peduli",
    "attachments": [{"kind": "field_report", "filename": "ba.pdf", "size": 2048, "file_id": "a" * 32}],
    "assignee": {"id": "u-1", "role": "approver", "name": "Kabid Poldagri"},
    "sla": {"sla_days": 15, "days_used": 2.5, "days_left": 12.5, "due_at": None, "running": False, "overdue": False},
}
TIMELINE = [{"status": "forwarded", "at": "2026-11-27T02:00:00+00:00", "actor_role": "verifier"}]


def test_labels_come_from_the_definitions() -> None:
    context = case_page_context(CASE, TIMELINE, "Asia/Makassar", Words(load_catalogue()))
    assert context["service_name"] == "Surat Keterangan Melapor"
    assert context["status_label"] == "Ditangguhkan untuk evaluasi"
    assert context["timeline"][0]["status"] == "Diteruskan ke kepala bidang"
    assert context["attachments"][0]["label"] == "Berita acara verifikasi lapangan"
    assert context["assignee"] == "Kabid Poldagri"
    assert context["sla"] == {
        "limit": 15,
        "used": "2,5",
        "left": "12,5",
        "due": None,
        "running": False,
        "overdue": False,
    }


def test_a_region_renaming_a_state_renames_it_on_the_page(tmp_path: Path) -> None:
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "skm.toml").write_text('[states.on_hold]\nlabel = "Sedang dievaluasi"\n')
    context = case_page_context(CASE, TIMELINE, "Asia/Makassar", Words(load_catalogue(tmp_path)))
    assert context["status_label"] == "Sedang dievaluasi"


def test_a_running_clock_shows_its_due_moment_in_local_time() -> None:
    sla = {
        "sla_days": 15,
        "days_used": 1,
        "days_left": 14,
        "due_at": "2026-12-18T01:00:00+00:00",
        "running": True,
        "overdue": False,
    }
    assert sla_summary(sla, "Asia/Makassar")["due"] == "18 Desember 2026 09:00 WITA"  # type: ignore[index]
    assert sla_summary({"sla_days": None}, "Asia/Makassar") is None
