"""The one door through which every source raises an alert (littering, elderly, sensors, devices).

Callers pass an ``AlertDraft`` (``alerts.drafts``) inside their own database transaction, so the source's event
row, the alert change and the outbox rows (webhooks, MQTT ``estate/{site}/alerts``) commit together or not at all.
``close_alert`` is its counterpart for a source that sees its situation end (a resident seen going out).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from alerts import actions
from alerts.change_log import record_change
from alerts.drafts import AlertDraft
from alerts.lifecycle import more_severe
from alerts.sla import SlaPolicy
from store import alerts as alert_rows
from store.alerts import AlertRow, NewAlert
from store.db import Conn


@dataclass(frozen=True)
class RaiseResult:
    """What a raise did: which alert, whether it is new, and how many occurrences it now counts."""

    alert_id: str
    created: bool
    count: int


def raise_alert(conn: Conn, draft: AlertDraft, *, now: datetime | None = None,
                policy: SlaPolicy | None = None) -> str:
    """Create the alert, or count one more occurrence on the active alert with the same dedup key; return its id.

    Runs in the caller's transaction: history, SLA deadlines, outbox rows and ``pg_notify('ew_alerts')`` included.
    ``now`` defaults to wall time (replay and tests pass their clock's time).
    """
    return raise_draft(conn, draft, now=now or datetime.now(UTC), policy=policy or SlaPolicy()).alert_id


def raise_draft(conn: Conn, draft: AlertDraft, *, now: datetime, policy: SlaPolicy) -> RaiseResult:
    """``raise_alert`` with the whole outcome (new or repeated, count), for callers that report it."""
    for _ in range(3):  # a concurrent raise of the same key may win the insert: then we update theirs
        existing = alert_rows.find_active(conn, draft.site, draft.dedup_key)
        if existing is not None:
            return _repeat(conn, existing, draft, now)
        row = alert_rows.insert_alert(conn, _new_alert(draft, now, policy))
        if row is not None:
            record_change(conn, row, "created", "system", {"occurred_at": draft.occurred_at.isoformat()}, now)
            return RaiseResult(row.id, True, 1)
    raise RuntimeError(f"could not raise alert with dedup key {draft.dedup_key!r}")


def _new_alert(draft: AlertDraft, now: datetime, policy: SlaPolicy) -> NewAlert:
    ack_due, resolve_due = policy.deadlines(draft.type, now)
    building, floor = draft.subject.get("building"), draft.subject.get("floor")
    return NewAlert(
        id="al_" + uuid.uuid4().hex[:20], site=draft.site, type=draft.type, severity=draft.severity,
        dedup_key=draft.dedup_key, title=draft.title, subject=draft.subject,
        building=str(building) if building is not None else None,
        floor=int(floor) if isinstance(floor, int | float) else None, details=draft.details,
        evidence=draft.evidence, occurred_at=draft.occurred_at, created_at=now, sla_class=policy.class_of(draft.type),
        ack_due_at=ack_due, resolve_due_at=resolve_due, recipient_group=policy.group(0))


def _repeat(conn: Conn, existing: AlertRow, draft: AlertDraft, now: datetime) -> RaiseResult:
    row = alert_rows.repeat_alert(conn, existing.id, severity=more_severe(existing.severity, draft.severity),
                                  occurred_at=draft.occurred_at, details=draft.details, evidence=draft.evidence,
                                  now=now, title=draft.title)
    data: dict[str, object] = {"count": row.count, "occurred_at": draft.occurred_at.isoformat()}
    reminder = draft.details.get("reminder")
    if isinstance(reminder, int) and reminder > 0:  # a resident rule's reminder: which one, for the history
        data["reminder"] = reminder
    record_change(conn, row, "repeated", "system", data, now)
    return RaiseResult(row.id, False, row.count)


def close_alert(conn: Conn, site: str, dedup_key: str, reason: str, now: datetime) -> str | None:
    """Resolve the active alert with this key as the system, ``reason`` saying what ended it; its id, or None when
    there is none (staff closed it already). Runs in the caller's transaction, recorded like any resolution.
    """
    alert_id = alert_rows.active_id(conn, site, dedup_key)
    if alert_id is None:
        return None
    actions.resolve(conn, alert_id, "other", "system", now, note=reason)
    return alert_id
