"""Every change of an alert is recorded here: a history entry, the outbox rows (MQTT and each matching webhook
endpoint) and the ``ew_alerts`` notification, in the caller's transaction, so they commit with the change or not at
all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from alerts.payloads import alert_json, change_note, event_type_for, mqtt_body, new_msg_id, webhook_body
from store import alerts as alert_rows
from store import outbox
from store.alerts import AlertRow
from store.db import Conn
from store.notify import ALERTS_CHANNEL, notify


def outbox_messages(conn: Conn, row: AlertRow, change: str, now: datetime) -> list[outbox.OutboxMessage]:
    """One MQTT message and one per enabled webhook endpoint whose filters accept this change."""
    body = alert_json(row)
    event_type = event_type_for(change)
    mqtt = outbox.OutboxMessage("mqtt", None, new_msg_id(), event_type, row.id, mqtt_body(body, change, now))
    hook = webhook_body(body, change, now)
    return [mqtt] + [outbox.OutboxMessage("webhook", endpoint_id, new_msg_id(), event_type, row.id, hook)
                     for endpoint_id in outbox.matching_endpoints(conn, event_type, row.type)]


def record_change(conn: Conn, row: AlertRow, change: str, actor: str, data: Mapping[str, object],
                  now: datetime) -> None:
    """History + outbox + notification for one change of ``row`` (already updated)."""
    alert_rows.add_history(conn, row.id, now, change, actor, data)
    outbox.enqueue(conn, outbox_messages(conn, row, change, now), now)
    notify(conn, ALERTS_CHANNEL, change_note(row, change))
