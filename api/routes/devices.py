"""Devices and what ingest rejected from them."""

from __future__ import annotations

import base64
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import PoolDep, Viewer
from api.models.devices import DeadLetter, DeadLetterCount, Device, DeviceStatus
from store import dead_letters
from store.dead_letters import DeadLetterRow
from store.devices import list_devices

router = APIRouter(prefix="/api/v1", tags=["devices"])


@router.get("/devices")
def devices(
    pool: PoolDep,
    _: Viewer,
    kind: str | None = None,
    status: DeviceStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[Device]:
    """Known devices with last-seen time and online status."""
    with pool.connection() as conn:
        rows = list_devices(conn, kind, status, limit)
    return [Device.model_validate(row) for row in rows]


@router.get("/dead-letters")
def recent_dead_letters(
    pool: PoolDep,
    _: Viewer,
    reason: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeadLetter]:
    """Rejected messages, newest first, with the reason and the first bytes of what arrived."""
    with pool.connection() as conn:
        rows = dead_letters.recent(conn, reason, limit)
    return [_dead_letter(row) for row in rows]


def payload_preview(head: bytes | None) -> tuple[str | None, Literal["utf-8", "base64"] | None]:
    """Printable UTF-8 as text; anything else (control bytes, invalid sequences, NUL) as base64 of the bytes."""
    if head is None:
        return None, None
    try:
        text: str | None = head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a character cut in two by the 512-byte head is still text
        cut = exc.reason == "unexpected end of data" and exc.start >= len(head) - 3
        text = head[:exc.start].decode("utf-8") if cut else None
    if text is not None and all(ch.isprintable() or ch in "\t\r\n" for ch in text):
        return text, "utf-8"
    return base64.b64encode(head).decode("ascii"), "base64"


def _dead_letter(row: DeadLetterRow) -> DeadLetter:
    head, encoding = payload_preview(row.payload_head)
    return DeadLetter(id=row.id, received_at=row.received_at, topic=row.topic, kind=row.kind, reason=row.reason,
                      detail=row.detail, payload_size=row.payload_size, payload_head=head, payload_encoding=encoding)


@router.get("/dead-letters/summary")
def dead_letter_summary(pool: PoolDep, _: Viewer) -> list[DeadLetterCount]:
    """How many messages were rejected, per kind and reason."""
    with pool.connection() as conn:
        rows = dead_letters.counts(conn)
    return [DeadLetterCount.model_validate(row) for row in rows]
