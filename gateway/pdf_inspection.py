"""Is an uploaded file a PDF staff may open? Runs in a worker process (gateway/inspector.py), never in
the request path: a hostile file costs a worker's bounded CPU and memory, not the gateway's.

- The page count is the page tree's own `/Count`, read without flattening the tree (a file of
  95,000 empty pages once cost seconds of gateway CPU to count); more than MAX_PAGES is refused.
- Active content is refused: JavaScript, launch actions, embedded files, actions run on opening or on
  events (`/JavaScript`, `/JS`, `/Launch`, `/EmbeddedFiles`, `/OpenAction`, `/AA`, rich media, XFA).
  Every object of the file is looked at (compressed object streams too), up to MAX_OBJECTS.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject, NameObject

MAX_PAGES = 500
MAX_OBJECTS = 250_000
ACTIVE_KEYS = frozenset({"/JavaScript", "/JS", "/Launch", "/EmbeddedFiles", "/EmbeddedFile", "/OpenAction", "/AA",
                         "/RichMedia", "/XFA"})  # fmt: skip
ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/RichMediaExecute"})


@dataclass(frozen=True)
class Verdict:
    problem: str | None = None  # None: acceptable
    kind: str = ""  # "not_pdf" | "too_many_pages" | "active_content"
    pages: int = 0


def inspect_pdf(path: str) -> Verdict:
    with Path(path).open("rb") as handle:
        if handle.read(5) != b"%PDF-":
            return Verdict("only PDF documents are accepted", "not_pdf")
    try:
        reader = PdfReader(path, strict=False)
        pages = int(reader.trailer["/Root"]["/Pages"]["/Count"])  # type: ignore[index]
    except Exception:  # pypdf raises many kinds of errors on broken input; all mean "not a usable PDF"
        return Verdict("only PDF documents are accepted", "not_pdf")
    if pages < 1:
        return Verdict("only PDF documents are accepted", "not_pdf")
    if pages > MAX_PAGES:
        return Verdict(f"the PDF has {pages} pages; at most {MAX_PAGES} are accepted", "too_many_pages", pages)
    found = _active_content(reader)
    if found:
        return Verdict(f"the PDF contains active content ({found}); save it again without it", "active_content", pages)
    return Verdict(pages=pages)


def _active_content(reader: PdfReader) -> str | None:
    for seen, obj in enumerate(_objects(reader)):
        if seen > MAX_OBJECTS:
            return "too many objects to check"
        if not isinstance(obj, DictionaryObject):
            continue
        keys = ACTIVE_KEYS.intersection(obj.keys())
        if keys:
            return sorted(keys)[0]
        action = obj.get("/S")
        if isinstance(action, NameObject) and action in ACTIVE_ACTIONS:
            return str(action)
    return None


def _objects(reader: PdfReader) -> Iterator[Any]:
    """Every indirect object, including those packed in object streams, plus the document root."""
    yield reader.trailer["/Root"].get_object()
    numbers = [(number, generation) for generation, table in reader.xref.items() for number in table]
    numbers += [(number, 0) for number in reader.xref_objStm]
    for number, generation in numbers:
        try:
            yield reader.get_object(IndirectObject(number, generation, reader))
        except Exception:  # noqa: S112 - a broken object holds nothing a viewer would run either
            continue
