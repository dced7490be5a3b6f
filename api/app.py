"""The FastAPI application: a lifespan that owns the database pool and the MQTT client, and small routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.routes import (
    alerts,
    auth,
    cameras,
    console,
    devices,
    evidence,
    health,
    overview,
    residents,
    stream,
    telemetry,
    webhooks,
)
from estatewatch.config import Settings
from ingest.mqtt import BoundedPublisher
from store.db import make_pool

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    """Build the app; nothing connects until the lifespan starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = make_pool(settings.require_database_url(), min_size=1, max_size=10, name="api")
        app.state.mqtt = BoundedPublisher(settings.mqtt, max_inflight=1000).start(wait=None)
        try:
            yield
        finally:
            app.state.mqtt.close(flush_timeout=5)
            app.state.pool.close()

    app = FastAPI(
        title="EstateWatch",
        version="0.1.0",
        summary="Control-room and integration API for smart residential estates.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    for router in (health.router, devices.router, telemetry.router, auth.router, stream.router, overview.router,
                   console.router, alerts.router, residents.router, webhooks.router, cameras.router, evidence.router):
        app.include_router(router)
    return app
