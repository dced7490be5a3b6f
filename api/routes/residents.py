"""Residents: status (presence, hours since last out, last signals, why), CSV import, settings, away periods, and
the learnt routine of ``no_activity`` with its settings per resident and per estate.

Resident ids are the pseudonymous ids of the access system. A name and an age may be stored beside them (a CSV
import, ``PUT``): personal data that operators and admins see, to know whom they phone about; viewers never do.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, Query, status
from pydantic import BaseModel, Field, JsonValue, model_validator

from alerts import queries
from alerts.config import AlertsConfig
from alerts.inactivity.chart import learnt_day
from alerts.inactivity.rule import new_state, watched
from alerts.inactivity.settings import InactivitySettings, SettingsError
from alerts.payloads import resident_status
from alerts.resident_csv import AGE_MAX, NAME_MAX, ResidentCsvError, building_floor, parse_import
from alerts.resident_records import import_residents, load_residents, load_routines, load_states, page_residents
from api.deps import Admin, Operator, PoolDep, SettingsDep, Viewer
from api.models.residents import (
    AwayCreated,
    EstateInactivity,
    ImportResult,
    ResidentDetail,
    ResidentPage,
    ResidentRoutine,
)
from api.privacy import alert_for, status_for
from api.security import Principal
from common.settings import Settings
from store import residents as resident_rows
from store import routines as routine_rows
from store.db import Conn
from store.residents import ResidentRecord

RESIDENTS = "/api/v1/residents"
# no router prefix: the estate's inactivity settings live beside the residents, under /api/v1/inactivity
router = APIRouter(tags=["residents"])


class ResidentBody(BaseModel):
    """A resident's settings; building and floor default to what the unit id says (``A-1201``: A, 12)."""

    unit: str = Field(min_length=1, max_length=64)
    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    age: int | None = Field(default=None, ge=0, le=AGE_MAX)
    building: str | None = None
    floor: int | None = None
    elderly: bool = False
    lives_alone: bool = False
    not_out_hours: float = Field(default=24.0, gt=0, le=720)
    no_sign_hours: float = Field(default=12.0, gt=0, le=720)
    contacts: list[dict[str, JsonValue]] = Field(default_factory=list)  # e.g. {"role": "daughter", "phone": "..."}
    consent: bool = Field(description="required: whether the resident agreed to be watched (false: not watched)")


class AwayBody(BaseModel):
    """An away or hospital period; ``to`` must be after ``from``."""

    starts_at: datetime = Field(alias="from")
    ends_at: datetime = Field(alias="to")
    reason: Literal["away", "hospital", "other"] = "away"

    @model_validator(mode="after")
    def _order(self) -> AwayBody:
        if self.ends_at <= self.starts_at:
            raise ValueError("'to' must be after 'from'")
        return self


def people_for(conn: Conn, ids: Sequence[str], principal: Principal) -> dict[str, dict[str, object]]:
    """Name and age of these residents by id, for the roles that phone about them (``api.privacy``: an operator
    sees what is needed to phone someone); a viewer gets nulls, and nothing is read for them.
    """
    if not principal.can("operator"):
        return {rid: {"name": None, "age": None} for rid in ids}
    found = resident_rows.load_people(conn, ids)
    return {rid: dict(zip(("name", "age"), found.get(rid, (None, None)), strict=True)) for rid in ids}


