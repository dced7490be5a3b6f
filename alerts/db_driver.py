"""The database driver of the rules: the service's half of "one implementation, two drivers".

Every batch of events and every due-time tick runs in one transaction: lock the states (in id order), load the
learnt routines of the residents ``no_activity`` watches, apply the pure step (``alerts.resident_step``), raise
alerts through ``alerts.intake.raise_alert`` (history + outbox + notify), store states and routines with the
earliest ``next_due_at`` of all rules. Alerts the residents' own signals end (seen going out, a sign of life) are
resolved in the same transaction by the system, with the reason (``alerts.intake.close_alert``). Only the resident
directory (settings, reloaded on change) is cached; rule progress and routines live in the database, so a restart
resumes where the last commit left off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from alerts import resident_step
from alerts.drafts import resident_draft
from alerts.inactivity.rule import InactivityState, new_state
from alerts.intake import close_alert, raise_alert
from alerts.presence import PresenceEvent, PresenceState, Resident
from alerts.presence_rules import Closing, Firing, RuleConfig, with_zone
from alerts.resident_directory import ResidentDirectory
from alerts.resident_records import load_routines, load_states, save_routines, save_states
from alerts.sensor_driver import DeviceMessage, DeviceRules
from alerts.sensor_rules import SensorRuleConfig
from alerts.sla import SlaPolicy
from common.settings import get_settings
from store import alerts as alert_rows
from store.db import Conn
from store.residents import claim_due


@dataclass
class Processor:
    """The rules of one site over the database: resident rules here, sensor rules in ``DeviceRules``.

    ``tz``: the estate's zone (the learnt routines work in local hours); default ``EW_TIMEZONE``.
    """

    site: str
    rules: RuleConfig = field(default_factory=RuleConfig)
    sensors: SensorRuleConfig = field(default_factory=SensorRuleConfig)
    policy: SlaPolicy = field(default_factory=SlaPolicy)
    directory: ResidentDirectory | None = None
    tz: tzinfo | None = None

    def __post_init__(self) -> None:
        if self.directory is None:
            self.directory = ResidentDirectory(self.site, inactivity=self.rules.inactivity)
        if self.tz is None:
            self.tz = ZoneInfo(get_settings().timezone)
        self.rules = with_zone(self.rules, self.tz)
        self._devices = DeviceRules(self.site, self.sensors, self.policy)

    # ---- residents

    def on_presence_event(self, conn: Conn, ev: PresenceEvent, now: datetime) -> list[str]:
        """One event (see ``on_presence_events``)."""
        return self.on_presence_events(conn, [ev], now)

    def on_presence_events(self, conn: Conn, events: Sequence[PresenceEvent], now: datetime) -> list[str]:
        """Apply a batch of access / door / motion / water events in order, in the caller's transaction; return
        the ids of alerts raised, updated or closed. A batch costs a few statements, not a few per event.
        """
        directory = self._directory(conn, now)
        routed = [(ev, directory.targets(ev)) for ev in events]
        ids = [r.resident_id for _, targets in routed for r in targets]
        states = load_states(conn, ids, lock=True)
        routines = self._routines(conn, directory, {r.resident_id: r for _, targets in routed for r in targets})
        touched: dict[str, tuple[Resident, datetime]] = {}
        raised: list[str] = []
        tz = self._tz()
        for ev, targets in routed:
            at = max(now, ev.ts)
            for r in targets:
                rid = r.resident_id
                state, routine, settings = states[rid], routines.get(rid), directory.inactivity(rid)
                resident_step.apply(state, routine, r, ev, self.rules, tz)
                raised += self._close(conn, resident_step.closings(state, r, ev.ts, tz), at)
                fired = resident_step.check(state, routine, r, at, self.rules, settings, tz, routine_at=ev.ts)
                raised += self._raise(conn, fired, at)
                raised += self._close(conn, resident_step.closings(state, r, at, tz), at)
                touched[rid] = (r, at)
        save_states(conn, [(rid, states[rid], resident_step.due(states[rid], routines.get(rid), r, at, self.rules,
                                                                directory.inactivity(rid), tz))
                           for rid, (r, at) in touched.items()])
        save_routines(conn, {rid: routines[rid] for rid in touched if rid in routines})
        return raised

    def tick(self, conn: Conn, now: datetime, limit: int = 500) -> list[str]:
        """Evaluate the residents and devices whose due time has come (an indexed query: cost follows what is due)."""
        ids = claim_due(conn, self.site, now, limit)
        raised: list[str] = []
        if ids:
            directory = self._directory(conn, now)
            states = load_states(conn, ids, lock=True)
            known = {rid: directory.by_id[rid] for rid in ids if rid in directory.by_id}
            routines = self._routines(conn, directory, known)
            tz = self._tz()
            saves: list[tuple[str, PresenceState, datetime | None]] = []
            for rid in ids:
                r, state = known.get(rid), states[rid]
                if r is None:  # no longer watched (consent withdrawn): forget the due time
                    saves.append((rid, state, None))
                    continue
                routine, settings = routines.get(rid), directory.inactivity(rid)
                raised += self._raise(conn, resident_step.check(state, routine, r, now, self.rules, settings, tz),
                                      now)
                raised += self._close(conn, resident_step.closings(state, r, now, tz), now)
                saves.append((rid, state, resident_step.due(state, routine, r, now, self.rules, settings, tz)))
            save_states(conn, saves)
            save_routines(conn, routines)
        return raised + self._devices.tick(conn, now, limit)

    def _tz(self) -> tzinfo:
        if self.tz is None:
            self.tz = ZoneInfo(get_settings().timezone)
        return self.tz

    def _routines(self, conn: Conn, directory: ResidentDirectory,
                  residents: dict[str, Resident]) -> dict[str, InactivityState]:
        """The routines of the residents ``no_activity`` watches (new ones start cold)."""
        settings = {rid: directory.inactivity(rid) for rid in residents}
        watched = [rid for rid, r in residents.items() if resident_step.watches_routine(r, settings[rid])]
        stored = load_routines(conn, watched)
        return {rid: stored.get(rid) or new_state(settings[rid]) for rid in watched}

    def _directory(self, conn: Conn, now: datetime) -> ResidentDirectory:
        if self.directory is None:
            self.directory = ResidentDirectory(self.site, inactivity=self.rules.inactivity)
        self.directory.sync(conn, now)
        return self.directory

    def _close(self, conn: Conn, closed: list[Closing], now: datetime) -> list[str]:
        """Resolve the open alerts the residents' signals ended (staff may have closed them already)."""
        out = []
        for c in closed:
            alert_id = close_alert(conn, self.site, c.dedup_key, c.reason, now)
            if alert_id is not None:
                out.append(alert_id)
        return out

    def _raise(self, conn: Conn, fired: list[Firing], now: datetime) -> list[str]:
        out = []
        for f in fired:
            draft = resident_draft(f, self.site)
            if f.reminder and alert_rows.active_id(conn, self.site, draft.dedup_key) is None:
                continue  # staff closed this stretch's alert: no reminders until a new stretch (or quiet spell)
            out.append(raise_alert(conn, draft, now=now, policy=self.policy))
        return out

    # ---- sensors and devices

    def on_device_messages(self, conn: Conn, messages: Sequence[DeviceMessage], now: datetime) -> list[str]:
        """Telemetry and status messages of devices, in order (see ``DeviceRules.on_messages``)."""
        return self._devices.on_messages(conn, messages, now)

    def on_telemetry(self, conn: Conn, device_id: str, ts: datetime, metrics: dict[str, float],
                     now: datetime) -> list[str]:
        """One telemetry reading."""
        return self._devices.on_messages(conn, [DeviceMessage(device_id, ts, metrics=metrics)], now)

    def on_status(self, conn: Conn, device_id: str, online: bool, now: datetime) -> list[str]:
        """One status message (``online`` false: the device's last will)."""
        return self._devices.on_messages(conn, [DeviceMessage(device_id, now, online=online)], now)
