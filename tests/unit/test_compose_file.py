"""docker-compose.yml and the Dockerfile, checked against the code (no Docker engine runs here)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml

from infra.settings import Settings
from ops.service import NAMEKO_CONFIG, SERVICES
from ops.sources import SOURCE_NAMES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES_IN_COMPOSE = COMPOSE["services"]


@pytest.mark.parametrize("name", SERVICES)
def test_every_nameko_service_has_a_container_running_its_module(name: str) -> None:
    assert SERVICES_IN_COMPOSE[name]["command"] == ["python", "-m", "ops.service", name]
    module = importlib.import_module(f"services.{name}.service")
    assert any(getattr(obj, "name", None) == name for obj in vars(module).values() if isinstance(obj, type))
    assert NAMEKO_CONFIG.is_file()


@pytest.mark.parametrize("source", SOURCE_NAMES)
def test_every_event_store_has_exactly_one_relay_container(source: str) -> None:
    relays = [spec for spec in SERVICES_IN_COMPOSE.values() if spec.get("command") == ["satu", "relay", source]]
    assert len(relays) == 1


def test_the_gateway_container_serves_the_app_factory() -> None:
    command = SERVICES_IN_COMPOSE["gateway"]["command"]
    module_name, factory = command[command.index("--factory") + 1].split(":")
    assert callable(getattr(importlib.import_module(module_name), factory))
    assert "8000:8000" in SERVICES_IN_COMPOSE["gateway"]["ports"]


def test_environment_names_only_real_settings_and_points_at_the_containers() -> None:
    environment = COMPOSE["x-satu-env"]
    fields = {f"SATU_{name.upper()}" for name in Settings.model_fields}
    assert set(environment) <= fields
    assert "@rabbitmq:5672" in environment["SATU_AMQP_URI"]
    assert "@postgres:5432" in environment["SATU_DATABASE_URL"]
    assert environment["SATU_SMTP_HOST"] in SERVICES_IN_COMPOSE


def test_dependencies_exist_and_wait_for_healthy_infrastructure() -> None:
    for name, spec in SERVICES_IN_COMPOSE.items():
        for dependency, condition in (spec.get("depends_on") or {}).items():
            assert dependency in SERVICES_IN_COMPOSE, f"{name} depends on unknown {dependency}"
            assert "healthcheck" in SERVICES_IN_COMPOSE[dependency]
            assert condition == {"condition": "service_healthy"}


def test_the_image_contains_every_package_the_project_ships() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\w+) ", dockerfile, flags=re.MULTILINE))
    pyproject = (ROOT / "pyproject.toml").read_text()
    packages = set(re.findall(r'"(\w+)\*"', pyproject))
    assert packages and packages <= copied
    assert "requirements.lock" in dockerfile
