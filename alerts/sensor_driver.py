"""The database driver of the sensor and device rules, in batches: a few statements per batch, not per message.

States are locked in device-id order, folded through the pure rules (``alerts.sensor_rules``) and stored with their
next offline deadline; what fires is raised through ``alerts.intake.raise_alert`` like every other alert. Metrics
the profile does not know are counted per device kind and name (``store.unknown_metrics``) in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from alerts.actions import resolve
from alerts.drafts import sensor_draft
from alerts.intake import raise_alert
from alerts.sensor_rules import (
    DeviceState,
    SensorFiring,
    SensorRuleConfig,
    check_offline,
    device_state,
    offline_due,
    on_status,
    on_telemetry,
    unknown_metrics,
)
from alerts.sla import SlaPolicy
from store import alerts as alert_rows
from store import unknown_metrics as unknown_rows
from store.alerts import DeviceInfo
from store.db import Conn


@dataclass(frozen=True)
class DeviceMessage:
    """A telemetry reading (``metrics``) or a status message (``online``) from one device."""

    device_id: str
    ts: datetime
    metrics: dict[str, float] | None = None
    online: bool | None = None


def _subject(info: DeviceInfo | None) -> dict[str, object]:
    """Building, floor and unit from the device registry's ``meta``, where known."""
    meta = info.meta if info is not None else {}
    return {k: meta[k] for k in ("building", "floor", "unit") if k in meta}


def _meta(info: Mapping[str, DeviceInfo], device_id: str) -> Mapping[str, object] | None:
    found = info.get(device_id)
    return found.meta if found is not None else None


@dataclass
class _UnknownCounts:
    """One batch's unknown metrics: (kind, metric) -> (readings, device ids)."""

    counts: dict[tuple[str, str], tuple[int, list[str]]] = field(default_factory=dict)

    def add(self, device_id: str, found: Sequence[tuple[str, str]]) -> None:
        for key in found:
            n, devices = self.counts.get(key, (0, []))
            self.counts[key] = (n + 1, devices if device_id in devices else [*devices, device_id])


@dataclass
class DeviceRules:
    """Sensor rules of one site over the database, in the caller's transaction."""

    site: str
    cfg: SensorRuleConfig
    policy: SlaPolicy

    def on_messages(self, conn: Conn, messages: Sequence[DeviceMessage], now: datetime) -> list[str]:
        """Apply messages in order in the caller's transaction; return ids of alerts raised or updated."""
        if not messages:
            return []
        ids = sorted({m.device_id for m in messages})
        info = alert_rows.device_info(conn, ids)
        states = {k: device_state(v) for k, v in alert_rows.lock_device_states(conn, self.site, ids).items()}
        fired: list[SensorFiring] = []
        back_online: set[str] = set()
        unknown = _UnknownCounts()
        for m in messages:
            fired += self._apply(states[m.device_id], m, info.get(m.device_id), now, back_online)
            if m.metrics is not None:
                unknown.add(m.device_id, unknown_metrics(m.device_id, m.metrics, self.cfg, _meta(info, m.device_id)))
        self._save(conn, states)
        unknown_rows.add(conn, self.site, unknown.counts, now)
        for device_id in sorted(back_online):
            self._auto_resolve(conn, device_id, now)
        return self._raise(conn, fired, info, now)

    def _apply(self, state: DeviceState, m: DeviceMessage, info: DeviceInfo | None, now: datetime,
               back_online: set[str]) -> list[SensorFiring]:
        """One message into its device's state; tracks which devices came back from offline."""
        state["last_heard"] = now.isoformat()
        if m.metrics is not None:
            was_offline = bool(state.get("offline_fired"))
            fired = on_telemetry(state, m.device_id, m.ts, m.metrics, self.cfg,
                                 info.interval_s if info is not None else None,
                                 info.meta if info is not None else None)
            if was_offline:
                back_online.add(m.device_id)
            return fired
        if m.online is None:
            return []
        fired = on_status(state, m.device_id, now, m.online)
        if m.online:
            back_online.add(m.device_id)
        else:
            back_online.discard(m.device_id)
        return fired

    def tick(self, conn: Conn, now: datetime, limit: int) -> list[str]:
        """Devices silent for longer than their offline limit."""
        states = {k: device_state(v) for k, v in alert_rows.claim_due_devices(conn, self.site, now, limit).items()}
        if not states:
            return []
        fired = [f for device_id, state in states.items() for f in check_offline(state, device_id, now, self.cfg)]
        self._save(conn, states)
        return self._raise(conn, fired, alert_rows.device_info(conn, sorted(states)), now)

    def _save(self, conn: Conn, states: Mapping[str, DeviceState]) -> None:
        alert_rows.save_device_states(conn, [(device_id, json.dumps(state), offline_due(state, self.cfg))
                                             for device_id, state in states.items()])

    def _raise(self, conn: Conn, fired: list[SensorFiring], info: Mapping[str, DeviceInfo],
               now: datetime) -> list[str]:
        return [raise_alert(conn, sensor_draft(f, self.site, _subject(info.get(f.device_id))), now=now,
                            policy=self.policy) for f in fired]

    def _auto_resolve(self, conn: Conn, device_id: str, now: datetime) -> None:
        alert_id = alert_rows.active_id(conn, self.site, f"device_offline:{device_id}")
        if alert_id is not None:
            resolve(conn, alert_id, "other", "system", now, note="device back online")
