"""The one alert model: lifecycle state machine, "54321" SLA policy and escalation, as pure functions.

The database layer (``alerts.repository``) stores what these functions decide, so the rules are tested on a fake
clock without a database and the service, the API and replay all agree on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from alerts.intake import Severity

Status = Literal["open", "acknowledged", "resolved"]
Resolution = Literal["true_positive", "false_positive", "duplicate", "other"]
SlaClass = Literal["simple", "general", "complex"]

SEVERITIES: tuple[Severity, ...] = ("info", "minor", "major", "critical")
RESOLUTIONS: tuple[str, ...] = ("true_positive", "false_positive", "duplicate", "other")
STATUSES: tuple[str, ...] = ("open", "acknowledged", "resolved")

# Which transitions staff may make; "resolved" is final (a new raise with the same key opens a new alert).
_ALLOWED: dict[str, frozenset[str]] = {
    "open": frozenset({"acknowledged", "resolved"}),
    "acknowledged": frozenset({"resolved"}),
    "resolved": frozenset(),
}


class LifecycleError(ValueError):
    """A transition the lifecycle does not allow (e.g. acknowledging a resolved alert)."""


def check_transition(current: str, target: str) -> None:
    if target not in _ALLOWED.get(current, frozenset()):
        raise LifecycleError(f"cannot go from {current} to {target}")


def severity_up(severity: str) -> Severity:
    """One step more severe, capped at critical: what an SLA breach does to an alert."""
    index = SEVERITIES.index(severity) if severity in SEVERITIES else 1
    return SEVERITIES[min(index + 1, len(SEVERITIES) - 1)]


@dataclass(frozen=True)
class SlaPolicy:
    """"54321": on site (acknowledged) within 5 minutes; simple problems solved in 40 minutes, general ones in
    3 hours, complex ones in 2 days. Alert types map to a class; unknown types are general."""

    ack_within: timedelta = timedelta(minutes=5)
    resolve_within: dict[str, timedelta] = field(default_factory=lambda: {
        "simple": timedelta(minutes=40),
        "general": timedelta(hours=3),
        "complex": timedelta(days=2),
    })
    type_class: dict[str, str] = field(default_factory=lambda: {
        "no_sign_of_life": "simple",
        "smoke": "simple",
        "temperature": "simple",
        "ebike_charging": "simple",
        "elderly_not_out": "general",
        "littering": "general",
        "device_offline": "complex",
    })
    # Who is told, in order; each breach moves the alert to the next group.
    recipient_groups: tuple[str, ...] = ("duty", "supervisor", "manager")

    def class_of(self, alert_type: str) -> str:
        return self.type_class.get(alert_type, "general")

    def deadlines(self, alert_type: str, created_at: datetime) -> tuple[datetime, datetime]:
        """(acknowledge by, resolve by) for an alert created at ``created_at``."""
        cls = self.class_of(alert_type)
        return created_at + self.ack_within, created_at + self.resolve_within.get(cls, timedelta(hours=3))

    def group(self, level: int) -> str:
        return self.recipient_groups[min(level, len(self.recipient_groups) - 1)]

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SlaPolicy:
        """Build from configuration (minutes for durations), keeping defaults for what is left out."""
        base = cls()
        resolve = dict(base.resolve_within)
        for name, minutes in (raw.get("resolve_minutes") or {}).items():
            resolve[str(name)] = timedelta(minutes=float(minutes))
        return cls(
            ack_within=timedelta(minutes=float(raw.get("ack_minutes", base.ack_within.total_seconds() / 60))),
            resolve_within=resolve,
            type_class={**base.type_class, **{str(k): str(v) for k, v in (raw.get("type_class") or {}).items()}},
            recipient_groups=tuple(raw.get("recipient_groups") or base.recipient_groups),
        )


@dataclass(frozen=True)
class Breach:
    """One SLA deadline missed: which one and what escalation follows."""

    which: Literal["ack", "resolve"]
    due_at: datetime
    new_severity: Severity
    new_level: int
    new_group: str


@dataclass(frozen=True)
class SlaView:
    """The SLA part of an alert, as stored."""

    status: str
    severity: str
    ack_due_at: datetime
    resolve_due_at: datetime
    ack_breached: bool
    resolve_breached: bool
    escalation_level: int


def due_breaches(view: SlaView, now: datetime, policy: SlaPolicy) -> list[Breach]:
    """Deadlines passed and not yet escalated. Each escalates one step: severity up, next recipient group."""
    if view.status == "resolved":
        return []
    found: list[Breach] = []
    severity, level = view.severity, view.escalation_level
    checks: list[tuple[Literal["ack", "resolve"], datetime, bool]] = [
        ("ack", view.ack_due_at, view.status == "open" and not view.ack_breached),
        ("resolve", view.resolve_due_at, not view.resolve_breached),
    ]
    for which, due, pending in checks:
        if pending and due <= now:
            severity, level = severity_up(severity), level + 1
            found.append(Breach(which, due, severity, level, policy.group(level)))
    return found
