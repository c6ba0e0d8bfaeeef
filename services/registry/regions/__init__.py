"""Regional reference data (kecamatan and kelurahan): configuration, not code."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from contracts.errors import InvalidInput

DEFAULT_REGION_FILE = Path(__file__).with_name("balikpapan.json")


@lru_cache(maxsize=4)
def load_region(path: Path = DEFAULT_REGION_FILE) -> dict[str, list[str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: list(kelurahan) for name, kelurahan in data["kecamatan"].items()}


def check_address(kecamatan: str, kelurahan: str, path: Path = DEFAULT_REGION_FILE) -> None:
    region = load_region(path)
    if kecamatan not in region:
        raise InvalidInput(f"unknown kecamatan '{kecamatan}'", field="address.kecamatan")
    if kelurahan not in region[kecamatan]:
        raise InvalidInput(f"kelurahan '{kelurahan}' is not in kecamatan '{kecamatan}'", field="address.kelurahan")
