"""Shift handover notes: an operator leaves a note at the end of a shift; the next operator is shown the unread
ones at sign-in and marks them read. Notes may name residents, so they are for operators only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

from api.deps import Operator, PoolDep, SettingsDep
from api.models.work_orders import HandoverNote
from store import handover

router = APIRouter(prefix="/api/v1/handover-notes", tags=["dispatch"])


class NoteBody(BaseModel):
    """What the next shift should know."""

    body: str = Field(min_length=1, max_length=4000)


@router.get("")
def list_notes(pool: PoolDep, settings: SettingsDep, who: Operator, unread: bool = False,
               days: Annotated[int, Query(ge=1, le=30)] = 3) -> list[HandoverNote]:
    """The notes of the last ``days`` days, newest first, each with when the caller read it (``unread``: only
    those not read yet).
    """
    since = datetime.now(UTC) - timedelta(days=days)
    with pool.connection() as conn:
        rows = handover.notes_for(conn, settings.site, who.name, since, unread_only=unread, limit=200)
    return [HandoverNote.model_validate(r) for r in rows]


@router.post("", status_code=status.HTTP_201_CREATED)
def add_note(body: NoteBody, pool: PoolDep, settings: SettingsDep, who: Operator) -> HandoverNote:
    """Leave a note for the next shift."""
    if not body.body.strip():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the note is blank")
    with pool.connection() as conn, conn.transaction():
        row = handover.add_note(conn, settings.site, who.name, body.body.strip(), datetime.now(UTC))
    return HandoverNote.model_validate(row)


@router.post("/{note_id}/read")
def mark_read(note_id: int, pool: PoolDep, settings: SettingsDep, who: Operator) -> HandoverNote:
    """Mark a note read by the caller."""
    now = datetime.now(UTC)
    with pool.connection() as conn, conn.transaction():
        if not handover.mark_read(conn, settings.site, note_id, who.name, now):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such note")
        found = handover.get_note(conn, settings.site, note_id, who.name)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such note")
    return HandoverNote.model_validate(found)
