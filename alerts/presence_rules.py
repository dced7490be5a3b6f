"""Resident rules on a clock: ``elderly_not_out`` and ``no_sign_of_life``.

One implementation, two drivers: replay calls these with event time, the service with wall time. Nothing here
keeps a timer: ``next_due`` is derived from the stored state (stretch start, last activity, reminders), so the
service persists it next to the state and a restart finds every overdue resident with one indexed query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alerts.inactivity.settings import InactivitySettings
from alerts.lifecycle import Severity
from alerts.presence import PresenceConfig, PresenceState, Resident, door_decision_due, settle


@dataclass(frozen=True)
class RuleConfig:
    """How the resident rules behave: door inference, reminder spacing, whether ``no_sign_of_life`` runs, and the
    estate's defaults of the ``no_activity`` rule (``alerts.inactivity``; residents may override them).
    """

    presence: PresenceConfig = field(default_factory=PresenceConfig)
    reminder_every: timedelta = timedelta(hours=12)  # elderly_not_out repeats (same alert) while still home
    no_sign_enabled: bool = True
    inactivity: InactivitySettings = field(default_factory=InactivitySettings)


@dataclass(frozen=True)
class Firing:
    """A rule that fired for a resident at ``at`` (its ``due_at`` may be earlier while a door decision was open)."""

    type: str
    severity: Severity
    resident: Resident
    at: datetime
    due_at: datetime
    dedup_key: str
    reminder: bool
    details: dict[str, object]


def _stretch_start(state: PresenceState, resident: Resident, now: datetime) -> datetime | None:
    """Start of the at-home stretch, counting only time not inside an away/hospital period."""
    start = state.since
    if start is None:
        return None
    for away_start, away_end in resident.away:
        if away_start < now and away_end > start:
            start = max(start, min(away_end, now))
    return start


def _not_out_due(state: PresenceState, resident: Resident, now: datetime) -> datetime | None:
    if state.presence != "home" or not (resident.elderly and resident.lives_alone):
        return None
    if state.not_out_stretch is not None and state.not_out_stretch == state.since:
        return state.not_out_next
    start = _stretch_start(state, resident, now)
    return None if start is None else start + timedelta(hours=resident.not_out_hours)


def _no_sign_ref(state: PresenceState) -> datetime | None:
    candidates = [t for t in (state.last_activity_at, state.since) if t is not None]
    return max(candidates) if candidates else None


def _no_sign_due(state: PresenceState, resident: Resident, cfg: RuleConfig) -> datetime | None:
    if not cfg.no_sign_enabled or state.presence != "home" or not resident.lives_alone:
        return None
    ref = _no_sign_ref(state)
    if ref is None or state.no_sign_ref == ref:
        return None
    return ref + timedelta(hours=resident.no_sign_hours)


def _after_away(resident: Resident, due: datetime) -> datetime:
    period = resident.away_at(due)
    return period[1] if period is not None else due


def next_due(state: PresenceState, resident: Resident, now: datetime, cfg: RuleConfig) -> datetime | None:
    """The earliest time at which ``evaluate`` may change something for this resident; None = only an event can."""
    door = door_decision_due(state, cfg.presence)
    candidates = [door] if door is not None else []
    for due in (_not_out_due(state, resident, now), _no_sign_due(state, resident, cfg)):
        if due is None:
            continue
        due = _after_away(resident, due)
        candidates.append(max(due, door) if door is not None else due)  # decide about the door first
    return min(candidates) if candidates else None


def evaluate(state: PresenceState, resident: Resident, now: datetime, cfg: RuleConfig) -> list[Firing]:
    """Settle presence and fire what is due at ``now``; mutates ``state`` (rule progress) and returns firings."""
    settle(state, resident, now, cfg.presence)
    if state.door_pending is not None or resident.away_at(now) is not None:
        return []  # undecided door, or away: wait (next_due says until when)
    found = (_fire_not_out(state, resident, now, cfg), _fire_no_sign(state, resident, now, cfg))  # in this order
    return [f for f in found if f is not None]


def _fire_not_out(state: PresenceState, resident: Resident, now: datetime, cfg: RuleConfig) -> Firing | None:
    due = _not_out_due(state, resident, now)
    if due is not None and now >= due and state.since is not None:
        reminder = state.not_out_stretch == state.since
        state.not_out_reminders = state.not_out_reminders + 1 if reminder else 0
        base = state.not_out_next if reminder and state.not_out_next is not None else due
        state.not_out_stretch, state.not_out_next = state.since, base + cfg.reminder_every
        while state.not_out_next <= now:  # a long outage of the service: one reminder, not a burst
            state.not_out_next += cfg.reminder_every
        hours = (now - state.since).total_seconds() / 3600
        return Firing(
            "elderly_not_out", "major", resident, now, due,
            f"elderly_not_out:{resident.resident_id}:{state.since.isoformat()}", reminder,
            {"home_since": state.since.isoformat(), "last_out_at": _iso(state.last_out_at),
             "hours_at_home": round(hours, 2), "reminder": state.not_out_reminders,
             "explanation": state.reason, "signals": dict(state.signals)})
    return None


def _fire_no_sign(state: PresenceState, resident: Resident, now: datetime, cfg: RuleConfig) -> Firing | None:
    due = _no_sign_due(state, resident, cfg)
    ref = _no_sign_ref(state)
    if due is not None and now >= due and ref is not None:
        state.no_sign_ref = ref
        return Firing(
            "no_sign_of_life", "critical", resident, now, due,
            f"no_sign_of_life:{resident.resident_id}:{ref.isoformat()}", False,
            {"last_activity_at": _iso(state.last_activity_at), "home_since": _iso(state.since),
             "quiet_hours": round((now - ref).total_seconds() / 3600, 2), "explanation": state.reason,
             "signals": dict(state.signals)})
    return None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
