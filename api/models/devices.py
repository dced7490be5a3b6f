"""Devices and the messages ingest rejected."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from api.models.base import ApiModel

DeviceStatus = Literal["online", "offline", "unknown"]


class Device(ApiModel):
    """A device with its last-seen time and online status (from its last will)."""

    device_id: str
    site: str
    kind: str
    registered: bool
    interval_s: float | None
    first_seen: datetime | None
    last_seen: datetime | None
    status: DeviceStatus
    status_changed: datetime | None
    messages: int


class DeadLetter(ApiModel):
    """A rejected message: why, and the first bytes of what arrived.

    ``payload_head`` is text when those bytes are printable UTF-8, else base64 of them; ``payload_encoding`` says
    which, so a binary payload (a stray JPEG, random bytes) is shown faithfully instead of breaking the list.
    """

    id: int
    received_at: datetime
    topic: str
    kind: str
    reason: str
    detail: str
    payload_size: int
    payload_head: str | None
    payload_encoding: Literal["utf-8", "base64"] | None = Field(
        description="how payload_head is written: utf-8 text, or base64 of bytes that are not printable text")


class DeadLetterCount(ApiModel):
    """How many messages of one kind were rejected for one reason, and when the last was."""

    kind: str
    reason: str
    n: int
    last: datetime
