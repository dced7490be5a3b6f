"""The database driver of the rules: the service's half of "one implementation, two drivers".

Every batch of events and every due-time tick runs in one transaction: lock the states (in id order), apply the
pure functions, raise alerts (history + outbox + notify), store the states with their ``next_due_at``. Only the
resident directory (settings, reloaded on change) is cached; rule progress lives in the database, so a restart
resumes where the last commit left off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from alerts.device_rules import DeviceMessage, DeviceRules
from alerts.directory import ResidentDirectory
from alerts.model import SlaPolicy
from alerts.presence import PresenceEvent, PresenceState, Resident, apply_event
from alerts.repository import upsert_alert
from alerts.resident_store import claim_due, load_states, save_states
from alerts.rules import Firing, RuleConfig, evaluate, next_due
from alerts.sensors import SensorRuleConfig


@dataclass
class Processor:
    site: str
    rules: RuleConfig = field(default_factory=RuleConfig)
    sensors: SensorRuleConfig = field(default_factory=SensorRuleConfig)
    policy: SlaPolicy = field(default_factory=SlaPolicy)
    directory: ResidentDirectory | None = None

    def __post_init__(self) -> None:
        if self.directory is None:
            self.directory = ResidentDirectory(self.site)
        self._devices = DeviceRules(self.site, self.sensors, self.policy)

    # ---- residents

    def on_presence_event(self, conn: psycopg.Connection[Any], ev: PresenceEvent, now: datetime) -> list[str]:
        return self.on_presence_events(conn, [ev], now)

    def on_presence_events(self, conn: psycopg.Connection[Any], events: list[PresenceEvent],
                           now: datetime) -> list[str]:
        """Apply a batch of access / door / motion / water events in order, in the caller's transaction; return
        the ids of alerts raised or updated. A batch costs a few statements, not a few per event."""
        directory = self._directory(conn, now)
        routed = [(ev, directory.targets(ev)) for ev in events]
        states = load_states(conn, [r.resident_id for _, targets in routed for r in targets], lock=True)
        touched: dict[str, tuple[Resident, datetime]] = {}
        raised: list[str] = []
        for ev, targets in routed:
            at = max(now, ev.ts)
            for r in targets:
                state = states[r.resident_id]
                apply_event(state, r, ev, self.rules.presence)
                raised += self._raise(conn, evaluate(state, r, at, self.rules), at)
                touched[r.resident_id] = (r, at)
        save_states(conn, [(rid, states[rid], next_due(states[rid], r, at, self.rules))
                           for rid, (r, at) in touched.items()])
        return raised

    def tick(self, conn: psycopg.Connection[Any], now: datetime, limit: int = 500) -> list[str]:
        """Evaluate the residents and devices whose due time has come (an indexed query: cost follows what is due)."""
        ids = claim_due(conn, self.site, now, limit)
        raised: list[str] = []
        if ids:
            directory = self._directory(conn, now)
            states = load_states(conn, ids, lock=True)
            saves: list[tuple[str, PresenceState, datetime | None]] = []
            for rid in ids:
                r, state = directory.by_id.get(rid), states[rid]
                if r is None:  # no longer watched (consent withdrawn): forget the due time
                    saves.append((rid, state, None))
                    continue
                raised += self._raise(conn, evaluate(state, r, now, self.rules), now)
                saves.append((rid, state, next_due(state, r, now, self.rules)))
            save_states(conn, saves)
        return raised + self._tick_devices(conn, now, limit)

    def _directory(self, conn: psycopg.Connection[Any], now: datetime) -> ResidentDirectory:
        assert self.directory is not None
        self.directory.sync(conn, now)
        return self.directory

    def _raise(self, conn: psycopg.Connection[Any], fired: list[Firing], now: datetime) -> list[str]:
        out = []
        for f in fired:
            draft = f.draft(self.site)
            if f.reminder and not _active(conn, self.site, draft.dedup_key):
                continue  # staff closed this stretch's alert: no reminders until a new stretch
            out.append(upsert_alert(conn, draft, now=now, policy=self.policy).alert_id)
        return out

    # ---- sensors and devices

    def on_device_messages(self, conn: psycopg.Connection[Any], messages: list[DeviceMessage],
                           now: datetime) -> list[str]:
        return self._devices.on_messages(conn, messages, now)

    def on_telemetry(self, conn: psycopg.Connection[Any], device_id: str, ts: datetime,
                     metrics: dict[str, float], now: datetime) -> list[str]:
        return self._devices.on_messages(conn, [DeviceMessage(device_id, ts, metrics=metrics)], now)

    def on_status(self, conn: psycopg.Connection[Any], device_id: str, online: bool, now: datetime) -> list[str]:
        return self._devices.on_messages(conn, [DeviceMessage(device_id, now, online=online)], now)

    def _tick_devices(self, conn: psycopg.Connection[Any], now: datetime, limit: int) -> list[str]:
        return self._devices.tick(conn, now, limit)


def _active(conn: psycopg.Connection[Any], site: str, dedup_key: str) -> bool:
    row = conn.execute("SELECT 1 AS hit FROM alerts WHERE site = %s AND dedup_key = %s AND status <> 'resolved'",
                       (site, dedup_key)).fetchone()
    return row is not None
