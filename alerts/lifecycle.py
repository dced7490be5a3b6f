"""The alert lifecycle as pure data and rules: severities, statuses, resolutions and the allowed transitions.

Kept free of I/O so the database code, the API and the tests all check the same rules without a database.
"""

from __future__ import annotations

from typing import Literal

Severity = Literal["info", "minor", "major", "critical"]
Status = Literal["open", "acknowledged", "resolved"]
Resolution = Literal["true_positive", "false_positive", "duplicate", "other"]

SEVERITIES: tuple[Severity, ...] = ("info", "minor", "major", "critical")
RESOLUTIONS: tuple[Resolution, ...] = ("true_positive", "false_positive", "duplicate", "other")
STATUSES: tuple[Status, ...] = ("open", "acknowledged", "resolved")

# Which transitions staff may make; "resolved" is final (a new raise with the same key opens a new alert).
_ALLOWED: dict[str, frozenset[str]] = {
    "open": frozenset({"acknowledged", "resolved"}),
    "acknowledged": frozenset({"resolved"}),
    "resolved": frozenset(),
}


class LifecycleError(ValueError):
    """A transition the lifecycle does not allow (e.g. acknowledging a resolved alert)."""


def check_transition(current: str, target: str) -> None:
    """Refuse a change of status the lifecycle does not allow, before anything is written.

    Raises:
        LifecycleError: when ``current`` may not become ``target``.
    """
    if target not in _ALLOWED.get(current, frozenset()):
        raise LifecycleError(f"cannot go from {current} to {target}")


def severity_up(severity: str) -> Severity:
    """One step more severe, capped at critical: what an SLA breach does to an alert."""
    index = SEVERITIES.index(severity) if severity in SEVERITIES else 1
    return SEVERITIES[min(index + 1, len(SEVERITIES) - 1)]


def more_severe(a: str, b: Severity) -> Severity:
    """The higher of two severities: a repeated raise never lowers an alert's severity."""
    return max(as_severity(a), b, key=SEVERITIES.index)


def as_severity(value: str) -> Severity:
    """A stored severity string as a ``Severity`` (the table's CHECK constraint guarantees one of the four)."""
    for known in SEVERITIES:
        if value == known:
            return known
    raise ValueError(f"unknown severity {value!r}")
