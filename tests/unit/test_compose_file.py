"""docker-compose.yml and the Dockerfile, checked against the code (no Docker engine runs here)."""

from __future__ import annotations

import importlib
import json
import re
import stat
from pathlib import Path

import pytest
import yaml
from nameko.cli.main import IMPLICIT_ENV_VAR_MATCHER, env_var_constructor

from infra import storage
from infra.settings import SECRETS_DIR_VARIABLE, Settings
from infra.topology import EVENT_STORES, SERVICES, EventStore, Service
from ops.broker_users import broker_parts, user_name
from ops.compose_secrets import write_compose_secrets
from ops.launcher import GATEWAY_SERVER
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
    infrastructure = {"rabbitmq", "postgres", "redis", "mailpit"}
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
    # The same server as `satu run`'s (uvloop and httptools, named so a missing one fails the start).
    assert command[command.index("--no-access-log") :] == ["--no-access-log", *GATEWAY_SERVER]


def test_environment_names_only_real_settings_and_holds_no_secret() -> None:
    environment = COMPOSE["x-satu-env"]
    fields = {f"SATU_{name.upper()}" for name in Settings.model_fields}
    assert set(environment) <= fields | {SECRETS_DIR_VARIABLE}
    assert environment["SATU_SMTP_HOST"] in SERVICES_IN_COMPOSE
    assert environment["SATU_ENV"] == "production"  # weak keys and plain AMQP to the broker are refused
    text = (ROOT / "docker-compose.yml").read_text()
    for secret in ("SATU_SECRET_KEY", "SATU_AMQP_URI", "SATU_DATABASE_URL", "POSTGRES_PASSWORD:", "guest"):
        assert secret not in text  # all of them come from files in ./secrets, none has a default


PARTS = [*(service.name for service in SERVICES), *(store.relay for store in EVENT_STORES), "gateway"]


@pytest.mark.parametrize("part", PARTS)
def test_each_part_is_given_its_own_broker_user_and_key_and_no_one_elses(part: str) -> None:
    given = {
        entry["target"]: entry["source"] for entry in SERVICES_IN_COMPOSE[part]["secrets"] if isinstance(entry, dict)
    }
    assert given["satu_amqp_uri"] == f"{part}_amqp" and given["private_key"] == f"{part}_key"
    assert COMPOSE["secrets"][f"{part}_key"]["file"] == f"./secrets/keys/{part}.key"
    assert COMPOSE["secrets"][f"{part}_amqp"]["file"] == f"./secrets/amqp/{part}"
    others = [name for name in PARTS if name != part]
    assert not any(source.startswith(f"{other}_") for other in others for source in given.values())
    assert ("satu_secret_key" in given) == (part == "gateway")  # the session key is the gateway's alone


def test_the_secrets_command_writes_every_file_compose_reads(tmp_path: Path) -> None:
    written = tmp_path / "secrets"
    write_compose_secrets(written)
    for name, secret in COMPOSE["secrets"].items():
        assert (tmp_path / secret["file"]).is_file(), name
    assert (written / "amqp" / "registry").read_text().startswith("amqps://satu-registry:")
    assert "@rabbitmq:5671/" in (written / "amqp" / "gateway").read_text()
    assert "@postgres:5432/satu" in (written / "database_url").read_text()
    assert stat.S_IMODE(written.stat().st_mode) == 0o700  # the folder is the owner's alone on the host
    conf = (written / "rabbitmq" / "rabbitmq.conf").read_text()
    assert "listeners.tcp = none" in conf and "load_definitions = /etc/rabbitmq/satu/definitions.json" in conf
    broker = json.loads((written / "rabbitmq" / "definitions.json").read_text())
    assert {user["name"] for user in broker["users"]} == {user_name(part.name, "/") for part in broker_parts()}
    assert all("password" not in user for user in broker["users"])  # hashes only
    assert write_compose_secrets(written) == []  # kept: running it again changes nothing


def test_the_broker_and_mail_catcher_answer_this_host_only_and_the_demo_is_opt_in() -> None:
    assert all(port.startswith("127.0.0.1:") for port in SERVICES_IN_COMPOSE["rabbitmq"]["ports"])
    assert all(port.startswith("127.0.0.1:") for port in SERVICES_IN_COMPOSE["mailpit"]["ports"])
    assert SERVICES_IN_COMPOSE["seed"]["profiles"] == ["demo"]
    assert "/etc/rabbitmq/satu" in SERVICES_IN_COMPOSE["rabbitmq"]["environment"]["RABBITMQ_CONFIG_FILE"]


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


def test_the_database_admits_three_replicas_of_every_service_at_their_busiest() -> None:
    """What `--scale <service>=3` asks of PostgreSQL: per replica, its read models' pool (a connection per worker
    and a burst beyond) and, for a service with an event store, that store's pool at its largest; a few per relay
    (its store's, its lock, its LISTEN, its position); a few for an operator's `satu` commands."""
    settings = Settings()
    replicas = 3
    read_models = settings.max_workers + storage.OVERFLOW_CONNECTIONS
    stores = {store.name for store in EVENT_STORES}
    event_store = storage.WORKERS.kept + storage.WORKERS.extra
    busiest = sum(replicas * (read_models + (event_store if s.name in stores else 0)) for s in SERVICES)
    relay_store = storage.ONE_THREAD.kept + storage.ONE_THREAD.extra
    busiest += (relay_store + 3) * len(EVENT_STORES) + 10
    command = SERVICES_IN_COMPOSE["postgres"]["command"]
    max_connections = int(command[command.index("-c") + 1].removeprefix("max_connections="))

    assert busiest <= max_connections - 3  # PostgreSQL keeps 3 for its superuser


def test_a_services_workers_and_its_read_models_connections_are_one_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """nameko's max_workers and the read models' pool (infra/storage.py) both follow SATU_MAX_WORKERS, with the
    same default: a pool smaller than the workers opens and closes connections again and again."""

    class NamekoLoader(yaml.SafeLoader):
        """nameko's reading of ${VAR:default} (nameko.cli.main), on a loader of this test's own."""

    NamekoLoader.add_constructor("!env_var", env_var_constructor)
    NamekoLoader.add_implicit_resolver("!env_var", IMPLICIT_ENV_VAR_MATCHER, None)

    def max_workers() -> int:
        return yaml.load(NAMEKO_CONFIG.read_text(), Loader=NamekoLoader)["max_workers"]  # noqa: S506 (a SafeLoader)

    monkeypatch.delenv("SATU_MAX_WORKERS", raising=False)
    assert max_workers() == Settings().max_workers
    monkeypatch.setenv("SATU_MAX_WORKERS", "25")
    assert max_workers() == Settings().max_workers == 25
