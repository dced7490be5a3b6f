"""A resident's gate passages (``GET /api/v1/residents/{id}/passages``) for the Elders view and the not-out detail.

Operators and admins only: passages say when a person living alone went out. The answer holds access events as a
card reader makes them (gate, direction, method, confidence), never an embedding or an image.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, status

from api.deps import Operator, PoolDep, SettingsDep
from api.models.passages import Passage, ResidentPassages
from store import passages as passage_rows
from store.residents import load_residents

router = APIRouter(prefix="/api/v1/residents", tags=["residents"])
DEFAULT_DAYS = 7


@router.get("/{resident_id}/passages")
def resident_passages(
    resident_id: str, pool: PoolDep, settings: SettingsDep, _: Operator,
    since: Annotated[datetime | None, Query(description="from this time (default: 7 days ago)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ResidentPassages:
    """The resident's passages since ``since`` (newest first), the last one ever, and unknown ones after it."""
    start = since if since is not None else datetime.now(UTC) - timedelta(days=DEFAULT_DAYS)
    if start.tzinfo is None:  # like every naive time of the API: estate local time
        start = start.replace(tzinfo=ZoneInfo(settings.timezone))
    with pool.connection() as conn:
        if not load_residents(conn, ids=[resident_id], site=settings.site, consenting_only=False):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such resident")
        rows = passage_rows.resident_passages(conn, settings.site, resident_id, start, limit)
        last = passage_rows.last_passage(conn, settings.site, resident_id)
        unknown = passage_rows.unknown_passages(conn, settings.site, last.ts if last is not None else start)
    return ResidentPassages(
        resident_id=resident_id, since=start, passages=[Passage.model_validate(r) for r in rows],
        last_recognised=Passage.model_validate(last) if last is not None else None,
        unknown_since=[Passage.model_validate(r) for r in unknown],
    )
