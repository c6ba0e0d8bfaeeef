"""The workflow catalogue: a region's profile and its workflow definitions, read from TOML and validated.

Layout of a region folder (``SATU_REGION_DIR``; the default is ``regions/balikpapan``)::

    region.toml             the region profile (office, signer, time zone, days off)
    workflows/<key>.toml    one definition per service

The default region's definitions are the base; another region's folder holds only what it changes
(a ``workflows/skm.toml`` with ``sla_days = 10`` and nothing else is a complete override), merged key
by key onto the base. A bad file stops the start with one line naming the file and the field.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from contracts.events import CASE_EVENT_TYPES
from contracts.forms import FORMS
from contracts.workflow import RegionProfile, Workflow
from regions import DEFAULT_REGION_DIR

M = TypeVar("M", bound=BaseModel)


class CatalogueError(Exception):
    """A region or workflow file is missing, malformed or inconsistent (the message is one line)."""


@dataclass(frozen=True)
class Catalogue:
    region: RegionProfile
    workflows: dict[str, Workflow]

    def workflow(self, key: str) -> Workflow | None:
        return self.workflows.get(key)


def load_catalogue(region_dir: Path | None = None) -> Catalogue:
    folder = region_dir or DEFAULT_REGION_DIR
    region = _validated(folder / "region.toml", _merged("region.toml", folder), RegionProfile)
    names = {path.name for base in {DEFAULT_REGION_DIR, folder} for path in (base / "workflows").glob("*.toml")}
    workflows: dict[str, Workflow] = {}
    for name in sorted(names):
        path = folder / "workflows" / name
        workflow = _validated(path, _merged(f"workflows/{name}", folder), Workflow)
        if workflow.key != path.stem:
            raise CatalogueError(f"{path}: key: '{workflow.key}' must equal the file name '{path.stem}'")
        _check_forms(path, workflow)
        _check_events(path, workflow)
        workflows[workflow.key] = workflow
    if not workflows:
        raise CatalogueError(f"{folder / 'workflows'}: no workflow definitions found")
    return Catalogue(region=region, workflows=workflows)


def _merged(relative: str, folder: Path) -> dict[str, Any]:
    """The default region's file with the region's own file of the same name merged over it."""
    base_file, own_file = DEFAULT_REGION_DIR / relative, folder / relative
    data = _read(base_file) if base_file.exists() else {}
    if own_file != base_file and own_file.exists():
        data = _deep_merge(data, _read(own_file))
    return data


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise CatalogueError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise CatalogueError(f"{path}: cannot be read: {error.strerror}") from None


def _deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _validated(path: Path, data: dict[str, Any], model: type[M]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(file)"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise CatalogueError(f"{path}: {where}: {message}") from None


def _check_forms(path: Path, workflow: Workflow) -> None:
    named = [("filing.form", workflow.filing.form)]
    named += [(f"actions.{name}.form", action.form) for name, action in workflow.actions.items()]
    for where, form in named:
        if form is not None and form not in FORMS:
            raise CatalogueError(f"{path}: {where}: unknown form '{form}' (known: {', '.join(sorted(FORMS))})")


def _check_events(path: Path, workflow: Workflow) -> None:
    named = [("filing.event", workflow.filing.event)]
    named += [(f"actions.{name}.event", action.event) for name, action in workflow.actions.items()]
    for where, event_type in named:
        if event_type not in CASE_EVENT_TYPES:
            raise CatalogueError(f"{path}: {where}: unknown integration event type '{event_type}'")
