"""Standard Webhooks 1.0 signing and delivery of outbox rows over HTTP.

Headers: ``webhook-id`` (the outbox row's msg id, the same on every retry, so receivers can deduplicate),
``webhook-timestamp`` (unix seconds of this attempt) and ``webhook-signature``
(``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` keyed with the base64-decoded part after ``whsec_``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import psycopg

from alerts.outbox import Claimed, RetryPolicy, disable_endpoint, dumps, mark_delivered, mark_retry, record_attempt

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh endpoint secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_bytes(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("webhook secrets start with whsec_")
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header value for one attempt."""
    mac = hmac.new(secret_bytes(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signed_headers(secret: str, msg_id: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, msg_id, ts, body),
        "user-agent": "EstateWatch-Webhooks/1",
    }


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def deliver_webhook(conn: psycopg.Connection[Any], client: httpx.Client, row: Claimed, policy: RetryPolicy) -> str:
    """One attempt for one claimed row, recorded; returns the outcome: delivered, retry, gone or dead."""
    started = time.monotonic()
    body = dumps(row.payload)
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None
    if row.url is None or row.secret is None:
        error = "endpoint deleted"
    else:
        try:
            response = client.post(row.url, content=body.encode(), headers=signed_headers(row.secret, row.msg_id,
                                                                                             body))
            status = response.status_code
            retry_after = retry_after_seconds(response.headers.get("retry-after"), datetime.now(UTC))
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{exc.__class__.__name__}: {exc}"
    now = datetime.now(UTC)
    with conn.transaction():
        record_attempt(conn, row.id, now, status, error, (time.monotonic() - started) * 1000)
        if error is None:
            mark_delivered(conn, row.id, now)
            return "delivered"
        if status == 410 and row.endpoint_id is not None:
            disable_endpoint(conn, row.endpoint_id, "receiver answered 410 Gone")
            return "gone"
        if row.url is None:
            conn.execute("UPDATE outbox SET status = 'dead', last_error = %s WHERE id = %s", (error, row.id))
            return "dead"
        mark_retry(conn, row, now, error, policy, retry_after)
        return "dead" if row.attempts >= policy.max_attempts else "retry"
