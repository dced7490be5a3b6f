"""Webhook endpoints (URL, event filter, ``whsec_`` secret) and their deliveries, dead letters and redelivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, Field, field_validator

from alerts import webhook_admin
from alerts.payloads import WEBHOOK_EVENTS
from alerts.webhook_guard import AddressGuard, RefusedAddressError
from alerts.webhook_secrets import SecretBox
from api.deps import Admin, PoolDep, SettingsDep
from api.models.webhooks import DeliveryDetail, DeliveryList, Endpoint, EndpointCreated, EndpointList, Redelivery
from common.settings import Settings
from store import outbox

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
EventName = Literal["alert.new", "alert.update", "alert.resolved"]


class EndpointBody(BaseModel):
    """A new endpoint: where to POST, which events and alert types (empty = all), and optionally its secret."""

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


class RotationBody(BaseModel):
    """A secret rotation: how long the old secret keeps signing next to the new one, and optionally the new one."""

    overlap_s: int = Field(default=86400, ge=0, le=30 * 86400,
                           description="seconds both secrets sign (two v1 signatures); 0 = the old one stops now")
    secret: str | None = Field(default=None, description="whsec_<base64>; made for you when left out")


class EndpointPatch(BaseModel):
    """What to change on an endpoint (left out = kept)."""

    url: str | None = Field(default=None, pattern=r"^https?://", max_length=2000)
    events: list[EventName] | None = None
    alert_types: list[str] | None = None
    enabled: bool | None = None


def _guard(settings: Settings) -> AddressGuard:
    """The guard delivery uses: public receivers, plus the networks of ``EW_WEBHOOK_ALLOW_NETWORKS``."""
    return AddressGuard.from_text(settings.webhook_allow_networks)


@router.get("/endpoints")
def get_endpoints(pool: PoolDep, _: Admin) -> EndpointList:
    """Every endpoint, without secrets."""
    with pool.connection() as conn:
        return EndpointList.model_validate({"endpoints": webhook_admin.list_endpoints(conn)})


@router.post("/endpoints", status_code=status.HTTP_201_CREATED)
def post_endpoint(body: EndpointBody, pool: PoolDep, settings: SettingsDep, _: Admin) -> EndpointCreated:
    """Register an endpoint. The response holds the secret; it is not shown again (it is stored encrypted). The
    URL is resolved and checked now: loopback, link-local, private and other internal addresses are refused (422,
    naming the rule) unless inside ``EW_WEBHOOK_ALLOW_NETWORKS``.
    """
    try:
        with pool.connection() as conn, conn.transaction():
            created = webhook_admin.create_endpoint(conn, body.url, guard=_guard(settings), events=list(body.events),
                                                    alert_types=body.alert_types, description=body.description,
                                                    secret=body.secret, box=SecretBox.from_settings(settings))
    except (ValueError, RefusedAddressError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return EndpointCreated.model_validate(created)


@router.patch("/endpoints/{endpoint_id}")
def patch_endpoint(endpoint_id: str, body: EndpointPatch, pool: PoolDep, settings: SettingsDep,
                   _: Admin) -> Endpoint:
    """Change the URL or filters, or enable again an endpoint disabled by a 410; a new URL is checked as on
    registration (422 naming the rule).
    """
    try:
        with pool.connection() as conn, conn.transaction():
            row = webhook_admin.update_endpoint(conn, endpoint_id, guard=_guard(settings), enabled=body.enabled,
                                                url=body.url,
                                                events=list(body.events) if body.events is not None else None,
                                                alert_types=body.alert_types)
    except RefusedAddressError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such endpoint")
    return Endpoint.model_validate(row)


@router.post("/endpoints/{endpoint_id}/rotate-secret")
def post_rotate_secret(endpoint_id: str, body: RotationBody, pool: PoolDep, settings: SettingsDep,
                       _: Admin) -> EndpointCreated:
    """A new secret, shown this once; during ``overlap_s`` every delivery carries both signatures."""
    try:
        with pool.connection() as conn, conn.transaction():
            rotated = webhook_admin.rotate_secret(conn, endpoint_id, overlap=timedelta(seconds=body.overlap_s),
                                                  secret=body.secret, box=SecretBox.from_settings(settings))
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    if rotated is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such endpoint")
    return EndpointCreated.model_validate(rotated)


@router.delete("/endpoints/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def remove_endpoint(endpoint_id: str, pool: PoolDep, _: Admin) -> Response:
    """Remove an endpoint and its deliveries."""
    with pool.connection() as conn, conn.transaction():
        if not webhook_admin.delete_endpoint(conn, endpoint_id):
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
) -> DeliveryList:
    """Newest first; ``status=dead`` lists the dead letters."""
    with pool.connection() as conn:
        rows = webhook_admin.list_deliveries(conn, status=status_, endpoint_id=endpoint_id, alert_id=alert_id,
                                             limit=limit)
    return DeliveryList.model_validate({"deliveries": rows})


@router.get("/deliveries/{delivery_id}")
def get_one_delivery(delivery_id: int, pool: PoolDep, _: Admin) -> DeliveryDetail:
    """One delivery with its payload and every attempt (time, HTTP status, error, duration)."""
    with pool.connection() as conn:
        found = webhook_admin.get_delivery(conn, delivery_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such delivery")
    return DeliveryDetail.model_validate(found)


@router.post("/deliveries/{delivery_id}/redeliver", status_code=status.HTTP_202_ACCEPTED)
def post_redeliver(delivery_id: int, pool: PoolDep, _: Admin) -> Redelivery:
    """Queue a delivery again (same webhook-id, so receivers still deduplicate)."""
    with pool.connection() as conn, conn.transaction():
        if webhook_admin.get_delivery(conn, delivery_id) is None or \
                not outbox.redeliver(conn, delivery_id, datetime.now(UTC)):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such delivery")
    return Redelivery(id=delivery_id, status="pending")
