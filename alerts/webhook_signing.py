"""Standard Webhooks 1.0 signing, pure: secrets, the signature and the headers of one attempt, and Retry-After.

Headers: ``webhook-id`` (the outbox row's msg id, the same on every retry, so receivers can deduplicate),
``webhook-timestamp`` (unix seconds of this attempt) and ``webhook-signature``
(``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` keyed with the base64-decoded part after ``whsec_``).
During a secret rotation the header carries one signature per live secret, space-separated, newest first, as the
standard allows: receivers that still hold the old secret keep verifying until they switch.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

SECRET_PREFIX = "whsec_"  # noqa: S105 - the scheme prefix of every secret, not a secret
MIN_SECRET_BYTES = 24  # the standard asks for 24 to 64 random bytes
_SECONDS = re.compile(r"[0-9]{1,10}")  # ASCII digits only: str.isdigit() also accepts "²", which float() refuses


def new_secret() -> str:
    """A fresh endpoint secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_bytes(secret: str) -> bytes:
    """The HMAC key inside a ``whsec_`` secret.

    Raises:
        ValueError: when the secret is not ``whsec_`` followed by base64.
    """
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("webhook secrets start with whsec_")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret is whsec_ followed by base64") from exc
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"a webhook secret needs at least {MIN_SECRET_BYTES} bytes of key (empty ones sign nothing)")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header value for one attempt."""
    mac = hmac.new(secret_bytes(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signed_headers(secret: str | Sequence[str], msg_id: str, body: str,
                   timestamp: int | None = None) -> dict[str, str]:
    """Every header of one attempt, signed now (or at ``timestamp``) with each secret given, newest first."""
    ts = int(time.time()) if timestamp is None else timestamp
    keys = [secret] if isinstance(secret, str) else list(secret)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": " ".join(sign(k, msg_id, ts, body) for k in keys),
        "user-agent": "EstateWatch-Webhooks/1",
    }


def verify(secret: str, msg_id: str, timestamp: int, body: str, header: str) -> bool:
    """Whether any ``v1,`` signature in ``header`` is this secret's (what a receiver does; used by the tests)."""
    expected = sign(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, part) for part in header.split(" ") if part.startswith("v1,"))


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - now).total_seconds())
    except (TypeError, ValueError, IndexError, OverflowError):  # what a hostile header makes the date parser raise
        return None
