"""Webhook endpoints and deliveries as an admin manages them: register (secret shown once), change, remove, inspect.

Storage is ``store.webhooks``; this module makes secrets, checks them, seals them (``webhook_secrets``) before they
reach the database, rotates them with an overlap, and shapes what the API returns. A receiver URL is resolved and
checked by the SSRF guard (``webhook_guard``) when it is registered or changed, so an internal address is refused
with its reason at once; delivery checks again, since DNS answers may change.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from alerts.payloads import (
    DeliveryDetailJson,
    DeliveryJson,
    EndpointJson,
    attempt_json,
    delivery_json,
    endpoint_json,
)
from alerts.webhook_guard import AddressGuard
from alerts.webhook_secrets import SecretBox, default_box
from alerts.webhook_signing import new_secret, secret_bytes
from store import webhooks
from store.db import Conn


def create_endpoint(conn: Conn, url: str, *, guard: AddressGuard, events: Sequence[str] | None = None,
                    alert_types: Sequence[str] | None = None, description: str = "",
                    secret: str | None = None, box: SecretBox | None = None) -> EndpointJson:
    """Register an endpoint; the secret (given, or made here) is returned once, on creation, and stored sealed.

    Raises:
        ValueError: when the given secret is empty or malformed (refused now rather than at the first delivery).
        RefusedAddressError: when ``guard`` refuses the URL (internal and not allow-listed, unresolvable, ...).
    """
    secret = new_secret() if secret is None else secret
    secret_bytes(secret)
    guard.check(url)
    endpoint_id = "ep_" + uuid.uuid4().hex[:16]
    sealed = (box or default_box()).seal(endpoint_id, secret)
    row = webhooks.create_endpoint(conn, endpoint_id, url, sealed, events=events or [],
                                   alert_types=alert_types or [], description=description)
    return {**endpoint_json(row), "secret": secret}


def rotate_secret(conn: Conn, endpoint_id: str, *, overlap: timedelta, secret: str | None = None,
                  box: SecretBox | None = None) -> EndpointJson | None:
    """A new secret for an endpoint, returned once; the old one keeps signing (a second signature) for ``overlap``.

    Raises:
        ValueError: when the given secret is empty or malformed.
    """
    secret = new_secret() if secret is None else secret
    secret_bytes(secret)
    sealed = (box or default_box()).seal(endpoint_id, secret)
    row = webhooks.rotate_secret(conn, endpoint_id, sealed, datetime.now(UTC) + overlap)
    return {**endpoint_json(row), "secret": secret} if row is not None else None


def list_endpoints(conn: Conn) -> list[EndpointJson]:
    """Every endpoint, without secrets."""
    return [endpoint_json(r) for r in webhooks.list_endpoints(conn)]


def get_endpoint(conn: Conn, endpoint_id: str) -> EndpointJson | None:
    """One endpoint without its secret, or None."""
    row = webhooks.get_endpoint(conn, endpoint_id)
    return endpoint_json(row) if row is not None else None


def update_endpoint(conn: Conn, endpoint_id: str, *, guard: AddressGuard, enabled: bool | None = None,
                    url: str | None = None, events: Sequence[str] | None = None,
                    alert_types: Sequence[str] | None = None) -> EndpointJson | None:
    """Change the URL or filters, or enable again an endpoint disabled by a 410; None when there is none.

    Raises:
        RefusedAddressError: when a new URL is refused by ``guard``.
    """
    if url is not None:
        guard.check(url)
    row = webhooks.update_endpoint(conn, endpoint_id, enabled=enabled, url=url, events=events,
                                   alert_types=alert_types)
    return endpoint_json(row) if row is not None else None


def delete_endpoint(conn: Conn, endpoint_id: str) -> bool:
    """Remove an endpoint with its deliveries; False when there was none."""
    return webhooks.delete_endpoint(conn, endpoint_id)


def list_deliveries(conn: Conn, *, status: str | None = None, endpoint_id: str | None = None,
                    alert_id: str | None = None, limit: int = 100) -> list[DeliveryJson]:
    """Webhook deliveries, newest first; ``status="dead"`` lists the dead letters."""
    return [delivery_json(r) for r in webhooks.list_deliveries(conn, status=status, endpoint_id=endpoint_id,
                                                               alert_id=alert_id, limit=limit)]


def get_delivery(conn: Conn, delivery_id: int) -> DeliveryDetailJson | None:
    """One delivery with its payload and every attempt (time, HTTP status, error, duration), or None."""
    found = webhooks.get_delivery(conn, delivery_id)
    if found is None:
        return None
    row, payload = found
    return {**delivery_json(row), "payload": payload,
            "attempt_log": [attempt_json(a) for a in webhooks.attempts(conn, delivery_id)]}
