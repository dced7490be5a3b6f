"""Resident rules on a clock: ``elderly_not_out`` and ``no_sign_of_life``, and when their alerts close themselves.

One implementation, two drivers: replay calls these with event time, the service with wall time. Nothing here
keeps a timer: ``next_due`` is derived from the stored state (stretch start, last activity, reminders), so the
service persists it next to the state and a restart finds every overdue resident with one indexed query.

One alert per situation: a resident has at most one open alert of each type (the dedup key names the resident, the
``episode`` names the stretch or quiet spell); a reminder updates it, and ``closings`` says when the resident's own
signals end the situation (seen going out, a sign of life), with the reason in words.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo

from alerts.inactivity.settings import InactivitySettings
from alerts.lifecycle import Severity
from alerts.presence import PresenceConfig, PresenceState, Resident, door_decision_due, settle
from alerts.wording import at as at_words
from alerts.wording import since as since_words
from alerts.wording import span


@dataclass(frozen=True)
class RuleConfig:
    """How the resident rules behave: door inference, reminder spacing, whether ``no_sign_of_life`` runs, and the
    estate's defaults of the ``no_activity`` rule (``alerts.inactivity``; residents may override them).
    """

    presence: PresenceConfig = field(default_factory=PresenceConfig)
    reminder_every: timedelta = timedelta(hours=12)  # elderly_not_out repeats (same alert) while still home
    no_sign_enabled: bool = True
    inactivity: InactivitySettings = field(default_factory=InactivitySettings)


def with_zone(cfg: RuleConfig, tz: tzinfo) -> RuleConfig:
    """``cfg`` whose words (reasons, explanations) give clock times in the estate's zone ``tz``."""
    return cfg if cfg.presence.tz == tz else replace(cfg, presence=replace(cfg.presence, tz=tz))


@dataclass(frozen=True)
class Firing:
    """A rule that fired for a resident at ``at`` (its ``due_at`` may be earlier while a door decision was open).

    ``dedup_key`` names the resident and the type (one open alert each); ``episode`` the stretch or quiet spell the
    firing is about, so a reminder and its first alert share ``occurrence_key`` and a later stretch does not.
    """

    type: str
    severity: Severity
    resident: Resident
    at: datetime
    due_at: datetime
    dedup_key: str
    reminder: bool
    details: dict[str, object]
    episode: str = ""

    @property
    def occurrence_key(self) -> str:
        """The dedup key with the episode: one value per alert raised (replay derives its alert ids from it)."""
        return f"{self.dedup_key}:{self.episode}" if self.episode else self.dedup_key


@dataclass(frozen=True)
class Closing:
    """The resident's own signals ended the situation of their open alert: close it with ``reason``."""

    type: str
    resident: Resident
    at: datetime
    dedup_key: str
    episode: str
    reason: str


def dedup_key(alert_type: str, resident: Resident) -> str:
    """One open alert of each resident rule per resident."""
    return f"{alert_type}:{resident.resident_id}"


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
        episode = state.since.isoformat()
        state.open_alerts["elderly_not_out"] = episode
        details: dict[str, object] = {
            "home_since": episode, "last_out_at": _iso(state.last_out_at), "hours_at_home": round(hours, 2),
            "reminder": state.not_out_reminders,
            "explanation": _not_out_words(state, state.since, now, cfg.presence.tz), "signals": dict(state.signals)}
        if reminder:
            details["last_reminded_at"] = now.isoformat()
        return Firing("elderly_not_out", "major", resident, now, due, dedup_key("elderly_not_out", resident), reminder,
                      details, episode)
    return None


def _not_out_words(state: PresenceState, since: datetime, now: datetime, tz: tzinfo) -> str:
    """"at home since 08:42 yesterday (UTC+8), 26 h 10 min without going out; last out ..." plus why home."""
    text = f"at home {since_words(since, now, tz)}, {span(now - since)} without going out"
    if state.last_out_at is not None:
        text += f"; last seen going out at {at_words(state.last_out_at, now, tz)}"
    return f"{text}; {state.reason}"


def _fire_no_sign(state: PresenceState, resident: Resident, now: datetime, cfg: RuleConfig) -> Firing | None:
    due = _no_sign_due(state, resident, cfg)
    ref = _no_sign_ref(state)
    if due is not None and now >= due and ref is not None:
        state.no_sign_ref = ref
        state.open_alerts["no_sign_of_life"] = ref.isoformat()
        tz = cfg.presence.tz
        words = f"no sign of life in the flat {since_words(ref, now, tz)} ({span(now - ref)}); {state.reason}"
        return Firing(
            "no_sign_of_life", "critical", resident, now, due, dedup_key("no_sign_of_life", resident), False,
            {"last_activity_at": _iso(state.last_activity_at), "home_since": _iso(state.since),
             "quiet_hours": round((now - ref).total_seconds() / 3600, 2), "explanation": words,
             "signals": dict(state.signals)}, ref.isoformat())
    return None


def closings(state: PresenceState, resident: Resident, now: datetime, tz: tzinfo) -> list[Closing]:
    """The open alerts whose situation the resident's signals have ended; forgets them in ``state``.

    ``elderly_not_out`` ends when the resident is seen going out (gate ``out``, or the flat door followed by
    silence) or coming in through a gate (so they had been out); ``no_sign_of_life`` and the learnt-routine
    ``no_activity`` end with any sign of life after the quiet spell began.
    """
    found: list[Closing] = []
    for alert_type, episode in sorted(state.open_alerts.items()):
        start = datetime.fromisoformat(episode)
        reason = (_went_out(state, start, now, tz) if alert_type == "elderly_not_out"
                  else _sign_of_life(state, start, now, tz))
        if reason is not None:
            del state.open_alerts[alert_type]
            found.append(Closing(alert_type, resident, now, dedup_key(alert_type, resident), episode, reason))
    return found


def _went_out(state: PresenceState, stretch: datetime, now: datetime, tz: tzinfo) -> str | None:
    if state.presence == "home" and state.since == stretch:
        return None
    gate = state.signals.get("access", {}).get("detail", "")
    if state.presence == "out" and state.last_out_at is not None:
        if state.out_source == "gate":
            return f"seen going out at {_gate_name(gate)} {at_words(state.last_out_at, now, tz)}"
        return f"went out at {at_words(state.last_out_at, now, tz)}: the flat door, then no activity in the flat"
    if state.presence == "home" and state.last_in_at is not None and state.last_in_at > stretch:
        return f"seen coming in at {_gate_name(gate)} {at_words(state.last_in_at, now, tz)}"
    return f"no longer at home since {at_words(stretch, now, tz)}"


def _gate_name(detail: str) -> str:
    """``gate north (face) out`` -> ``gate north``: the place, without the method and direction."""
    return detail.split(" (")[0] if detail else "a gate"


def _sign_of_life(state: PresenceState, quiet_since: datetime, now: datetime, tz: tzinfo) -> str | None:
    later = [(datetime.fromisoformat(s["at"]), s["detail"]) for s in state.signals.values()
             if datetime.fromisoformat(s["at"]) > quiet_since]
    if not later:
        return None
    when, detail = max(later)
    return f"sign of life: {detail} at {at_words(when, now, tz)}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
