"""The estate's site plan (``EW_ESTATE_FILE``) merged with what the camera files already say, and the state of
each tower on it.

Most of the map is known without a plan: littering cameras name their tower (``building``) and their calibration
the floors they see; entrance cameras name their gate. The plan file adds what nobody else knows (where things
stand, how many floors a tower without a camera has, how units are numbered) and anything it leaves out is placed
on a grid. Pure: files are read by the caller, so the merging and the colouring are tested without I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alerts.triage import priority
from api.models.estate import CameraPlace, MapGate, TowerPlace
from vision.camera_config import CameraConfig

PLAN_ID = r"^[A-Za-z0-9_.:-]{1,64}$"
TowerState = Literal["quiet", "alerts", "camera_offline"]
_SEVERITY_RANK = {"info": 0, "minor": 1, "major": 2, "critical": 3}


class PlanError(ValueError):
    """The estate file cannot be used; the message names the file and the problem."""


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TowerPlan(_Closed):
    """A tower: its footprint on the plan (plan units, y down) and, optionally, how its units are numbered."""

    id: str = Field(pattern=PLAN_ID)
    name: str | None = Field(default=None, max_length=80)
    floors: int | None = Field(default=None, ge=1, le=200)
    x: float | None = None
    y: float | None = None
    width: float = Field(default=120.0, gt=0)
    height: float = Field(default=70.0, gt=0)
    # e.g. "{tower}-{floor}{unit:02d}": a littering alert's window column becomes a unit; unset = column only
    unit_format: str | None = Field(default=None, max_length=64)
    columns_per_unit: int = Field(default=1, ge=1, le=20)

    @field_validator("unit_format")
    @classmethod
    def _formats(cls, fmt: str | None) -> str | None:
        if fmt is not None:
            try:
                fmt.format(tower="T", floor=1, column=1, unit=1)
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError("unit_format may use only {tower}, {floor}, {column} and {unit}") from exc
        return fmt


class GatePlan(_Closed):
    """A gate of the estate: where it is on the plan."""

    id: str = Field(pattern=PLAN_ID)
    name: str | None = Field(default=None, max_length=80)
    x: float | None = None
    y: float | None = None


class CameraPlan(_Closed):
    """Where a camera stands on the plan; ``tower`` and ``gate`` override what the camera files say."""

    id: str = Field(pattern=PLAN_ID)
    x: float | None = None
    y: float | None = None
    tower: str | None = Field(default=None, pattern=PLAN_ID)
    gate: str | None = Field(default=None, pattern=PLAN_ID)


class EstatePlan(_Closed):
    """The estate file: every section optional."""

    name: str | None = Field(default=None, max_length=80)
    width: float = Field(default=1000.0, gt=0)
    height: float = Field(default=600.0, gt=0)
    towers: list[TowerPlan] = Field(default_factory=list)
    gates: list[GatePlan] = Field(default_factory=list)
    cameras: list[CameraPlan] = Field(default_factory=list)


def load_plan(path: Path | None) -> EstatePlan:
    """Read the estate file; none configured means an empty plan (everything derived)."""
    if path is None:
        return EstatePlan()
    try:
        plan = EstatePlan.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise PlanError(f"estate file {path}: {exc}") from exc
    except ValidationError as exc:
        raise PlanError(f"estate file {path}: {exc}") from exc
    for section in (plan.towers, plan.gates, plan.cameras):
        ids = [item.id for item in section]
        if len(set(ids)) != len(ids):
            raise PlanError(f"estate file {path}: ids must be unique within towers, gates and cameras")
    return plan


class Tower(TowerPlace):
    """A tower placed on the plan, with how its units are numbered (which the map does not show)."""

    model_config = ConfigDict(frozen=True)

    unit_format: str | None
    columns_per_unit: int


class Gate(MapGate):
    """A gate placed on the plan."""

    model_config = ConfigDict(frozen=True)


class PlacedCamera(CameraPlace):
    """A camera placed on the plan: ``littering`` cameras look at a tower, ``entrance`` cameras watch a gate."""

    model_config = ConfigDict(frozen=True)


@dataclass(frozen=True)
class Layout:
    """Towers, gates and cameras of the estate, all with positions."""

    name: str
    width: float
    height: float
    towers: list[Tower]
    gates: list[Gate]
    cameras: list[PlacedCamera]


def top_floor(cfg: CameraConfig) -> int | None:
    """The highest floor a calibrated camera sees (floor lines are the boundaries, bottom up)."""
    return cfg.first_floor + len(cfg.floor_lines) - 2 if cfg.calibrated else None


def build_layout(plan: EstatePlan, cameras: Mapping[str, CameraConfig], entrance: Mapping[str, str]) -> Layout:
    """Merge the plan with the littering cameras (by id) and the entrance cameras (id -> gate)."""
    placed = {c.id: c for c in plan.cameras}
    tower_of = {cid: (placed[cid].tower if cid in placed else None) or cfg.building for cid, cfg in cameras.items()}
    floors_seen: dict[str, int] = {}
    for cid, cfg in cameras.items():
        tower, top = tower_of[cid], top_floor(cfg)
        if tower and top is not None:
            floors_seen[tower] = max(floors_seen.get(tower, 0), top)
    listed = {t.id: t for t in plan.towers}
    tower_ids = [*listed, *sorted({t for t in tower_of.values() if t and t not in listed})]
    slots = _grid(len(tower_ids), plan.width, plan.height * 0.8)
    towers = []
    for (sx, sy), tid in zip(slots, tower_ids, strict=True):
        p = listed.get(tid) or TowerPlan(id=tid)
        towers.append(Tower(id=tid, name=p.name or f"Tower {tid}", floors=p.floors or floors_seen.get(tid),
                            x=p.x if p.x is not None else sx - p.width / 2,
                            y=p.y if p.y is not None else sy - p.height / 2,
                            width=p.width, height=p.height, unit_format=p.unit_format,
                            columns_per_unit=p.columns_per_unit))
    gate_of = {cid: (placed[cid].gate if cid in placed else None) or gate for cid, gate in entrance.items()}
    gate_plans = {g.id: g for g in plan.gates}
    gate_ids = [*gate_plans, *sorted({g for g in gate_of.values() if g and g not in gate_plans})]
    gates = []
    for i, gid in enumerate(gate_ids):
        g = gate_plans.get(gid) or GatePlan(id=gid)
        gates.append(Gate(id=gid, name=g.name or gid, x=g.x if g.x is not None else plan.width * (i + 1) /
                          (len(gate_ids) + 1), y=g.y if g.y is not None else plan.height - 20))
    by_tower = {t.id: t for t in towers}
    by_gate = {g.id: g for g in gates}
    out = [_littering_camera(cid, cfg, tower_of[cid], placed.get(cid), by_tower) for cid, cfg in cameras.items()]
    out += [_entrance_camera(cid, gate_of[cid], placed.get(cid), by_gate) for cid in entrance if cid not in cameras]
    return Layout(name=plan.name or "Estate", width=plan.width, height=plan.height, towers=towers, gates=gates,
                  cameras=sorted(out, key=lambda c: c.id))


def _littering_camera(cid: str, cfg: CameraConfig, tower: str | None, plan: CameraPlan | None,
                      towers: Mapping[str, Tower]) -> PlacedCamera:
    # by default a facade camera stands in front of its tower (below it on the plan), looking up at it
    t = towers.get(tower or "")
    x, y = (t.x + t.width / 2, t.y + t.height + 28) if t else (20.0, 20.0)
    if plan is not None:
        x, y = plan.x if plan.x is not None else x, plan.y if plan.y is not None else y
    return PlacedCamera(id=cid, name=cfg.name or cid, kind="littering", tower=tower, gate=None, x=x, y=y)


def _entrance_camera(cid: str, gate: str, plan: CameraPlan | None, gates: Mapping[str, Gate]) -> PlacedCamera:
    g = gates.get(gate)
    x, y = (g.x + 24, g.y - 14) if g else (20.0, 20.0)
    if plan is not None:
        x, y = plan.x if plan.x is not None else x, plan.y if plan.y is not None else y
    return PlacedCamera(id=cid, name=cid, kind="entrance", tower=None, gate=gate, x=x, y=y)


def _grid(n: int, width: float, height: float) -> list[tuple[float, float]]:
    """Centres of ``n`` cells filling the plan in rows, for towers the plan does not place."""
    if n == 0:
        return []
    cols = math.ceil(math.sqrt(n * width / height))
    rows = math.ceil(n / cols)
    return [(width * (i % cols + 0.5) / cols, height * (i // cols + 0.5) / rows) for i in range(n)]


# --- per-tower state ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenAlert:
    """What the map needs of an unresolved alert: no title or subject, so nothing personal."""

    id: str
    type: str
    severity: str
    status: str
    building: str | None
    floor: int | None
    window_column: int | None
    camera: str | None


@dataclass(frozen=True)
class TowerStatus:
    """A tower's state: quiet, alerts (any unresolved), or camera offline (no alerts, but a camera not streaming)."""

    state: TowerState
    open: int
    acknowledged: int
    worst_severity: str | None
    life_safety: int
    cameras: int
    cameras_offline: int


