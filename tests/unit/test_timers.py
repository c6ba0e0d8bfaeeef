"""A timer whose interval is a setting: the submissions service counts the dashboard's figures as soon as it
starts, then every SATU_DASHBOARD_REFRESH_SECONDS, read when the service starts (not when it was written)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from nameko.cli.run import import_service
from nameko.containers import ServiceContainer

from infra.settings import load_settings
from infra.timers import SettingsTimer
from services.submissions.service import SubmissionsService


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("SATU_VAR_DIR", str(tmp_path))
    load_settings.cache_clear()
    yield monkeypatch
    load_settings.cache_clear()


def _dashboard_timer(container: ServiceContainer) -> SettingsTimer:
    (timer,) = [entrypoint for entrypoint in container.entrypoints if entrypoint.method_name == "refresh_dashboard"]
    timer.setup()  # what the container does for each extension as it starts
    return timer


@pytest.mark.parametrize(("configured", "interval"), [(None, 60.0), ("15", 15.0)])
def test_the_dashboards_timer_fires_at_start_then_every_configured_interval(environment, configured, interval) -> None:
    if configured is not None:
        environment.setenv("SATU_DASHBOARD_REFRESH_SECONDS", configured)

    timer = _dashboard_timer(ServiceContainer(SubmissionsService, {"AMQP_URI": "memory://"}))  # never connects

    assert isinstance(timer, SettingsTimer) and (timer.interval, timer.eager) == (interval, True)


def test_nameko_run_finds_the_submissions_service_alone_in_its_module() -> None:
    """The dashboard's entrypoints are mixed in from another module: ``nameko run`` must not take them for a
    service of their own."""
    assert import_service("services.submissions.service") == [SubmissionsService]
