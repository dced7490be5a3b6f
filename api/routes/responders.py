"""The responder directory: operators read it to dispatch (it holds staff phone numbers, so viewers do not);
admins add responders and change them (team, phone, supervisor, active).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, status
from psycopg.errors import ForeignKeyViolation
from pydantic import BaseModel, Field

from api.deps import Admin, Operator, PoolDep, SettingsDep
from api.models.work_orders import Responder
from store import responders as responder_rows

router = APIRouter(prefix="/api/v1/responders", tags=["dispatch"])

_ID = r"^[a-z0-9][a-z0-9._-]{0,63}$"
_PHONE = r"^\+?[0-9][0-9 ()-]{4,30}$"


class ResponderBody(BaseModel):
    """A new responder."""

    id: str = Field(pattern=_ID, description="a short slug, e.g. grid-wang")
    name: str = Field(min_length=1, max_length=100)
    team: Literal["grid", "security", "maintenance"]
    phone: str = Field(pattern=_PHONE)
    supervisor_id: str | None = Field(default=None, pattern=_ID)


class ResponderChange(BaseModel):
    """What to change of a responder (fields left out stay)."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    team: Literal["grid", "security", "maintenance"] | None = None
    phone: str | None = Field(default=None, pattern=_PHONE)
    supervisor_id: str | None = Field(default=None, pattern=_ID)
    active: bool | None = None


@router.get("")
def list_responders(pool: PoolDep, settings: SettingsDep, _: Operator,
                    team: Literal["grid", "security", "maintenance"] | None = None,
                    include_inactive: bool = False) -> list[Responder]:
    """The site's responders by team and name (active ones unless asked)."""
    with pool.connection() as conn:
        rows = responder_rows.list_responders(conn, settings.site, team=team, active_only=not include_inactive)
    return [Responder.model_validate(r) for r in rows]


def _check_supervisor(pool: PoolDep, site: str, responder_id: str, supervisor_id: str | None) -> None:
    if supervisor_id is None:
        return
    if supervisor_id == responder_id:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "a responder cannot supervise themselves")
    with pool.connection() as conn:
        if responder_rows.get_responder(conn, site, supervisor_id) is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"no responder {supervisor_id!r}")


@router.post("", status_code=status.HTTP_201_CREATED)
def add_responder(body: ResponderBody, pool: PoolDep, settings: SettingsDep, _: Admin) -> Responder:
    """Add a responder to the directory."""
    _check_supervisor(pool, settings.site, body.id, body.supervisor_id)
    try:
        with pool.connection() as conn, conn.transaction():
            row = responder_rows.add_responder(conn, site=settings.site, responder_id=body.id, name=body.name,
                                               team=body.team, phone=body.phone, supervisor_id=body.supervisor_id)
    except ForeignKeyViolation as exc:  # the supervisor went away in between
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "no such supervisor") from exc
    if row is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"responder {body.id!r} exists")
    return Responder.model_validate(row)


@router.patch("/{responder_id}")
def change_responder(responder_id: str, body: ResponderChange, pool: PoolDep, settings: SettingsDep,
                     _: Admin) -> Responder:
    """Change a responder; ``active: false`` takes them off the dispatch list and keeps their work orders."""
    values = body.model_dump(exclude_unset=True)
    if not values:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "nothing to change")
    _check_supervisor(pool, settings.site, responder_id, body.supervisor_id)
    try:
        with pool.connection() as conn, conn.transaction():
            row = responder_rows.update_responder(conn, settings.site, responder_id, values, datetime.now(UTC))
    except ForeignKeyViolation as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "no such supervisor") from exc
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such responder")
    return Responder.model_validate(row)
