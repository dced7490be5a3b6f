"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import PoolDep
from api.models.health import Health, Readiness
from api.openapi import text
from store.health import ping

router = APIRouter(tags=["health"])


class PrometheusResponse(Response):
    """The Prometheus text exposition format, named as such in the OpenAPI document."""

    media_type = CONTENT_TYPE_LATEST


@router.get("/healthz")
def healthz() -> Health:
    """The process is up."""
    return Health()


@router.get("/readyz", responses={503: {"model": Readiness, "description": "a dependency is down"}})
def readyz(request: Request, pool: PoolDep, response: Response) -> Readiness:
    """Ready when the database answers and the broker connection is up."""
    checks: dict[str, str] = {}
    try:
        ping(pool, timeout_s=2)
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; the class name says which
        checks["database"] = f"error: {exc.__class__.__name__}"
    checks["mqtt"] = "ok" if request.app.state.mqtt.connected.is_set() else "disconnected"
    ready = all(v == "ok" for v in checks.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(ready=ready, checks=checks)


@router.get("/metrics", response_class=PrometheusResponse,
            responses=text("Prometheus metrics of this process", CONTENT_TYPE_LATEST))
def metrics() -> PrometheusResponse:
    """Prometheus metrics of this process."""
    return PrometheusResponse(generate_latest())