@router.get(RESIDENTS)
def list_residents(
    pool: PoolDep,
    settings: SettingsDep,
    principal: Viewer,
    presence: Literal["home", "out", "unknown"] | None = None,
    elderly: bool | None = None,
    after: Annotated[str | None, Query(description="resident id to continue after")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> ResidentPage:
    """A page of residents with their status, in id order."""
    now = datetime.now(UTC)
    with pool.connection() as conn:
        page = page_residents(conn, settings.site, after=after, limit=limit, elderly=elderly, presence=presence,
                              now=now)
        people = people_for(conn, [r.resident_id for r, _ in page], principal)
    rows = [{**status_for(resident_status(r, state, now), principal), **people[r.resident_id]} for r, state in page]
    return ResidentPage.model_validate({"residents": rows,
                                        "next_after": rows[-1]["resident_id"] if len(rows) == limit else None})


def _detail(conn: Conn, site: str, resident_id: str, principal: Principal) -> ResidentDetail:
    now = datetime.now(UTC)
    found = load_residents(conn, ids=[resident_id], consenting_only=False, away_since=now)
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such resident")
    state = load_states(conn, [resident_id], lock=False)[resident_id]
    alerts = queries.list_alerts(conn, site=site, resident=resident_id, limit=20)
    shown = status_for(resident_status(found[0], state, now), principal)  # viewers: presence, not times or why
    return ResidentDetail.model_validate({**shown, **people_for(conn, [resident_id], principal)[resident_id],
                                          "alerts": [alert_for(a, principal) for a in alerts]})


@router.get(RESIDENTS + "/{resident_id}")
def get_resident(resident_id: str, pool: PoolDep, settings: SettingsDep, principal: Viewer) -> ResidentDetail:
    """One resident's status with their 20 newest alerts."""
    with pool.connection() as conn:
        return _detail(conn, settings.site, resident_id, principal)


@router.post(RESIDENTS + "/import")
def import_csv(pool: PoolDep, settings: SettingsDep, _: Admin,
               csv_text: Annotated[str, Body(media_type="text/csv")]) -> ImportResult:
    """CSV with ``resident_id,unit,elderly,lives_alone,consent`` (optional ``not_out_hours``, ``no_sign_hours``,
    ``building``, ``floor``, and the people columns ``name, age, contact_relation, contact_name, contact_phone,
    grid_worker, grid_worker_phone``); ``consent`` is yes or no on every row (a file without it is refused). A row
    naming contacts replaces the resident's stored ones. All rows load or none: problems come back with their line
    numbers.
    """
    try:
        rows = parse_import(csv_text)
    except ResidentCsvError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            {"problems": [str(p) for p in exc.problems]}) from exc
    with pool.connection() as conn, conn.transaction():
        count = import_residents(conn, settings.site, rows)
    return ImportResult(imported=count)


@router.put(RESIDENTS + "/{resident_id}")
def put_resident(resident_id: str, body: ResidentBody, pool: PoolDep, settings: SettingsDep,
                 principal: Admin) -> ResidentDetail:
    """Create or replace a resident's settings; the rules pick them up at the next batch or tick."""
    building, floor = building_floor(body.unit)
    record = ResidentRecord(resident_id, body.unit, body.building or building,
                            body.floor if body.floor is not None else floor, body.elderly, body.lives_alone,
                            body.not_out_hours, body.no_sign_hours, name=body.name, age=body.age)
    with pool.connection() as conn:
        with conn.transaction():
            resident_rows.put_resident(conn, settings.site, record, contacts=body.contacts, consent=body.consent)
        return _detail(conn, settings.site, resident_id, principal)


@router.post(RESIDENTS + "/{resident_id}/away", status_code=status.HTTP_201_CREATED)
def post_away(resident_id: str, body: AwayBody, pool: PoolDep, _: Admin) -> AwayCreated:
    """An away or hospital period: the rules pause for this resident while it lasts."""
    with pool.connection() as conn, conn.transaction():
        if not load_residents(conn, ids=[resident_id], consenting_only=False):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such resident")
        away_id = resident_rows.add_away(conn, resident_id, body.starts_at, body.ends_at, body.reason)
    return AwayCreated.model_validate({"id": away_id, "resident_id": resident_id, "from": body.starts_at.isoformat(),
                                       "to": body.ends_at.isoformat(), "reason": body.reason})


class InactivityBody(BaseModel):
    """Settings of ``no_activity`` to set (names as in docs/inactivity.md); what is left out is inherited. An empty
    body removes all of them (the resident's: the estate's apply again; the estate's: the defaults).
    """

    model_config = {"extra": "forbid"}

    enabled: bool | None = None
    sensitivity: float | None = Field(default=None, gt=0, le=1)
    learning_window_days: float | None = Field(default=None, ge=1, le=365)
    cold_start_days: float | None = Field(default=None, ge=0, le=365)
    cold_day_hours: float | None = Field(default=None, gt=0, le=36)
    cold_night_hours: float | None = Field(default=None, gt=0, le=36)
    min_hours: float | None = Field(default=None, gt=0, le=36)
    max_hours: float | None = Field(default=None, gt=0, le=36)
    record_margin: float | None = Field(default=None, ge=1, le=10)
    record_margin_max_min: float | None = Field(default=None, ge=0, le=600)
    quiet_start_hour: float | None = Field(default=None, ge=0, lt=24)
    quiet_end_hour: float | None = Field(default=None, ge=0, lt=24)

    def values(self) -> dict[str, object]:
        """What the caller set (null quiet hours included: they switch quiet hours off)."""
        return self.model_dump(exclude_unset=True)


def _estate_settings(conn: Conn, settings: Settings) -> tuple[InactivitySettings, dict[str, object],
                                                                dict[str, dict[str, object]]]:
    """(the estate's effective settings, its stored row, residents' stored overrides)."""
    defaults = AlertsConfig.load(settings.alert_rules_file).rules.inactivity
    estate_raw, residents_raw = routine_rows.load_settings(conn, settings.site)
    try:
        return defaults.merged(estate_raw), estate_raw, residents_raw
    except SettingsError:
        return defaults, estate_raw, residents_raw  # an outdated row: the rules ignore it too


def _checked(base: InactivitySettings, values: dict[str, object]) -> InactivitySettings:
    try:
        return base.merged(values)
    except SettingsError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc


def _routine(conn: Conn, settings: Settings, resident_id: str) -> ResidentRoutine:
    found = load_residents(conn, ids=[resident_id], consenting_only=False)
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such resident")
    estate, _, overrides = _estate_settings(conn, settings)
    own = overrides.get(resident_id, {})
    try:
        effective = estate.merged(own)
    except SettingsError:
        effective = estate
    state = load_routines(conn, [resident_id]).get(resident_id) or new_state(effective)
    day = learnt_day(state.model, effective, datetime.now(UTC))
    return ResidentRoutine.model_validate({
        **day, "resident_id": resident_id, "watched": watched(found[0], effective),
        "silence_since": state.silence_since.isoformat() if state.silence_since else None,
        "settings": effective.to_dict(), "overrides": own})


@router.get(RESIDENTS + "/{resident_id}/routine")
def get_routine(resident_id: str, pool: PoolDep, settings: SettingsDep, _: Operator) -> ResidentRoutine:
    """A resident's learnt day (by hour, weekdays and weekends: usual quiet, threshold, longest spell) and their
    effective ``no_activity`` settings. Personal data: operators and admins only.
    """
    with pool.connection() as conn:
        return _routine(conn, settings, resident_id)


@router.put(RESIDENTS + "/{resident_id}/inactivity")
def put_resident_inactivity(resident_id: str, body: InactivityBody, pool: PoolDep, settings: SettingsDep,
                            _: Operator) -> ResidentRoutine:
    """Replace a resident's own ``no_activity`` settings (empty body: inherit the estate's again); checked
    against the estate's before storing. The rules pick them up at the next batch or tick.
    """
    values = body.values()
    with pool.connection() as conn:
        with conn.transaction():
            if not load_residents(conn, ids=[resident_id], consenting_only=False):
                raise HTTPException(status.HTTP_404_NOT_FOUND, "no such resident")
            _checked(_estate_settings(conn, settings)[0], values)
            routine_rows.set_resident_settings(conn, settings.site, resident_id, values or None)
        return _routine(conn, settings, resident_id)


@router.get("/api/v1/inactivity/settings")
def get_estate_inactivity(pool: PoolDep, settings: SettingsDep, _: Viewer) -> EstateInactivity:
    """The estate's ``no_activity`` settings (no personal data)."""
    with pool.connection() as conn:
        effective, stored = _estate_settings(conn, settings)[:2]
    return EstateInactivity.model_validate({"settings": effective.to_dict(), "stored": stored})


@router.put("/api/v1/inactivity/settings")
def put_estate_inactivity(body: InactivityBody, pool: PoolDep, settings: SettingsDep, _: Admin) -> EstateInactivity:
    """Replace the estate's ``no_activity`` settings (empty body: the rules file's defaults). Residents' own
    settings stay, and must still be valid over the new estate settings.
    """
    values = body.values()
    defaults = AlertsConfig.load(settings.alert_rules_file).rules.inactivity
    effective = _checked(defaults, values)
    with pool.connection() as conn, conn.transaction():
        for rid, own in _estate_settings(conn, settings)[2].items():
            try:
                effective.merged(own)
            except SettingsError as exc:
                raise HTTPException(status.HTTP_409_CONFLICT,
                                    f"resident {rid}'s settings would be invalid: {exc}") from exc
        routine_rows.set_estate_settings(conn, settings.site, values)
    return EstateInactivity.model_validate({"settings": effective.to_dict(), "stored": values})
