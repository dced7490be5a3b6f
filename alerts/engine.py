"""The in-memory driver of the resident rules: replay, simulation and the benchmark.

It feeds events and the passing of event time to the same pure functions the service uses
(``presence.apply_event``, ``rules.evaluate``, ``rules.next_due``); only the bookkeeping differs: a heap here,
an indexed ``next_due_at`` column in the service.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from alerts.presence import PresenceEvent, PresenceState, Resident, apply_event
from alerts.rules import Firing, RuleConfig, evaluate, next_due
from alerts.schedule import DueIndex


class RuleEngine:
    """Residents' presence and rules over a clock that only moves forward with events and ``advance``."""

    def __init__(self, residents: Iterable[Resident], cfg: RuleConfig | None = None) -> None:
        self.cfg = cfg or RuleConfig()
        self.residents = {r.resident_id: r for r in residents}
        self.by_unit: dict[str, list[Resident]] = defaultdict(list)
        for r in self.residents.values():
            self.by_unit[r.unit].append(r)
        self.states: dict[str, PresenceState] = {rid: PresenceState() for rid in self.residents}
        self.index = DueIndex()
        self.now: datetime | None = None
        self.evaluations = 0
        self.events = 0
        self.unknown_subjects = 0

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
            apply_event(self.states[r.resident_id], r, ev, self.cfg.presence)
            fired.extend(self._evaluate(r.resident_id, ev.ts))
        return fired

    def _evaluate(self, rid: str, at: datetime) -> list[Firing]:
        self.evaluations += 1
        resident, state = self.residents[rid], self.states[rid]
        fired = evaluate(state, resident, at, self.cfg)
        self.index.set(rid, next_due(state, resident, at, self.cfg))
        return fired
