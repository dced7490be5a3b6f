"""The one door through which every source raises an alert (littering, elderly, sensors, devices).

Callers pass an ``AlertDraft`` inside their own database transaction, so the source's event row, the alert change
and the outbox rows (webhooks, MQTT ``estate/{site}/alerts``) commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Severity = Literal["info", "minor", "major", "critical"]


@dataclass(frozen=True)
class AlertDraft:
    """What a source knows when it raises an alert; the alert model adds ids, lifecycle and SLA."""

    type: str  # littering, elderly_not_out, no_sign_of_life, smoke, temperature, ebike_charging, device_offline
    severity: Severity
    dedup_key: str  # an open alert with the same key is updated (count + 1), never duplicated
    title: str
    site: str
    occurred_at: datetime
    subject: dict[str, Any] = field(default_factory=dict)  # camera / resident / device, building, floor, unit
    details: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)  # e.g. {"snapshot": "...", "clip": "..."}
