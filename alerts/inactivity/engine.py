"""The in-memory driver of ``no_activity``: replay, simulation, evaluation and the benchmark.

Same shape as ``alerts.engine.RuleEngine`` (events and ``advance`` move a forward-only clock; a ``DueIndex`` holds
one due time per resident, so due-time work follows what is due), with presence folded by ``alerts.presence``.
``settings_for`` gives each resident's settings (estate defaults merged with their overrides).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, tzinfo

from alerts.inactivity.rule import (
    InactivityFiring,
    InactivityState,
    at_home,
    evaluate,
    new_state,
    next_due,
    observe,
)
from alerts.inactivity.settings import InactivitySettings
from alerts.presence import PresenceConfig, PresenceEvent, PresenceState, Resident, apply_event, settle
from alerts.schedule import DueIndex


class InactivityEngine:
    """Residents' presence, routines and the no_activity rule over a forward-only clock."""

    def __init__(self, residents: Iterable[Resident], tz: tzinfo, settings: InactivitySettings | None = None,
                 presence: PresenceConfig | None = None,
                 settings_for: Callable[[Resident], InactivitySettings] | None = None) -> None:
        self.tz = tz
        self.presence_cfg = presence or PresenceConfig()
        base = settings or InactivitySettings()
        self.residents = {r.resident_id: r for r in residents}
        self.settings = {rid: (settings_for(r) if settings_for else base) for rid, r in self.residents.items()}
        self.by_unit: dict[str, list[Resident]] = defaultdict(list)
        for r in self.residents.values():
            self.by_unit[r.unit].append(r)
        self.presence: dict[str, PresenceState] = {rid: PresenceState() for rid in self.residents}
        self.states: dict[str, InactivityState] = {rid: new_state(self.settings[rid]) for rid in self.residents}
        self.index = DueIndex()
        self.now: datetime | None = None
        self.events = 0
        self.evaluations = 0

    def advance(self, now: datetime) -> list[InactivityFiring]:
        """Run every check due up to ``now``, each at its own due time (never before the clock)."""
        fired: list[InactivityFiring] = []
        for due, rid in self.index.pop_due(now):
            at = due if self.now is None or due > self.now else self.now
            self.now = at
            fired.extend(self._check(rid, at))
        if self.now is None or now > self.now:
            self.now = now
        return fired

    def on_event(self, ev: PresenceEvent) -> list[InactivityFiring]:
        """Advance to the event, learn from it, fold it into presence, check the residents it concerns."""
        fired = self.advance(ev.ts)
        self.events += 1
        if ev.kind == "access":
            r = self.residents.get(ev.resident or "")
            targets = [r] if r is not None else []
        else:
            targets = self.by_unit.get(ev.unit or "", [])
        for r in targets:
            rid = r.resident_id
            pstate = self.presence[rid]
            settle(pstate, r, ev.ts, self.presence_cfg)
            observe(self.states[rid], r, ev, at_home(pstate), self.tz)
            apply_event(pstate, r, ev, self.presence_cfg)
            fired.extend(self._check(rid, ev.ts))
        return fired

    def _check(self, rid: str, at: datetime) -> list[InactivityFiring]:
        self.evaluations += 1
        r, pstate, state, cfg = self.residents[rid], self.presence[rid], self.states[rid], self.settings[rid]
        settle(pstate, r, at, self.presence_cfg)
        fired = evaluate(state, r, pstate, at, cfg, self.tz)
        self.index.set(rid, next_due(state, r, pstate, at, cfg, self.tz, self.presence_cfg.door_quiet))
        return [fired] if fired is not None else []

    def first_alert_after_silence(self, rid: str, now: datetime, horizon: timedelta) -> InactivityFiring | None:
        """On copies of the resident's state: the first alert if nothing more is heard from ``now`` on (within
        ``horizon``). What an evaluation cut at ``now`` measures, without disturbing this engine.
        """
        r, cfg = self.residents[rid], self.settings[rid]
        pstate = PresenceState.from_json(self.presence[rid].to_json())
        src = self.states[rid]
        state = InactivityState(src.model, src.silence_since, src.raised_for, src.last_door, src.left_at,
                                src.unconfirmed_since, src.silence_sign)  # the model is only read
        at, end = now, now + horizon
        for _ in range(64):
            settle(pstate, r, at, self.presence_cfg)
            fired = evaluate(state, r, pstate, at, cfg, self.tz)
            if fired is not None:
                return fired
            due = next_due(state, r, pstate, at, cfg, self.tz, self.presence_cfg.door_quiet)
            if due is None or due > end:
                return None
            at = max(due, at + timedelta(seconds=1))
        return None
