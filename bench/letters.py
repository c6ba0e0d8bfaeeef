"""(d) Letters per second: the renderer (a letter's content in, a checked one-page PDF out) against raw
typst compiles of the same letters, in the same run.

Two raw baselines, each typst's work and nothing else, from each letter's inputs made beforehand (its
data and its QR symbol):
- `typst.compile`, the library's one call (a compiler made per letter, the fonts found and read again):
  the baseline the issue measured the renderer against (0.55 then);
- a `typst.Compiler` that already has the fonts: the floor no renderer can pass, since the renderer does
  that compile and also makes the QR symbol and the data, and counts the pages.
All render letters of the same shape (own number, own verification address), never the very same letter
— typst would serve a repeat from its cache — and they alternate in rounds so that the machine's load
weighs on each.

    .venv/bin/python -m bench.letters [--letters 200]
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from pathlib import Path

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


def _prepared(contents: list[LetterContent]) -> list[tuple[Path, dict[str, str], datetime.datetime]]:
    return [(TEMPLATES / f"{c.template}.typ", template_inputs(c), creation_time(c)) for c in contents]


def raw_compile(contents: list[LetterContent]) -> Callable[[int], object]:
    """Compile the ``index``-th of ``contents`` with a compiler that has the fonts, inputs made already."""
    compiler = typst.Compiler(root=TEMPLATES, font_paths=list(fonts.font_dirs()), ignore_system_fonts=True)
    prepared = _prepared(contents)

    def compile_one(index: int) -> object:
        main, inputs, timestamp = prepared[index]
        return compiler.compile(input=main, sys_inputs=inputs, timestamp=timestamp)

    return compile_one


def one_call_compile(contents: list[LetterContent]) -> Callable[[int], object]:
    """Compile the ``index``-th of ``contents`` with `typst.compile`, inputs made already."""
    font_paths = [str(folder) for folder in fonts.font_dirs()]
    prepared = _prepared(contents)

    def compile_one(index: int) -> object:
        main, inputs, timestamp = prepared[index]
        return typst.compile(
            str(main),
            root=str(TEMPLATES),
            font_paths=font_paths,
            ignore_system_fonts=True,
            sys_inputs=inputs,
            timestamp=timestamp,
        )

    return compile_one


def letter_rates(count: int) -> tuple[Rate, Rate, Rate]:
    """(typst.compile, warmed typst compiler, renderer) over ``count`` letters each."""
    ours = letters(1, WARM_UP + count)
    contenders: dict[str, Callable[[int], object]] = {
        "one call": one_call_compile(letters(200_001, WARM_UP + count)),
        "warmed": raw_compile(letters(100_001, WARM_UP + count)),
        "ours": lambda index: render_letter(ours[index]),
    }
    for index in range(WARM_UP):
        for render in contenders.values():
            render(index)
    spent = dict.fromkeys(contenders, 0.0)
    for start in range(WARM_UP, WARM_UP + count, ROUND):
        turn = range(start, min(start + ROUND, WARM_UP + count))
        for name, render in contenders.items():
            began = time.perf_counter()
            for index in turn:
                render(index)
            spent[name] += time.perf_counter() - began
    return Rate(count, spent["one call"]), Rate(count, spent["warmed"]), Rate(count, spent["ours"])


def report(one_call: Rate, raw: Rate, ours: Rate) -> list[str]:
    return [
        "| what | letters | seconds | per second |",
        "|---|---:|---:|---:|",
        f"| raw: `typst.compile` of the same template, inputs made (the issue's baseline) | {one_call.count} "
        f"| {one_call.seconds:.2f} | {one_call.per_second:.1f} |",
        f"| raw: a typst compiler with the fonts loaded, inputs made (the floor) | {raw.count} "
        f"| {raw.seconds:.2f} | {raw.per_second:.1f} |",
        f"| render one-page SKM letter with QR and page check, one thread | {ours.count} | {ours.seconds:.2f} "
        f"| {ours.per_second:.1f} |",
        "",
        f"The renderer reaches {ours.per_second / one_call.per_second:.2f} × `typst.compile` and "
        f"{ours.per_second / raw.per_second:.2f} × the warmed compiler (QR symbol, data and page count are the rest).",
    ]


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=200)
    print("\n".join(report(*letter_rates(parser.parse_args().letters))))


if __name__ == "__main__":
    main()
