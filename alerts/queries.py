"""Alerts as the API and the console read them: one alert with its history, comments and deliveries, or a list."""

from __future__ import annotations

from datetime import datetime

from alerts.payloads import (
    AlertDeliveryJson,
    AlertJson,
    CommentJson,
    HistoryJson,
    alert_delivery_json,
    alert_json,
    comment_json,
    history_json,
)
from alerts.triage import ranked_types
from store import alerts as alert_rows
from store import outbox
from store.alerts import AlertFilter, SilenceRow, TriageOrder
from store.db import Conn


def get_alert(conn: Conn, alert_id: str) -> AlertJson | None:
    """One alert's body, or None."""
    row = alert_rows.get_alert(conn, alert_id)
    return alert_json(row) if row is not None else None


def history(conn: Conn, alert_id: str) -> list[HistoryJson]:
    """Every change of one alert, oldest first."""
    return [history_json(r) for r in alert_rows.history(conn, alert_id)]


def comments(conn: Conn, alert_id: str) -> list[CommentJson]:
    """Staff comments on one alert, oldest first."""
    return [comment_json(r) for r in alert_rows.comments(conn, alert_id)]


def deliveries(conn: Conn, alert_id: str) -> list[AlertDeliveryJson]:
    """Where each change of the alert went (MQTT and each webhook endpoint) and how that went."""
    return [alert_delivery_json(r) for r in outbox.for_alert(conn, alert_id)]


def alert_detail(conn: Conn, alert_id: str) -> dict[str, object] | None:
    """The alert with its full history, comments and deliveries, or None."""
    body = get_alert(conn, alert_id)
    if body is None:
        return None
    return {**body, "history": history(conn, alert_id), "comments": comments(conn, alert_id),
            "deliveries": deliveries(conn, alert_id)}


def triage_order() -> TriageOrder:
    """Life-safety types first, device alerts last (``alerts.triage``), then severity, then the nearest deadline."""
    ranked, default = ranked_types()
    return TriageOrder(ranked_types=ranked, default_rank=default)


def list_alerts(conn: Conn, *, site: str | None = None, status: str | None = None, type_: str | None = None,
                severity: str | None = None, resident: str | None = None, building: str | None = None,
                before: datetime | None = None, limit: int = 100, triage: bool = False) -> list[AlertJson]:
    """Filtered; newest first (``before``, a created_at, pages further back), or in the queue's triage order."""
    flt = AlertFilter(site=site, status=status, type=type_, severity=severity, building=building,
                      resident=resident, before=before)
    order = triage_order() if triage else None
    return [alert_json(r) for r in alert_rows.list_alerts(conn, flt, limit, order)]


def active_silences(conn: Conn, site: str, now: datetime) -> list[SilenceRow]:
    """The silences in force now, soonest end first."""
    return alert_rows.active_silences(conn, site, now)
