"""What staff and the SLA clock do to an alert: acknowledge, assign, comment, resolve, escalate.

Each action checks the lifecycle first (``alerts.lifecycle``), stores the change (``store.alerts``) and records it
(``alerts.change_log``: history, outbox, notification) in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from alerts.change_log import record_change
from alerts.lifecycle import check_transition
from alerts.sla import SlaPolicy, SlaView, due_breaches
from store import alerts as alert_rows
from store.alerts import AlertFilter, AlertRow, SilenceRow
from store.db import Conn


def _locked(conn: Conn, alert_id: str) -> AlertRow:
    row = alert_rows.get_alert(conn, alert_id, lock=True)
    if row is None:
        raise KeyError(alert_id)
    return row


def acknowledge(conn: Conn, alert_id: str, actor: str, now: datetime,
                data: Mapping[str, object] | None = None) -> AlertRow:
    """Someone is on it: stops the acknowledge clock; the first to acknowledge becomes the assignee if none is.
    ``data`` goes into the history entry (e.g. the work order whose responder confirmed being on site).

    Raises:
        KeyError: when there is no such alert.
        LifecycleError: when the alert is not open.
    """
    current = _locked(conn, alert_id)
    check_transition(current.status, "acknowledged")
    row = alert_rows.update_alert(conn, alert_id, {"status": "acknowledged", "acknowledged_at": now,
                                                   "updated_at": now, "assignee": current.assignee or actor})
    record_change(conn, row, "acknowledged", actor, dict(data or {}), now)
    return row


def assign(conn: Conn, alert_id: str, assignee: str, actor: str, now: datetime) -> AlertRow:
    """Hand the alert to someone (not once it is resolved).

    Raises:
        KeyError: when there is no such alert.
        LifecycleError: when the alert is resolved.
    """
    current = _locked(conn, alert_id)
    if current.status == "resolved":
        check_transition("resolved", "acknowledged")
    row = alert_rows.update_alert(conn, alert_id, {"assignee": assignee, "updated_at": now})
    record_change(conn, row, "assigned", actor, {"assignee": assignee, "previous": current.assignee}, now)
    return row


def comment(conn: Conn, alert_id: str, author: str, body: str, now: datetime) -> AlertRow:
    """Add a staff comment.

    Raises:
        KeyError: when there is no such alert.
    """
    _locked(conn, alert_id)
    alert_rows.add_comment(conn, alert_id, now, author, body)
    row = alert_rows.update_alert(conn, alert_id, {"updated_at": now})
    record_change(conn, row, "commented", author, {"body": body}, now)
    return row


def resolve(conn: Conn, alert_id: str, resolution: str, actor: str, now: datetime,
            note: str | None = None) -> AlertRow:
    """Close the alert for good: the next raise with its key opens a new one.

    Raises:
        KeyError: when there is no such alert.
        LifecycleError: when the alert is already resolved.
    """
    current = _locked(conn, alert_id)
    check_transition(current.status, "resolved")
    row = alert_rows.update_alert(conn, alert_id, {"status": "resolved", "resolution": resolution,
                                                   "resolved_at": now, "updated_at": now})
    record_change(conn, row, "resolved", actor, {"resolution": resolution, "note": note}, now)
    return row


def acknowledge_matching(conn: Conn, flt: AlertFilter, actor: str, now: datetime, limit: int = 500) -> list[str]:
    """Acknowledge every open alert matching ``flt`` (at most ``limit``), each recorded as if done one by one.

    Alerts another transaction holds are skipped (they are being changed right now); the ids acknowledged are
    returned, oldest first.
    """
    ids = alert_rows.lock_matching(conn, replace(flt, status="open"), limit)
    for alert_id in ids:
        acknowledge(conn, alert_id, actor, now)
    return ids


def silence(conn: Conn, *, site: str, type_: str, building: str | None, reason: str, actor: str, now: datetime,
            ends_at: datetime) -> SilenceRow:
    """Mute alerts of one type (in one building, or all) until ``ends_at``: still stored and listed, never dropped.

    Raises:
        ValueError: when the end time is not in the future or the reason is blank.
    """
    if ends_at <= now:
        raise ValueError("a silence must end in the future")
    if not reason.strip():
        raise ValueError("a silence needs a reason")
    return alert_rows.add_silence(conn, site=site, type_=type_, building=building, reason=reason.strip(),
                                  created_by=actor, now=now, ends_at=ends_at)


def escalate_due(conn: Conn, now: datetime, policy: SlaPolicy, limit: int = 500, site: str | None = None) -> int:
    """Escalate alerts whose acknowledge or resolve deadline has passed; the partial indexes keep this cheap."""
    rows = alert_rows.due_for_escalation(conn, now, site=site, limit=limit)
    for current in rows:
        view = SlaView(current.status, current.severity, current.ack_due_at, current.resolve_due_at,
                       current.ack_breached, current.resolve_breached, current.escalation_level)
        for breach in due_breaches(view, now, policy):
            flag = "ack_breached" if breach.which == "ack" else "resolve_breached"
            row = alert_rows.update_alert(conn, current.id, {
                flag: True, "severity": breach.new_severity, "escalation_level": breach.new_level,
                "recipient_group": breach.new_group, "updated_at": now})
            record_change(conn, row, "escalated", "system", {
                "breach": breach.which, "due_at": breach.due_at.isoformat(), "severity": breach.new_severity,
                "recipient_group": breach.new_group}, now)
    return len(rows)
