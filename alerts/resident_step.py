"""One step of all resident rules for one resident: presence, ``elderly_not_out`` / ``no_sign_of_life`` and the
learnt-routine ``no_activity``, in the order both drivers must apply them.

Pure: the replay engine (``alerts.memory_driver``) and the service (``alerts.db_driver``) call these three functions
with their own bookkeeping (a heap, an indexed column), so the two drivers cannot drift apart. ``routine`` is None
for residents the inactivity rule does not watch (not elderly, not alone, or switched off): they cost nothing more.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from alerts.inactivity import rule as inactivity
from alerts.inactivity.rule import InactivityFiring, InactivityState
from alerts.inactivity.settings import InactivitySettings
from alerts.presence import PresenceEvent, PresenceState, Resident, apply_event, settle
from alerts.presence_rules import Closing, Firing, RuleConfig, evaluate, next_due
from alerts.presence_rules import closings as rule_closings
from alerts.presence_rules import dedup_key as resident_key


def watches_routine(resident: Resident, settings: InactivitySettings) -> bool:
    """Whether ``no_activity`` runs for this resident (so a routine is kept for them)."""
    return inactivity.watched(resident, settings)


def as_firing(f: InactivityFiring) -> Firing:
    """A ``no_activity`` firing in the shape every resident alert has (drafts, replay lines): one open alert per
    resident, the silence as its episode.
    """
    episode = str(f.details["silence_since"])
    return Firing(f.type, "critical", f.resident, f.at, f.due_at, resident_key(f.type, f.resident), False,
                  f.details, episode)


def apply(state: PresenceState, routine: InactivityState | None, resident: Resident, ev: PresenceEvent,
          cfg: RuleConfig, tz: tzinfo) -> None:
    """Fold one event in: the routine learns the quiet spell it ends (seen from the presence just before it)."""
    if routine is not None:
        settle(state, resident, ev.ts, cfg.presence)
        inactivity.observe(routine, resident, ev, inactivity.at_home(state), tz)
    apply_event(state, resident, ev, cfg.presence)


def check(state: PresenceState, routine: InactivityState | None, resident: Resident, now: datetime,
          cfg: RuleConfig, settings: InactivitySettings, tz: tzinfo,
          routine_at: datetime | None = None) -> list[Firing]:
    """Fire what is due at ``now``: the fixed rules first, then ``no_activity``; mutates the rule progress.

    ``routine_at`` (default ``now``): when ``no_activity`` is judged. The service passes an event's own time, so a
    backlog of events being worked off after an outage is not taken for silence (the due-time tick judges later).
    """
    fired = evaluate(state, resident, now, cfg)  # settles presence
    if routine is not None:
        found = inactivity.evaluate(routine, resident, state, routine_at or now, settings, tz)
        if found is not None:
            firing = as_firing(found)
            state.open_alerts[firing.type] = firing.episode
            fired.append(firing)
    return fired


def closings(state: PresenceState, resident: Resident, now: datetime, tz: tzinfo) -> list[Closing]:
    """The open alerts of this resident that their own signals have ended (call after ``apply`` and ``check``)."""
    return rule_closings(state, resident, now, tz) if state.open_alerts else []


def due(state: PresenceState, routine: InactivityState | None, resident: Resident, now: datetime,
        cfg: RuleConfig, settings: InactivitySettings, tz: tzinfo) -> datetime | None:
    """The earliest time any of the rules may change something for this resident (None: only an event can)."""
    times = [next_due(state, resident, now, cfg)]
    if routine is not None:
        times.append(inactivity.next_due(routine, resident, state, now, settings, tz, cfg.presence.door_quiet))
    found = [t for t in times if t is not None]
    return min(found) if found else None
