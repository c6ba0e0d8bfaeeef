"""Uploads are inspected in worker processes with limits: a page bomb or a PDF with active content is
refused naming the file, a slow file is given up on, and the gateway never parses the file itself
(issue 14, point 7)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfWriter
from pypdf.actions import JavaScript

from gateway.inspector import Inspector
from gateway.pdf_inspection import MAX_PAGES, inspect_pdf
from tests.support.factories import pdf_bytes


def page_bomb(pages: int) -> bytes:
    """A small file whose page tree claims (and holds) ``pages`` pages, all the same empty page."""
    kids = b" ".join(b"3 0 R" for _ in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Count %d /Kids [" % pages + kids + b"] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.7\n")
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def with_javascript() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_open_action(JavaScript("app.alert('Dokumen ini aman');"))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def with_attachment() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_attachment("surat.exe", b"MZ not really a program")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def saved(tmp_path: Path, content: bytes) -> str:
    path = tmp_path / "upload.pdf"
    path.write_bytes(content)
    return str(path)


def test_a_normal_pdf_is_accepted_with_its_page_count(tmp_path: Path) -> None:
    verdict = inspect_pdf(saved(tmp_path, pdf_bytes(3)))
    assert verdict.problem is None and verdict.pages == 3


def test_a_page_bomb_is_refused_by_its_count_without_walking_its_pages(tmp_path: Path) -> None:
    verdict = inspect_pdf(saved(tmp_path, page_bomb(95_000)))
    assert verdict.kind == "too_many_pages" and verdict.pages == 95_000
    assert f"at most {MAX_PAGES}" in str(verdict.problem)


@pytest.mark.parametrize(
    ("content", "named"),
    [(with_javascript, ("/JS", "/JavaScript", "/OpenAction")), (with_attachment, ("/EmbeddedFile", "/EmbeddedFiles"))],
)
def test_active_content_is_refused_and_named(tmp_path: Path, content, named: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    verdict = inspect_pdf(saved(tmp_path, content()))
    assert verdict.kind == "active_content" and any(f"({name})" in str(verdict.problem) for name in named)


def test_not_a_pdf(tmp_path: Path) -> None:
    assert inspect_pdf(saved(tmp_path, b"\x89PNG\r\n\x1a\n" + b"0" * 100)).kind == "not_pdf"
    assert inspect_pdf(saved(tmp_path, b"%PDF-1.7\nnothing else")).kind == "not_pdf"


@pytest.fixture
def inspector() -> Iterator[Inspector]:
    inspector = Inspector(workers=1)
    yield inspector
    inspector.close()


def test_the_worker_process_gives_the_same_verdicts(tmp_path: Path, inspector: Inspector) -> None:
    assert inspector.inspect(saved(tmp_path, page_bomb(95_000))).kind == "too_many_pages"
    assert inspector.inspect(saved(tmp_path, pdf_bytes(2))).pages == 2


def test_a_file_that_takes_too_long_is_refused_and_the_worker_replaced(tmp_path: Path, inspector: Inspector) -> None:
    path = saved(tmp_path, pdf_bytes(1))
    inspector.inspect(path)  # warm: the worker is up
    endless = tmp_path / "endless.pdf"
    os.mkfifo(endless)  # reading it waits for a writer that never comes: an inspection that never ends
    inspector.timeout = 1.0
    assert inspector.inspect(str(endless)).kind == "too_complex"
    inspector.timeout = 30
    assert inspector.inspect(path).problem is None  # a fresh worker takes the next file
