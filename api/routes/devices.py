"""Devices and what ingest rejected from them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from api.deps import PoolDep, Viewer
from store import dead_letters
from store.devices import list_devices

router = APIRouter(prefix="/api/v1", tags=["devices"])


@router.get("/devices")
def devices(
    pool: PoolDep,
    _: Viewer,
    kind: str | None = None,
    status: Literal["online", "offline", "unknown"] | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[dict[str, Any]]:
    """Known devices with last-seen time and online status."""
    with pool.connection() as conn:
        return list_devices(conn, kind, status, limit)


@router.get("/dead-letters")
def recent_dead_letters(
    pool: PoolDep,
    _: Viewer,
    reason: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Rejected messages, newest first, with the reason and the first bytes of what arrived."""
    with pool.connection() as conn:
        return dead_letters.recent(conn, reason, limit)


@router.get("/dead-letters/summary")
def dead_letter_summary(pool: PoolDep, _: Viewer) -> list[dict[str, Any]]:
    """How many messages were rejected, per kind and reason."""
    with pool.connection() as conn:
        return dead_letters.counts(conn)
