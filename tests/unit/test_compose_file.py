"""docker-compose.yml and the Dockerfile, checked against the code (no Docker engine runs here)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml

from infra.settings import Settings
from infra.topology import EVENT_STORES, SERVICES, EventStore, Service
from ops.service import NAMEKO_CONFIG

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES_IN_COMPOSE = COMPOSE["services"]


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_every_nameko_service_has_a_container_running_its_module(service: Service) -> None:
    assert SERVICES_IN_COMPOSE[service.name]["command"] == ["python", "-m", "ops.service", service.name]
    module = importlib.import_module(service.module)
    classes = [obj for obj in vars(module).values() if isinstance(obj, type) and obj.__module__ == module.__name__]
    assert any(getattr(cls, "name", None) == service.name for cls in classes)
    assert NAMEKO_CONFIG.is_file()


@pytest.mark.parametrize("store", EVENT_STORES, ids=lambda store: store.name)
def test_every_event_store_has_exactly_one_relay_container(store: EventStore) -> None:
    relays = [
        name for name, spec in SERVICES_IN_COMPOSE.items() if spec.get("command") == ["satu", "relay", store.name]
    ]
    assert relays == [store.relay]


def test_the_containers_are_the_topology_and_the_infrastructure() -> None:
    parts = {service.name for service in SERVICES} | {store.relay for store in EVENT_STORES} | {"gateway"}
    jobs = {"upgrade", "seed"}
    infrastructure = {"rabbitmq", "postgres", "mailpit"}
    assert set(SERVICES_IN_COMPOSE) == parts | jobs | infrastructure


def test_every_part_waits_for_the_read_model_upgrade_to_finish() -> None:
    assert SERVICES_IN_COMPOSE["upgrade"]["command"] == ["satu", "upgrade"]
    assert SERVICES_IN_COMPOSE["upgrade"]["restart"] == "no"
    for name, spec in SERVICES_IN_COMPOSE.items():
        if spec.get("image") == "satu-ormas:latest" and name != "upgrade":
            assert spec["depends_on"]["upgrade"] == {"condition": "service_completed_successfully"}, name


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
            if SERVICES_IN_COMPOSE[dependency].get("restart") == "no":  # a one-shot job: wait for it to finish
                assert condition == {"condition": "service_completed_successfully"}
            else:
                assert "healthcheck" in SERVICES_IN_COMPOSE[dependency]
                assert condition == {"condition": "service_healthy"}


def test_the_image_contains_every_package_the_project_ships() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\w+) ", dockerfile, flags=re.MULTILINE))
    pyproject = (ROOT / "pyproject.toml").read_text()
    packages = set(re.findall(r'"(\w+)\*"', pyproject))
    assert packages and packages <= copied
    assert "requirements.lock" in dockerfile