def tower_status(tower: str, alerts: Iterable[OpenAlert], cameras: Sequence[PlacedCamera],
                 streaming: Mapping[str, bool]) -> TowerStatus:
    """The state of one tower from its unresolved alerts and its cameras' streams."""
    mine = [a for a in alerts if a.building == tower]
    cams = [c for c in cameras if c.tower == tower]
    offline = sum(1 for c in cams if not streaming.get(c.id, False))
    worst = max(mine, key=lambda a: _SEVERITY_RANK.get(a.severity, 0)).severity if mine else None
    state: TowerState = "alerts" if mine else "camera_offline" if offline else "quiet"
    return TowerStatus(state=state, open=sum(1 for a in mine if a.status == "open"),
                       acknowledged=sum(1 for a in mine if a.status == "acknowledged"), worst_severity=worst,
                       life_safety=sum(1 for a in mine if priority(a.type) == "life"), cameras=len(cams),
                       cameras_offline=offline)


def place_text(tower: Tower | None, floor: int | None, column: int | None) -> str | None:
    """Where on the facade, in words: "floor 12, column 3 (unit A-1202)"; columns are shown 1-based."""
    if floor is None:
        return None
    if column is None:
        return f"floor {floor}"
    unit = unit_name(tower, floor, column)
    return f"floor {floor}, column {column + 1}" + (f" (unit {unit})" if unit else "")


def unit_name(tower: Tower | None, floor: int, column: int) -> str | None:
    """The unit behind window column ``column`` (0-based) of ``floor``, when the plan says how units are named."""
    if tower is None or tower.unit_format is None:
        return None
    # checked when the plan was read (TowerPlan), so formatting cannot fail here
    return tower.unit_format.format(tower=tower.id, floor=floor, column=column + 1,
                                    unit=column // tower.columns_per_unit + 1)
