"""The in-memory driver of the resident rules: replay, simulation and the benchmark.

It feeds events and the passing of event time to the same pure step the service's database driver uses
(``alerts.resident_step``: presence, ``elderly_not_out`` / ``no_sign_of_life`` and the learnt-routine
``no_activity``); only the bookkeeping differs: a heap here, an indexed ``next_due_at`` column in
``alerts.db_driver``. Routines are kept only for residents ``no_activity`` watches. Alerts the residents' own
signals close (seen going out, a sign of life) are collected in ``closed``, in order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, tzinfo

from alerts import resident_step
from alerts.inactivity.rule import InactivityState, new_state
from alerts.inactivity.settings import InactivitySettings
from alerts.presence import PresenceEvent, PresenceState, Resident
from alerts.presence_rules import Closing, Firing, RuleConfig, with_zone
from alerts.schedule import DueIndex


class RuleEngine:
    """Residents' presence, routines and rules over a clock that only moves forward with events and ``advance``.

    ``routines=False`` leaves ``no_activity`` out (the fixed rules alone); ``settings_for`` gives a resident's
    effective inactivity settings (default: the estate's, ``cfg.inactivity``).
    """

    def __init__(self, residents: Iterable[Resident], cfg: RuleConfig | None = None, *, tz: tzinfo = UTC,
                 routines: bool = True,
                 settings_for: Callable[[Resident], InactivitySettings] | None = None) -> None:
        self.cfg = with_zone(cfg or RuleConfig(), tz)
        self.tz = tz
        self.residents = {r.resident_id: r for r in residents}
        self.by_unit: dict[str, list[Resident]] = defaultdict(list)
        for r in self.residents.values():
            self.by_unit[r.unit].append(r)
        self.states: dict[str, PresenceState] = {rid: PresenceState() for rid in self.residents}
        self.settings: dict[str, InactivitySettings] = {}
        self.routines: dict[str, InactivityState] = {}
        if routines:
            for rid, r in self.residents.items():
                cfg_r = settings_for(r) if settings_for is not None else self.cfg.inactivity
                if resident_step.watches_routine(r, cfg_r):
                    self.settings[rid] = cfg_r
                    self.routines[rid] = new_state(cfg_r)
        self.index = DueIndex()
        self.now: datetime | None = None
        self.evaluations = 0
        self.events = 0
        self.unknown_subjects = 0
        self.closed: list[Closing] = []

    def advance(self, now: datetime) -> list[Firing]:
        """Run every evaluation due up to ``now``, each at its own due time (never before the clock)."""
        fired: list[Firing] = []
        for due, rid in self.index.pop_due(now):
            at = due if self.now is None or due > self.now else self.now
            self.now = at
            fired.extend(self._evaluate(rid, at))
        if self.now is None or now > self.now:
            self.now = now
        return fired

    def on_event(self, ev: PresenceEvent) -> list[Firing]:
        """Advance to the event's time, apply it to the residents it concerns, fire what became due at once."""
        fired = self.advance(ev.ts)
        self.events += 1
        if ev.kind == "access":
            resident = self.residents.get(ev.resident or "")
            targets = [resident] if resident is not None else []
        else:
            targets = self.by_unit.get(ev.unit or "", [])
        if not targets:
            self.unknown_subjects += 1
        for r in targets:
            rid = r.resident_id
            resident_step.apply(self.states[rid], self.routines.get(rid), r, ev, self.cfg, self.tz)
            self.closed.extend(resident_step.closings(self.states[rid], r, ev.ts, self.tz))
            fired.extend(self._evaluate(rid, ev.ts))
        return fired

    def _evaluate(self, rid: str, at: datetime) -> list[Firing]:
        self.evaluations += 1
        resident, state, routine = self.residents[rid], self.states[rid], self.routines.get(rid)
        settings = self.settings.get(rid, self.cfg.inactivity)
        fired = resident_step.check(state, routine, resident, at, self.cfg, settings, self.tz)
        self.closed.extend(resident_step.closings(state, resident, at, self.tz))
        self.index.set(rid, resident_step.due(state, routine, resident, at, self.cfg, settings, self.tz))
        return fired
