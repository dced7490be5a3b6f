"""One HTTP attempt for one claimed webhook row, and what follows from its outcome (delivered, retry, gone, dead).

The POST runs outside any transaction; its outcome is recorded afterwards in one short transaction. Each attempt:
the guard resolves and checks the receiver (``webhook_guard``), the request goes to the checked address with the
original Host and TLS server name, redirects are not followed, the answer's body is never read, and the whole
attempt (resolving, connecting, TLS, sending, the answer's headers) has one deadline.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import certifi
import httpx

from alerts.delivery_policy import RetryPolicy
from alerts.payloads import dumps
from alerts.webhook_guard import AddressGuard, RefusedAddressError, Target
from alerts.webhook_secrets import SecretBox, SecretKeyError
from alerts.webhook_signing import retry_after_seconds, signed_headers
from store import outbox
from store.db import Conn
from store.outbox import Claimed

Outcome = Literal["delivered", "retry", "gone", "dead"]


@dataclass(frozen=True)
class Attempt:
    """What one POST gave: the HTTP status (None when no answer), an error text unless 2xx, and Retry-After."""

    status: int | None
    error: str | None
    retry_after_s: float | None


@dataclass(frozen=True)
class Delivery:
    """How attempts are made: the guard (None only where every receiver is trusted), the key box, the deadline."""

    guard: AddressGuard | None
    box: SecretBox
    deadline_s: float = 15.0


def live_secrets(row: Claimed, box: SecretBox, now: datetime) -> list[str]:
    """The secrets that sign this attempt: the current one, and the previous one during a rotation's overlap.

    Raises:
        SecretKeyError: a stored secret does not decrypt with this key.
    """
    if row.secret is None or row.endpoint_id is None:
        return []
    keys = [box.open(row.endpoint_id, row.secret)]
    if row.previous_secret and row.previous_secret_until is not None and row.previous_secret_until > now:
        keys.append(box.open(row.endpoint_id, row.previous_secret))
    return keys


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every attempt (making one per attempt costs more than a local POST)."""
    return ssl.create_default_context(cafile=certifi.where())  # the CA bundle httpx itself defaults to


async def _send(target: Target | None, url: str, body: bytes, headers: dict[str, str],
                deadline_s: float) -> tuple[int, str | None]:
    """POST and read only the status and headers; pinned to the checked address when there is a target."""
    extensions: dict[str, object] = {}
    if target is not None:
        url = target.pinned_url
        headers = {**headers, "host": target.host_header}
        if target.scheme == "https":
            extensions["sni_hostname"] = target.host  # TLS and the certificate check use the name, not the address
    async with httpx.AsyncClient(timeout=deadline_s, follow_redirects=False, trust_env=False,
                                 verify=_tls_context()) as client, \
            client.stream("POST", url, content=body, headers=headers, extensions=extensions) as response:
        return response.status_code, response.headers.get("retry-after")


def post(row: Claimed, how: Delivery) -> Attempt:
    """Send one signed POST for a claimed row (no database work), within ``how.deadline_s`` in all."""
    if row.url is None or row.secret is None:
        return Attempt(None, "endpoint deleted", None)
    started = time.monotonic()
    try:
        target = how.guard.check(row.url) if how.guard is not None else None
        keys = live_secrets(row, how.box, datetime.now(UTC))
    except RefusedAddressError as exc:
        return Attempt(None, str(exc), None)  # refused before connecting: nothing about the host is learned
    except SecretKeyError as exc:
        return Attempt(None, str(exc), None)
    body = dumps(row.payload)
    headers = signed_headers(keys, row.msg_id, body)
    remaining = max(0.1, how.deadline_s - (time.monotonic() - started))
    try:
        status, retry_after = asyncio.run(asyncio.wait_for(
            _send(target, row.url, body.encode(), headers, remaining), timeout=remaining))
    except TimeoutError:
        return Attempt(None, f"no answer within the {how.deadline_s:g} s deadline", None)
    except httpx.HTTPError as exc:
        return Attempt(None, exc.__class__.__name__, None)  # the class only: a message may echo the receiver
    if 300 <= status < 400:
        return Attempt(status, f"HTTP {status}: redirects are not followed", None)
    retry = retry_after_seconds(retry_after, datetime.now(UTC))
    return Attempt(status, None if 200 <= status < 300 else f"HTTP {status}", retry)


def fail(conn: Conn, row: Claimed, at: datetime, error: str, policy: RetryPolicy,
         retry_after_s: float | None) -> Outcome:
    """Schedule the next attempt, or move the row to the dead letters after ``max_attempts``."""
    if policy.gives_up(row.attempts):
        outbox.mark_dead(conn, row.id, error)
        return "dead"
    wait = policy.delay(row.attempts, retry_after_s)
    outbox.schedule_retry(conn, row.id, at + timedelta(seconds=wait), error)
    return "retry"


def record(conn: Conn, row: Claimed, attempt: Attempt, policy: RetryPolicy, duration_ms: float) -> Outcome:
    """Keep the attempt and act on it, in one transaction."""
    now = datetime.now(UTC)
    with conn.transaction():
        outbox.record_attempt(conn, row.id, now, attempt.status, attempt.error, duration_ms)
        if attempt.error is None:
            outbox.mark_delivered(conn, [row.id], now)
            return "delivered"
        if attempt.status == 410 and row.endpoint_id is not None:
            outbox.disable_endpoint(conn, row.endpoint_id, "receiver answered 410 Gone")
            return "gone"
        if row.url is None:
            outbox.mark_dead(conn, row.id, attempt.error)
            return "dead"
        return fail(conn, row, now, attempt.error, policy, attempt.retry_after_s)


def deliver_webhook(conn: Conn, row: Claimed, policy: RetryPolicy, how: Delivery) -> Outcome:
    """One attempt for one claimed row, recorded; returns the outcome: delivered, retry, gone or dead."""
    started = time.monotonic()
    attempt = post(row, how)
    return record(conn, row, attempt, policy, (time.monotonic() - started) * 1000)
