"""What a source knows when it raises an alert (``AlertDraft``), and the one builder per alert type.

Pure: the builders turn a rule's firing (or a littering event's plain values) into a draft, and
``alerts.intake.raise_alert`` turns the draft into a stored alert. Tested without a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from alerts.lifecycle import Severity
from alerts.presence_rules import Firing
from alerts.sensor_rules import SensorFiring
from alerts.wording import duration, span


@dataclass(frozen=True)
class AlertDraft:
    """What a source knows when it raises an alert; the alert model adds ids, lifecycle and SLA."""

    type: str  # littering, elderly_not_out, no_sign_of_life, no_activity, smoke, temperature, ebike_charging,
    # device_offline
    severity: Severity
    dedup_key: str  # an open alert with the same key is updated (count + 1), never duplicated
    title: str
    site: str
    occurred_at: datetime
    subject: dict[str, object] = field(default_factory=dict)  # camera / resident / device, building, floor, unit
    details: dict[str, object] = field(default_factory=dict)
    evidence: dict[str, object] = field(default_factory=dict)  # e.g. {"snapshot": "...", "clip": "..."}


def _started(firing: Firing) -> datetime:
    """When the stretch or quiet spell began (its episode), for the duration in the title."""
    value = firing.episode
    return datetime.fromisoformat(value) if isinstance(value, str) and value else firing.due_at


def resident_draft(firing: Firing, site: str) -> AlertDraft:
    """``elderly_not_out``, ``no_sign_of_life`` or ``no_activity`` for a resident: one open alert per resident and
    type (a reminder updates it, title included: "has not gone out for 36 h 5 min").
    """
    if firing.type == "no_activity":
        return no_activity_draft(firing, site)
    r = firing.resident
    title = (f"Resident {r.resident_id} ({r.unit}) has not gone out for"
             f" {span(firing.at - _started(firing))}"
             if firing.type == "elderly_not_out" else
             f"No sign of life from {r.unit} for {span(firing.at - _started(firing))}")
    subject: dict[str, object] = {"resident": r.resident_id, "unit": r.unit, "building": r.building,
                                  "floor": r.floor}
    return AlertDraft(type=firing.type, severity=firing.severity, dedup_key=firing.dedup_key, title=title,
                      site=site, occurred_at=firing.at, subject=subject, details=firing.details)


def no_activity_draft(firing: Firing, site: str) -> AlertDraft:
    """A silence improbable for this resident at this hour (their learnt routine); the details carry the
    explanation staff read ("no activity since 09:42 (3 h 10 min); on weekdays at this hour ...").
    """
    r = firing.resident
    minutes = firing.details.get("quiet_minutes")
    hours = duration(float(minutes)) if isinstance(minutes, int | float) else "a long time"
    basis = "cold start" if firing.details.get("cold_start") else "unusual for this resident"
    subject: dict[str, object] = {"resident": r.resident_id, "unit": r.unit, "building": r.building,
                                  "floor": r.floor}
    return AlertDraft(type="no_activity", severity=firing.severity, dedup_key=firing.dedup_key,
                      title=f"No activity from {r.unit} for {hours} ({basis})", site=site, occurred_at=firing.at,
                      subject=subject, details=firing.details)


def sensor_draft(firing: SensorFiring, site: str, subject: Mapping[str, object] | None = None) -> AlertDraft:
    """A sensor or device alert, one active alert per device and type; ``subject`` adds building, floor, unit."""
    return AlertDraft(type=firing.type, severity=firing.severity, dedup_key=f"{firing.type}:{firing.device_id}",
                      title=f"{firing.title}: {firing.device_id}", site=site, occurred_at=firing.at,
                      subject={"device": firing.device_id, **(subject or {})}, details=firing.details)


def littering_draft(*, site: str, camera: str, event_id: str, building: str | None, floor: int | None,
                    occurred_at: datetime, details: Mapping[str, object], evidence: Mapping[str, object],
                    window_column: int | None = None, unit: str | None = None) -> AlertDraft:
    """An object thrown from a tower, keyed by camera and detection event; the title names the floor it came from,
    and on a calibrated camera the window column (``window_column`` 0-based, shown 1-based) and the unit behind it.
    """
    where = f"floor {floor}" if floor is not None else "unknown floor"
    column = window_column + 1 if window_column is not None and floor is not None else None
    if column is not None:
        where += f", column {column}" + (f" (unit {unit})" if unit else "")
    subject: dict[str, object] = {"camera": camera, "building": building, "floor": floor}
    if column is not None:
        subject |= {"window_column": column, **({"unit": unit} if unit else {})}
    return AlertDraft(type="littering", severity="major", dedup_key=f"littering:{camera}:{event_id}",
                      title=f"Object thrown from {where} ({camera})", site=site, occurred_at=occurred_at,
                      subject=subject, details=dict(details), evidence=dict(evidence))
