"""The database driver of the sensor and device rules, in batches: a few statements per batch, not per message."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from alerts.model import SlaPolicy
from alerts.repository import resolve, upsert_alert
from alerts.sensors import SensorFiring, SensorRuleConfig, check_offline, offline_due, on_status, on_telemetry


@dataclass(frozen=True)
class DeviceMessage:
    """A telemetry reading (``metrics``) or a status message (``online``) from one device."""

    device_id: str
    ts: datetime
    metrics: dict[str, float] | None = None
    online: bool | None = None


@dataclass
class DeviceRules:
    site: str
    cfg: SensorRuleConfig
    policy: SlaPolicy

    def on_messages(self, conn: psycopg.Connection[Any], messages: list[DeviceMessage], now: datetime) -> list[str]:
        """Apply messages in order in the caller's transaction; return ids of alerts raised or updated."""
        if not messages:
            return []
        ids = sorted({m.device_id for m in messages})
        info = self._info(conn, ids)
        conn.execute("INSERT INTO sensor_rule_state (device_id, site, state) SELECT id, %s, '{}'"
                     " FROM unnest(%s::text[]) AS id ORDER BY id ON CONFLICT DO NOTHING", (self.site, ids))
        rows = conn.execute("SELECT device_id, state FROM sensor_rule_state WHERE device_id = ANY(%s)"
                            " ORDER BY device_id FOR UPDATE", (ids,)).fetchall()
        states: dict[str, dict[str, Any]] = {r["device_id"]: dict(r["state"] or {}) for r in rows}
        fired: list[SensorFiring] = []
        back_online: set[str] = set()
        for m in messages:
            state = states[m.device_id]
            was_offline = bool(state.get("offline_fired"))
            if m.metrics is not None:
                interval = info.get(m.device_id, ({}, None))[1]
                fired += on_telemetry(state, m.device_id, m.ts, m.metrics, self.cfg, interval)
                if was_offline:
                    back_online.add(m.device_id)
            elif m.online is not None:
                fired += on_status(state, m.device_id, now, m.online)
                if m.online:
                    back_online.add(m.device_id)
                else:
                    back_online.discard(m.device_id)
        self._save(conn, states)
        for device_id in sorted(back_online):
            self._auto_resolve(conn, device_id, now)
        return self._raise(conn, fired, info, now)

    def tick(self, conn: psycopg.Connection[Any], now: datetime, limit: int) -> list[str]:
        """Devices silent for longer than their offline limit."""
        rows = conn.execute("SELECT device_id, state FROM sensor_rule_state WHERE site = %s AND next_due_at <= %s"
                            " ORDER BY next_due_at LIMIT %s FOR UPDATE SKIP LOCKED",
                            (self.site, now, limit)).fetchall()
        if not rows:
            return []
        states = {r["device_id"]: dict(r["state"]) for r in rows}
        fired = [f for device_id, state in states.items() for f in check_offline(state, device_id, now, self.cfg)]
        self._save(conn, states)
        return self._raise(conn, fired, self._info(conn, sorted(states)), now)

    def _info(self, conn: psycopg.Connection[Any], ids: list[str]) -> dict[str, tuple[dict[str, Any], float | None]]:
        """Subject fields (building, floor, unit) and configured interval of registered devices."""
        rows = conn.execute("SELECT device_id, interval_s, meta FROM devices WHERE device_id = ANY(%s)",
                            (ids,)).fetchall()
        out = {}
        for row in rows:
            meta = dict(row["meta"] or {})
            out[row["device_id"]] = ({k: meta[k] for k in ("building", "floor", "unit") if k in meta},
                                     row["interval_s"])
        return out

    def _save(self, conn: psycopg.Connection[Any], states: dict[str, dict[str, Any]]) -> None:
        ids = list(states)
        conn.execute(
            "UPDATE sensor_rule_state s SET state = v.state::jsonb, next_due_at = v.due, updated_at = now()"
            " FROM unnest(%s::text[], %s::text[], %s::timestamptz[]) AS v(id, state, due) WHERE s.device_id = v.id",
            (ids, [json.dumps(states[i]) for i in ids], [offline_due(states[i], self.cfg) for i in ids]))

    def _raise(self, conn: psycopg.Connection[Any], fired: list[SensorFiring],
               info: dict[str, tuple[dict[str, Any], float | None]], now: datetime) -> list[str]:
        return [upsert_alert(conn, f.draft(self.site, info.get(f.device_id, ({}, None))[0]), now=now,
                             policy=self.policy).alert_id for f in fired]

    def _auto_resolve(self, conn: psycopg.Connection[Any], device_id: str, now: datetime) -> None:
        row = conn.execute("SELECT id FROM alerts WHERE site = %s AND dedup_key = %s AND status <> 'resolved'",
                           (self.site, f"device_offline:{device_id}")).fetchone()
        if row is not None:
            resolve(conn, row["id"], "other", "system", now, note="device back online")
