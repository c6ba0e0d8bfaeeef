"""(d) Letters per second: the renderer (a letter's content in, a checked one-page PDF out) against a raw
typst compile of the same letters, in the same run.

Raw baseline: the same template compiled by a `typst.Compiler` that already has the fonts, from each
letter's inputs made beforehand (its data and its QR symbol): typst's own work and nothing else. The
renderer does that and also makes the QR symbol and the data, and counts the pages. Both render letters
of the same shape (own number, own verification address), never the very same letter — typst would
serve a repeat from its cache — and they alternate in rounds so that the machine's load weighs on both.

    .venv/bin/python -m bench.letters [--letters 200]
"""

from __future__ import annotations

import time
from collections.abc import Callable

import typst

from bench.measure import Rate
from services.documents import fonts
from services.documents.letters import TEMPLATES, LetterContent, creation_time, render_letter, template_inputs
from tests.support.factories import letter_content

ROUND = 10  # letters per turn
WARM_UP = 5  # letters each before the measured rounds (fonts, templates)
BASE_URL = "http://127.0.0.1:8000"  # the default public address: the shape of a local deployment's


def letters(first: int, count: int) -> list[LetterContent]:
    """``count`` SKM letters numbered from ``first``, each with its own verification address."""
    return [
        letter_content(number=f"SKM/{n:04d}/KESBANGPOL/2026", verification_url=f"{BASE_URL}/verify/{n:032x}")
        for n in range(first, first + count)
    ]


def raw_compile(contents: list[LetterContent]) -> Callable[[int], object]:
    """Compile the ``index``-th of ``contents`` with a compiler that has the fonts, inputs made already."""
    compiler = typst.Compiler(root=TEMPLATES, font_paths=list(fonts.font_dirs()), ignore_system_fonts=True)
    prepared = [(TEMPLATES / f"{c.template}.typ", template_inputs(c), creation_time(c)) for c in contents]

    def compile_one(index: int) -> object:
        main, inputs, timestamp = prepared[index]
        return compiler.compile(input=main, sys_inputs=inputs, timestamp=timestamp)

    return compile_one


def letter_rates(count: int) -> tuple[Rate, Rate]:
    """(raw typst compile, renderer) over ``count`` letters each."""
    ours = letters(1, WARM_UP + count)
    raw = raw_compile(letters(100_001, WARM_UP + count))
    for index in range(WARM_UP):
        render_letter(ours[index])
        raw(index)
    spent = {"raw": 0.0, "ours": 0.0}
    for start in range(WARM_UP, WARM_UP + count, ROUND):
        turn = range(start, min(start + ROUND, WARM_UP + count))
        began = time.perf_counter()
        for index in turn:
            raw(index)
        spent["raw"] += time.perf_counter() - began
        began = time.perf_counter()
        for index in turn:
            render_letter(ours[index])
        spent["ours"] += time.perf_counter() - began
    return Rate(count, spent["raw"]), Rate(count, spent["ours"])


def report(raw: Rate, ours: Rate) -> list[str]:
    return [
        "| what | letters | seconds | per second |",
        "|---|---:|---:|---:|",
        f"| raw: typst compile of the same template, fonts loaded, inputs made (baseline) | {raw.count} "
        f"| {raw.seconds:.2f} | {raw.per_second:.1f} |",
        f"| render one-page SKM letter with QR and page check, one thread | {ours.count} | {ours.seconds:.2f} "
        f"| {ours.per_second:.1f} |",
        "",
        f"The renderer reaches {ours.per_second / raw.per_second:.2f} × the raw compile.",
    ]


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=200)
    print("\n".join(report(*letter_rates(parser.parse_args().letters))))


if __name__ == "__main__":
    main()
