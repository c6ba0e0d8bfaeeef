"""The workflow catalogue: the shipped definitions load, a region overrides values by file, and a bad
file stops the start with one line naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.workflow import ClockEffect, Need
from infra.catalogue import CatalogueError, load_catalogue


def write(folder: Path, relative: str, text: str) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_region_defines_skm_and_half_yearly_reports() -> None:
    catalogue = load_catalogue()
    assert catalogue.region.name == "Kota Balikpapan" and catalogue.region.timezone_label == "WITA"
    skm, report = catalogue.workflows["skm"], catalogue.workflows["report"]
    assert skm.states["revision_requested"].clock is ClockEffect.PAUSED
    assert skm.states["on_hold"].clock is ClockEffect.PAUSED
    assert skm.actions["forward"].requires_done == ["record_field_visit"]
    assert Need.REASON in skm.actions["hold"].needs
    assert skm.outputs["letter"].number(7, 2026) == "SKM/0007/KESBANGPOL/2026"
    assert report.filing.one_per == ["organisation", "period"]
    assert [period.key for period in report.deadline.periods] == ["S1", "S2"]  # type: ignore[union-attr]
    assert report.states["accepted"].output == "receipt"


def test_a_region_overrides_single_values_without_copying_the_definition(tmp_path: Path) -> None:
    write(
        tmp_path,
        "region.toml",
        'key = "tebo"\nname = "Kabupaten Tebo"\ntimezone = "Asia/Jakarta"\ntimezone_label = "WIB"\n',
    )
    write(
        tmp_path,
        "workflows/skm.toml",
        'sla_days = 10\n[states.approved]\nlabel = "Terbit"\n[outputs.letter]\ntitle = "SURAT TANDA TERIMA LAPOR"\n',
    )
    catalogue = load_catalogue(tmp_path)
    skm = catalogue.workflows["skm"]
    assert catalogue.region.name == "Kabupaten Tebo" and catalogue.region.timezone == "Asia/Jakarta"
    assert skm.sla_days == 10 and skm.states["approved"].label == "Terbit"
    assert skm.outputs["letter"].title == "SURAT TANDA TERIMA LAPOR"
    assert skm.states["approved"].final and skm.outputs["letter"].register_name == "SKM"  # the rest is kept
    assert "report" in catalogue.workflows


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("sla_days = 0\n", "sla_days"),
        ("sla_dayz = 10\n", "sla_dayz"),  # a misspelt key is an error, not silently ignored
        ('[actions.forward]\nto = "forwardd"\n', "(file)"),
        ('[actions.forward]\nroles = ["kepala"]\n', "actions.forward.roles.0"),
        ('[outputs.letter]\nnumber_format = "{nomor}/{year}"\n', "outputs.letter"),
        ("sla_days = \n", None),  # not TOML at all
    ],
)
def test_a_bad_definition_is_one_line_naming_the_file_and_the_field(
    tmp_path: Path, text: str, field: str | None
) -> None:
    path = write(tmp_path, "workflows/skm.toml", text)
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(tmp_path)
    message = str(refused.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    if field is not None:
        assert message.split(": ")[1] == field


def test_an_unknown_form_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    write(tmp_path, "workflows/report.toml", '[filing]\nform = "laporan"\n')
    with pytest.raises(
        CatalogueError, match=r"filing\.form: unknown form 'laporan' \(known: field_visit, half_year_report\)"
    ):
        load_catalogue(tmp_path)


def test_an_unknown_state_in_an_action_names_the_action(tmp_path: Path) -> None:
    write(tmp_path, "workflows/skm.toml", '[actions.forward]\nto = "diteruskan"\n')
    with pytest.raises(CatalogueError, match=r"actions\.forward: unknown state 'diteruskan'"):
        load_catalogue(tmp_path)
