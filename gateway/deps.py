"""What every route may ask for: the settings, the RPC clients and the upload store of this app.

Dependencies that do not block are ``async def``: FastAPI runs a plain ``def`` dependency in the
threadpool, a thread hand-off per dependency per request (27% of the gateway's CPU per filing, measured).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gateway.ratelimit import Limiter
from gateway.rpc import RpcClients
from gateway.uploads import UploadStore
from infra.settings import Settings


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_rpc(request: Request) -> RpcClients:
    return request.app.state.rpc


async def get_uploads(request: Request) -> UploadStore:
    return request.app.state.uploads


async def get_limiter(request: Request) -> Limiter:
    return request.app.state.limiter


def client_address(request: Request) -> str:
    """Who a request comes from, for per-address limits (the peer; a proxy in front must be trusted to set it)."""
    return request.client.host if request.client else "unknown"


SettingsDep = Annotated[Settings, Depends(get_settings)]
Rpc = Annotated[RpcClients, Depends(get_rpc)]
Uploads = Annotated[UploadStore, Depends(get_uploads)]
Limits = Annotated[Limiter, Depends(get_limiter)]
