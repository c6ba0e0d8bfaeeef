from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness of the gateway process (does not call the services).

    Response: `{"status": "ok"}`
    """
    return {"status": "ok"}
