"""nameko's timer with its interval taken from the settings when the service starts.

``@timer(interval=60)`` fixes the interval when the class is defined, before any setting is read; an
interval an operator sets (``SATU_DASHBOARD_REFRESH_SECONDS``) is read in ``setup()``, as the providers
read theirs.
"""

from __future__ import annotations

from typing import Any

from nameko.timer import Timer

from infra.settings import load_settings


class SettingsTimer(Timer):
    """Fires as soon as the service has started, then every ``Settings.<setting>`` seconds."""

    def __init__(self, setting: str, **kwargs: Any) -> None:
        super().__init__(interval=None, eager=True, **kwargs)
        self.setting = setting

    def setup(self) -> None:
        self.interval = float(getattr(load_settings(), self.setting))


timer_every = SettingsTimer.decorator
