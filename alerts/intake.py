"""The one door through which every source raises an alert (littering, elderly, sensors, devices).

Callers pass an ``AlertDraft`` inside their own database transaction, so the source's event row, the alert change
and the outbox rows (webhooks, MQTT ``estate/{site}/alerts``) commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import psycopg

    from alerts.model import SlaPolicy

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


def raise_alert(
    conn: psycopg.Connection[Any],
    draft: AlertDraft,
    *,
    now: datetime | None = None,
    policy: SlaPolicy | None = None,
) -> str:
    """Create the alert, or count one more occurrence on the active alert with the same dedup key; return its id.

    Runs in the caller's transaction: history, SLA deadlines, outbox rows and ``pg_notify('ew_alerts')`` included.
    ``now`` defaults to wall time (replay and tests pass their clock's time).
    """
    from alerts.repository import upsert_alert

    return upsert_alert(conn, draft, now=now, policy=policy).alert_id
