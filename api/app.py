"""The FastAPI application: a lifespan that owns the database pool and the MQTT client, and small routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.broker_port import BrokerAccountsPort
from api.metrics_auth import MetricsToken
from api.middleware import install as install_middleware
from api.models.stream import STREAM_EVENTS
from api.openapi import add_event_schemas
from api.routes import (
    activity,
    alerts,
    auth,
    broker,
    cameras,
    console,
    devices,
    docs,
    estate,
    evidence,
    faces,
    handover,
    health,
    overview,
    passages,
    residents,
    responders,
    sensor_metrics,
    stream,
    telemetry,
    webhooks,
    work_orders,
)
from common.mqtt import BoundedPublisher
from common.settings import Settings
from store.db import make_pool

log = logging.getLogger(__name__)


class EstateWatchApp(FastAPI):
    """The app, whose OpenAPI document also describes the data of the alert stream's events."""

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document, built once; the event payload schemas join the route schemas."""
        if self.openapi_schema is None:
            document = get_openapi(
                title=self.title, version=self.version, openapi_version=self.openapi_version, summary=self.summary,
                description=self.description, routes=self.routes, webhooks=self.webhooks.routes,
                tags=self.openapi_tags, servers=self.servers,
                separate_input_output_schemas=self.separate_input_output_schemas,
            )
            add_event_schemas(document, STREAM_EVENTS.values())
            self.openapi_schema = document
        return self.openapi_schema


def create_app(settings: Settings, *, broker_accounts: BrokerAccountsPort | None = None) -> FastAPI:
    """Build the app; nothing connects until the lifespan starts.

    ``broker_accounts`` (handed in by the wiring) backs the admin routes that issue per-device broker accounts.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = make_pool(settings.require_database_url(), min_size=1, max_size=10, name="api")
        app.state.mqtt = BoundedPublisher(settings.mqtt, max_inflight=1000).start(wait=None)
        try:
            yield
        finally:
            app.state.mqtt.close(flush_timeout=5)
            app.state.pool.close()

    app = EstateWatchApp(
        title="EstateWatch",
        version="0.1.0",
        summary="Control-room and integration API for smart residential estates.",
        lifespan=lifespan,
        docs_url=None,  # /docs comes from api.routes.docs, with Swagger UI served by the app (no CDN)
        redoc_url=None if not settings.api_docs else "/redoc",
        openapi_url=None if not settings.api_docs else "/openapi.json",
    )
    app.state.settings = settings
    app.state.broker_accounts = broker_accounts
    if settings.metrics_token is not None:
        app.add_middleware(MetricsToken, token=settings.metrics_token.get_secret_value())
    for router in (health.router, devices.router, telemetry.router, auth.router, stream.router, overview.router,
                   console.router, alerts.router, residents.router, webhooks.router, cameras.router, evidence.router,
                   broker.router, faces.router, passages.router, estate.router,
                   work_orders.router, responders.router, handover.router,  # dispatch and shift handover
                   sensor_metrics.router,  # metrics no sensor rule knows
                   activity.router,  # learned nuisance zones of the camera wall
                   *([docs.router] if settings.api_docs else [])):
        app.include_router(router)
    install_middleware(app, settings)  # body limit, trusted proxy headers, HSTS
    return app
