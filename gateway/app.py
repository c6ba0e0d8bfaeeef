"""The gateway application: the only HTTP entry. All wiring lives here.

Run with ``uvicorn --factory gateway.app:create_app``.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from gateway import docs, errors, openapi
from gateway.csrf import CrossSiteGuard
from gateway.headers import SecurityHeaders
from gateway.inspector import Inspector
from gateway.limits import BodyLimit, Limit
from gateway.pages import Words
from gateway.ratelimit import limiter_for
from gateway.routes import (
    accounts,
    actions,
    cases,
    dashboard,
    decisions,
    downloads,
    files,
    health,
    organisations,
    pages,
    verify,
)
from gateway.rpc import RpcClients
from gateway.scanner import Scanner
from gateway.upload_sweep import SweepTimer
from gateway.uploads import UploadStore
from infra.catalogue import load_catalogue
from infra.private_files import keep_files_private
from infra.settings import Settings, load_settings

JSON_BODY_LIMIT = 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the uploaded file

DESCRIPTION = """JSON API of Satu Ormas: accounts, organisations (ormas), cases of the Kesbangpol
services and their letters. Sign in with `POST /api/session`, then send the token as
`Authorization: Bearer <token>` (browsers get the `satu_session` cookie). Every error is
`{"error": {"code": "...", "message": "...", "message_id": "...", "field": "..." | null}}`: a stable
code, the message in English and in Bahasa Indonesia (`message_id`, the one to show people), and the
input at fault. Each operation lists the errors it can give."""


def create_app(settings: Settings | None = None, rpc: RpcClients | None = None) -> FastAPI:
    keep_files_private()
    settings = settings or load_settings()
    problem = settings.session_key_problem()
    if problem:
        print(problem, file=sys.stderr)
        raise SystemExit(2)
    clients = rpc or RpcClients.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        sweeper = SweepTimer(app.state.uploads, settings.upload_unattached_hours)
        sweeper.start()
        try:
            yield
        finally:
            sweeper.stop()
            clients.close()
            inspector.close()

    app = FastAPI(
        title="Satu Ormas API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by gateway.docs from local files, not from a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.rpc = clients
    # The pages' words (service and status labels) come from the region's workflow definitions.
    app.state.words = Words(load_catalogue(settings.region_dir))
    inspector = Inspector()  # upload checks run in worker processes with limits, not in the request path
    app.state.limiter = limiter_for(settings.redis_url)  # shared by the replicas when Redis is configured
    app.state.uploads = UploadStore(
        settings.var_dir / "uploads",
        settings.upload_max_bytes,
        inspector,
        quota_bytes=settings.upload_quota_bytes,
        scanner=Scanner(settings.upload_scanner),
    )
    errors.install(app)
    for module in (health, accounts, organisations, files, cases, actions, decisions, downloads, verify, pages):
        app.include_router(module.router)
    app.include_router(organisations.reference)
    app.include_router(dashboard.router)
    openapi.install(app)
    docs.install(app)
    upload = Limit(body_bytes=settings.upload_max_bytes + MULTIPART_OVERHEAD, stated_bytes=settings.upload_max_bytes)
    json_body = Limit(body_bytes=JSON_BODY_LIMIT, stated_bytes=JSON_BODY_LIMIT)
    app.add_middleware(BodyLimit, default=json_body, per_path={"/api/files": upload})
    app.add_middleware(CrossSiteGuard, settings=settings)
    app.add_middleware(SecurityHeaders, https=settings.public_base_url.startswith("https://"))
    return app


app = create_app  # ``uvicorn --factory gateway.app:app`` works too; nothing is built at import time
