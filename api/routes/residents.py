"""Residents: status (presence, hours since last out, last signals, why), CSV import, settings, away periods.

Resident ids are the pseudonymous ids of the access system; no names are stored or shown.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException, Query, status
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field, model_validator

from alerts import repository as repo
from alerts.resident_store import (
    add_away,
    load_residents,
    load_states,
    page_residents,
    resident_status,
    upsert_residents,
)
from alerts.residents import ResidentCsvError, building_floor, parse_residents
from api.deps import Admin, PoolDep, SettingsDep, Viewer

router = APIRouter(prefix="/api/v1/residents", tags=["residents"])


class ResidentBody(BaseModel):
    unit: str = Field(min_length=1, max_length=64)
    building: str | None = None
    floor: int | None = None
    elderly: bool = False
    lives_alone: bool = False
    not_out_hours: float = Field(default=24.0, gt=0, le=720)
    no_sign_hours: float = Field(default=12.0, gt=0, le=720)
    contacts: list[dict[str, Any]] = Field(default_factory=list)  # e.g. {"role": "daughter", "phone": "..."}
    consent: bool = True


class AwayBody(BaseModel):
    starts_at: datetime = Field(alias="from")
    ends_at: datetime = Field(alias="to")
    reason: Literal["away", "hospital", "other"] = "away"

    @model_validator(mode="after")
    def _order(self) -> AwayBody:
        if self.ends_at <= self.starts_at:
            raise ValueError("'to' must be after 'from'")
        return self


@router.get("")
def list_residents(
    pool: PoolDep,
    settings: SettingsDep,
    _: Viewer,
    presence: Literal["home", "out", "unknown"] | None = None,
    elderly: bool | None = None,
    after: Annotated[str | None, Query(description="resident id to continue after")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    with pool.connection() as conn:
        page = page_residents(conn, settings.site, after=after, limit=limit, elderly=elderly, presence=presence,
                              now=now)
    rows = [resident_status(r, state, now) for r, state in page]
    return {"residents": rows, "next_after": rows[-1]["resident_id"] if len(rows) == limit else None}


@router.get("/{resident_id}")
def get_resident(resident_id: str, pool: PoolDep, settings: SettingsDep, _: Viewer) -> dict[str, Any]:
    now = datetime.now(UTC)
    with pool.connection() as conn:
        found = load_residents(conn, ids=[resident_id], consenting_only=False, away_since=now)
        if not found:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such resident")
        state = load_states(conn, [resident_id], lock=False)[resident_id]
        alerts = repo.list_alerts(conn, site=settings.site, resident=resident_id, limit=20)
    return {**resident_status(found[0], state, now), "alerts": alerts}


@router.post("/import")
def import_csv(pool: PoolDep, settings: SettingsDep, _: Admin,
               csv_text: Annotated[str, Body(media_type="text/csv")]) -> dict[str, Any]:
    """CSV with ``resident_id,unit,elderly,lives_alone`` (optional ``not_out_hours``, ``no_sign_hours``,
    ``building``, ``floor``). All rows load or none: problems come back with their line numbers."""
    try:
        people = parse_residents(csv_text)
    except ResidentCsvError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            {"problems": [str(p) for p in exc.problems]}) from exc
    with pool.connection() as conn, conn.transaction():
        count = upsert_residents(conn, settings.site, people)
    return {"imported": count}


@router.put("/{resident_id}")
def put_resident(resident_id: str, body: ResidentBody, pool: PoolDep, settings: SettingsDep,
                 _: Admin) -> dict[str, Any]:
    building, floor = building_floor(body.unit)
    with pool.connection() as conn, conn.transaction():
        conn.execute(
            "INSERT INTO residents (resident_id, site, unit, building, floor, elderly, lives_alone, not_out_hours,"
            " no_sign_hours, contacts, consent) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (resident_id) DO UPDATE SET unit = excluded.unit, building = excluded.building,"
            " floor = excluded.floor, elderly = excluded.elderly, lives_alone = excluded.lives_alone,"
            " not_out_hours = excluded.not_out_hours, no_sign_hours = excluded.no_sign_hours,"
            " contacts = excluded.contacts, consent = excluded.consent, updated_at = clock_timestamp()",
            (resident_id, settings.site, body.unit, body.building or building,
             body.floor if body.floor is not None else floor, body.elderly, body.lives_alone, body.not_out_hours,
             body.no_sign_hours, Jsonb(body.contacts), body.consent))
        # settings changed: let the next tick recompute the due time from the stored state
        conn.execute("UPDATE resident_state SET next_due_at = now() WHERE resident_id = %s", (resident_id,))
    return get_resident(resident_id, pool, settings, _)


@router.post("/{resident_id}/away", status_code=status.HTTP_201_CREATED)
def post_away(resident_id: str, body: AwayBody, pool: PoolDep, _: Admin) -> dict[str, Any]:
    """An away or hospital period: the rules pause for this resident while it lasts."""
    with pool.connection() as conn, conn.transaction():
        if not load_residents(conn, ids=[resident_id], consenting_only=False):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such resident")
        away_id = add_away(conn, resident_id, body.starts_at, body.ends_at, body.reason)
    return {"id": away_id, "resident_id": resident_id, "from": body.starts_at.isoformat(),
            "to": body.ends_at.isoformat(), "reason": body.reason}
