"""The HTTP server: health check now; payment and chat webhooks mount here as they land."""

from __future__ import annotations

import contextlib

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.container import Container
from bot.scheduler import make_scheduler

log = structlog.get_logger(__name__)


def create_app(container: Container, *, run_scheduler: bool = True) -> Starlette:
    async def healthz(_: Request) -> JSONResponse:
        try:
            await container.db.ping()
        except Exception as exc:
            log.error("healthz.database_down", error=str(exc))
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        scheduler = make_scheduler(container) if run_scheduler else None
        if scheduler:
            scheduler.start()
        log.info("http.started", scheduler=bool(scheduler))
        try:
            yield
        finally:
            if scheduler:
                scheduler.shutdown(wait=False)
            await container.close()

    return Starlette(routes=[Route("/healthz", healthz)], lifespan=lifespan)
