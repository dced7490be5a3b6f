"""The "54321" SLA policy and escalation, as pure functions over an alert's stored SLA fields.

The database code stores what these functions decide, so the rules are tested on a fake clock without a database
and the service, the API and replay all agree on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from alerts.lifecycle import Severity, severity_up

SlaClass = Literal["simple", "general", "complex"]
Deadline = Literal["ack", "resolve"]


def _default_resolve() -> dict[str, timedelta]:
    return {"simple": timedelta(minutes=40), "general": timedelta(hours=3), "complex": timedelta(days=2)}


def _default_classes() -> dict[str, str]:
    return {
        "no_sign_of_life": "simple",
        "no_activity": "simple",
        "smoke": "simple",
        "gas": "simple",
        "water_leak": "simple",
        "temperature": "simple",
        "ebike_charging": "simple",
        "elderly_not_out": "general",
        "littering": "general",
        "device_offline": "complex",
    }


@dataclass(frozen=True)
class SlaPolicy:
    """"54321": on site (acknowledged) within 5 minutes; simple problems solved in 40 minutes, general ones in
    3 hours, complex ones in 2 days. Alert types map to a class; unknown types are general.
    """

    ack_within: timedelta = timedelta(minutes=5)
    resolve_within: dict[str, timedelta] = field(default_factory=_default_resolve)
    type_class: dict[str, str] = field(default_factory=_default_classes)
    # Who is told, in order; each breach moves the alert to the next group.
    recipient_groups: tuple[str, ...] = ("duty", "supervisor", "manager")

    def class_of(self, alert_type: str) -> str:
        """The SLA class of an alert type; types nobody configured are general."""
        return self.type_class.get(alert_type, "general")

    def deadlines(self, alert_type: str, created_at: datetime) -> tuple[datetime, datetime]:
        """(acknowledge by, resolve by) for an alert created at ``created_at``."""
        cls = self.class_of(alert_type)
        return created_at + self.ack_within, created_at + self.resolve_within.get(cls, timedelta(hours=3))

    def group(self, level: int) -> str:
        """The recipient group at an escalation level (the last group keeps every further level)."""
        return self.recipient_groups[min(level, len(self.recipient_groups) - 1)]

    @classmethod
    def from_dict(cls, raw: Mapping[str, object]) -> SlaPolicy:
        """Build from configuration (minutes for durations), keeping defaults for what is left out."""
        base = cls()
        resolve = dict(base.resolve_within)
        for name, minutes in _mapping(raw.get("resolve_minutes")).items():
            resolve[str(name)] = timedelta(minutes=_number(minutes))
        ack = raw.get("ack_minutes")
        groups = raw.get("recipient_groups")
        return cls(
            ack_within=timedelta(minutes=_number(ack)) if ack is not None else base.ack_within,
            resolve_within=resolve,
            type_class={**base.type_class, **{str(k): str(v) for k, v in _mapping(raw.get("type_class")).items()}},
            recipient_groups=tuple(str(g) for g in groups) if isinstance(groups, list | tuple) and groups
            else base.recipient_groups,
        )


def _mapping(value: object) -> Mapping[object, object]:
    return value if isinstance(value, Mapping) else {}


def _number(value: object) -> float:
    if isinstance(value, int | float | str):
        return float(value)
    raise ValueError(f"expected a number, got {value!r}")


@dataclass(frozen=True)
class Breach:
    """One SLA deadline missed: which one and what escalation follows."""

    which: Deadline
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
    checks: list[tuple[Deadline, datetime, bool]] = [
        ("ack", view.ack_due_at, view.status == "open" and not view.ack_breached),
        ("resolve", view.resolve_due_at, not view.resolve_breached),
    ]
    for which, due, pending in checks:
        if pending and due <= now:
            severity, level = severity_up(severity), level + 1
            found.append(Breach(which, due, severity, level, policy.group(level)))
    return found
