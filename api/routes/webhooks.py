"""Webhook endpoints (URL, event filter, ``whsec_`` secret) and their deliveries, dead letters and redelivery."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, Field, field_validator

from alerts.outbox import WEBHOOK_EVENTS, redeliver
from alerts.webhook_store import (
    create_endpoint,
    delete_endpoint,
    get_delivery,
    list_deliveries,
    list_endpoints,
    update_endpoint,
)
from api.deps import Admin, PoolDep

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
EventName = Literal["alert.new", "alert.update", "alert.resolved"]


class EndpointBody(BaseModel):
    url: str = Field(pattern=r"^https?://", max_length=2000)
    events: list[EventName] = Field(default_factory=list, description="empty = all of " + ", ".join(WEBHOOK_EVENTS))
    alert_types: list[str] = Field(default_factory=list, description="empty = every alert type")
    description: str = Field(default="", max_length=500)
    secret: str | None = Field(default=None, description="whsec_<base64>; made for you when left out")

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("whsec_"):
            raise ValueError("secrets start with whsec_")
        return value


class EndpointPatch(BaseModel):
    url: str | None = Field(default=None, pattern=r"^https?://", max_length=2000)
    events: list[EventName] | None = None
    alert_types: list[str] | None = None
    enabled: bool | None = None


@router.get("/endpoints")
def get_endpoints(pool: PoolDep, _: Admin) -> dict[str, Any]:
    with pool.connection() as conn:
        return {"endpoints": list_endpoints(conn)}


@router.post("/endpoints", status_code=status.HTTP_201_CREATED)
def post_endpoint(body: EndpointBody, pool: PoolDep, _: Admin) -> dict[str, Any]:
    """Register an endpoint. The response holds the secret; it is not shown again."""
    try:
        with pool.connection() as conn, conn.transaction():
            return create_endpoint(conn, body.url, events=list(body.events), alert_types=body.alert_types,
                                   description=body.description, secret=body.secret)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc


@router.patch("/endpoints/{endpoint_id}")
def patch_endpoint(endpoint_id: str, body: EndpointPatch, pool: PoolDep, _: Admin) -> dict[str, Any]:
    """Change the URL or filters, or enable again an endpoint disabled by a 410."""
    with pool.connection() as conn, conn.transaction():
        row = update_endpoint(conn, endpoint_id, enabled=body.enabled, url=body.url,
                              events=list(body.events) if body.events is not None else None,
                              alert_types=body.alert_types)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such endpoint")
    return row


@router.delete("/endpoints/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_endpoint(endpoint_id: str, pool: PoolDep, _: Admin) -> Response:
    with pool.connection() as conn, conn.transaction():
        if not delete_endpoint(conn, endpoint_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such endpoint")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/deliveries")
def get_deliveries(
    pool: PoolDep,
    _: Admin,
    status_: Annotated[Literal["pending", "delivered", "dead"] | None, Query(alias="status")] = None,
    endpoint_id: str | None = None,
    alert_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Newest first; ``status=dead`` lists the dead letters."""
    with pool.connection() as conn:
        return {"deliveries": list_deliveries(conn, status=status_, endpoint_id=endpoint_id, alert_id=alert_id,
                                              limit=limit)}


@router.get("/deliveries/{delivery_id}")
def get_one_delivery(delivery_id: int, pool: PoolDep, _: Admin) -> dict[str, Any]:
    """One delivery with its payload and every attempt (time, HTTP status, error, duration)."""
    with pool.connection() as conn:
        found = get_delivery(conn, delivery_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such delivery")
    return found


@router.post("/deliveries/{delivery_id}/redeliver", status_code=status.HTTP_202_ACCEPTED)
def post_redeliver(delivery_id: int, pool: PoolDep, _: Admin) -> dict[str, Any]:
    """Queue a delivery again (same webhook-id, so receivers still deduplicate)."""
    with pool.connection() as conn, conn.transaction():
        if get_delivery(conn, delivery_id) is None or not redeliver(conn, delivery_id, datetime.now(UTC)):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such delivery")
    return {"id": delivery_id, "status": "pending"}
