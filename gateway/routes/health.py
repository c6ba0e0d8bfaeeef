from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from gateway.deps import SettingsDep
from infra.part_status import STATUS_FILE, read_status

router = APIRouter(tags=["health"])


class PartState(BaseModel):
    state: str  # "running" or "restarting"
    pid: int | None = None
    restarts: int = 0
    last_exit: int | None = None


class Health(BaseModel):
    status: str
    parts: dict[str, PartState] | None = None


@router.get("/health", response_model=Health, response_model_exclude_none=True)
def health(settings: SettingsDep) -> dict[str, Any]:
    """Liveness of the gateway process (does not call the services); under `satu run`, also each part's
    state as its supervisor last saw it (running, or restarting after an exit).

    Response: `{"status": "ok", "parts": {"registry": {"state": "running", "restarts": 0, ...}, ...}}`
    """
    return {"status": "ok", "parts": read_status(settings.var_dir / STATUS_FILE)}
