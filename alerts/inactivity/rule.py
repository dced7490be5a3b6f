"""The ``no_activity`` rule: a resident living alone, at home, silent for longer than their own routine allows.

Pure and clock-free like ``alerts.rules``: ``observe`` folds one event into the resident's ``InactivityState``
(learning the quiet spell it ends), ``next_due`` says when the current silence becomes improbable (so the due-time
index wakes the rule exactly then, and cost follows what is due), ``evaluate`` decides at a given time. The
drivers (replay engine, live processor) own presence (``alerts.presence``) and pass it in.

The threshold is the hour's (``alerts.inactivity.model``), re-timed by the night: the regular wake-up
(``alerts.inactivity.night``), else, for wake-ups too spread for it, the night as bedtime-to-wake-up
(``alerts.inactivity.bedtime``: only ever later, for a silence that may be the night begun early).

Suspended: presence "out" (gate out, or the door then silence unless the gates last saw the resident come in:
see ``at_home``), an open door decision, an away / hospital /
travelling period of the resident. Quiet hours never raise by themselves: a silence that began inside them counts
from their end, and a due time inside them waits for their end.

An unconfirmed return gets only the fixed ``max_hours`` threshold: while the resident is out, a sign of life that
does not follow the flat door (within ``RETURN_DOOR``) cannot be them coming home, since a return passes the door.
It is a sensor firing in the empty flat (a pet, a glitch), or the outing was wrongly inferred and they are home.
The door, a gate passage or signs spanning ``CONFIRM_AFTER`` without a gap over ``CONFIRM_GAP`` (someone moving
about, not a sensor that fires now and then in an empty flat) confirm the return.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from alerts.inactivity.bedtime import BedView, bed_view, bedtime_threshold
from alerts.inactivity.explain import WakeWords, explanation
from alerts.inactivity.model import DAY_TYPES, RoutineModel, slot_of, threshold_minutes
from alerts.inactivity.night import NightView, clock_of, day_type_of, night_hours, night_threshold
from alerts.inactivity.place import sign_slot
from alerts.inactivity.settings import InactivitySettings
from alerts.presence import PresenceEvent, PresenceState, Resident

ALERT_TYPE = "no_activity"
SEVERITY = "critical"
RETURN_DOOR = timedelta(minutes=10)  # a sign this soon after the flat door may be the resident coming home
CONFIRM_AFTER = timedelta(minutes=5)  # signs spanning this long, with no gap over CONFIRM_GAP, confirm a return
CONFIRM_GAP = timedelta(minutes=30)
GATE_IN = sign_slot("access", None, "in")  # the sign of a return through the gate


@dataclass
class InactivityState:
    """One resident's routine model and the progress of the rule (what a restart must find again)."""

    model: RoutineModel
    silence_since: datetime | None = None  # the last sign of life at home, or the return through the gate
    raised_for: datetime | None = None  # the silence (its ``silence_since``) a no_activity alert was raised for
    last_door: datetime | None = None  # the last flat door event
    left_at: datetime | None = None  # the last gate passage out, until one in
    unconfirmed_since: datetime | None = None  # a sign while out that did not follow the door: not yet a return
    silence_sign: int | None = None  # the slot of the sign that began the silence (``alerts.inactivity.place``)
    _cache: dict[tuple[int, int, int], tuple[float, Any, float, float]] = field(default_factory=dict, repr=False)
    _nights: dict[tuple[int, int], tuple[NightView | None, BedView | None]] = field(default_factory=dict,
                                                                                    repr=False)

    def to_record(self) -> tuple[bytes, dict[str, Any]]:
        """(model image, rule progress) for the store: bytes and a JSON-friendly dict."""
        meta = {"silence_since": _iso(self.silence_since), "raised_for": _iso(self.raised_for),
                "last_door": _iso(self.last_door), "left_at": _iso(self.left_at),
                "unconfirmed_since": _iso(self.unconfirmed_since), "silence_sign": self.silence_sign}
        return self.model.to_bytes(), meta

    @classmethod
    def from_record(cls, model: bytes, meta: dict[str, Any]) -> InactivityState:
        """The state of a ``to_record`` pair, as the store returns it."""
        return cls(RoutineModel.from_bytes(model), _parse(meta.get("silence_since")), _parse(meta.get("raised_for")),
                   _parse(meta.get("last_door")), _parse(meta.get("left_at")), _parse(meta.get("unconfirmed_since")),
                   _sign(meta.get("silence_sign")))


@dataclass(frozen=True)
class InactivityFiring:
    """A no_activity alert for a resident at ``at``; ``details`` carry the numbers and the explanation."""

    resident: Resident
    at: datetime
    due_at: datetime
    dedup_key: str
    details: dict[str, Any]
    type: str = ALERT_TYPE
    severity: str = SEVERITY
    reminder: bool = False


def new_state(settings: InactivitySettings) -> InactivityState:
    """An empty routine for a resident seen for the first time (cold start)."""
    return InactivityState(RoutineModel(settings.learning_window_days))


def watched(resident: Resident, settings: InactivitySettings) -> bool:
    """Elderly residents living alone, with the rule enabled: in a shared flat others' signals hide a fall."""
    return settings.enabled and resident.elderly and resident.lives_alone


def at_home(presence: PresenceState) -> bool:
    """Home for this rule. A door-then-silence "out" is not believed for a resident whose last gate passage was
    "in": the gates recognise them and would have seen them leave (a fall right after closing the door).
    """
    if presence.presence == "home":
        return True
    if presence.presence == "out" and presence.out_source == "door":
        gate = presence.signals.get("access")
        return gate is not None and gate.get("detail", "").endswith(" in")
    return False


def observe(state: InactivityState, resident: Resident, ev: PresenceEvent, home_before: bool,
            tz: tzinfo) -> None:
    """Fold one event in. ``home_before``: ``at_home`` of the presence just before it (after ``settle``)."""
    state.model.seen(ev.ts)
    if ev.kind == "access":
        state.silence_since = ev.ts if ev.direction == "in" else None
        state.silence_sign = GATE_IN if ev.direction == "in" else None
        state.left_at = ev.ts if ev.direction == "out" else None
        state.unconfirmed_since = None
        return
    unconfirmed = state.unconfirmed_since
    if ev.kind == "door":
        state.last_door = ev.ts
        state.unconfirmed_since = None
    elif not home_before and (state.last_door is not None or state.left_at is not None):  # out, not unknown
        through_door = state.last_door is not None and ev.ts - state.last_door <= RETURN_DOOR
        state.unconfirmed_since = None if through_door else ev.ts
    elif unconfirmed is not None:
        previous = state.silence_since
        if previous is not None and ev.ts - previous > CONFIRM_GAP:
            state.unconfirmed_since = ev.ts  # isolated triggers an hour apart are no one moving about
        elif ev.ts - unconfirmed >= CONFIRM_AFTER:
            state.unconfirmed_since = None
    start = state.silence_since
    if (start is not None and home_before and unconfirmed is None and ev.ts > start
            and not any(a < ev.ts and b > start for a, b in resident.away)
            and state.model.learn(start, ev.ts, tz, state.silence_sign)):
        state._cache.clear()
        state._nights.clear()
    state.silence_since = ev.ts
    state.silence_sign = sign_slot(ev.kind, ev.sensor, ev.state)


def _in_quiet(when: datetime, settings: InactivitySettings, tz: tzinfo) -> datetime | None:
    """The end of the quiet hours ``when`` lies in, or None."""
    if settings.quiet_start_hour is None or settings.quiet_end_hour is None:
        return None
    local = when.astimezone(tz)
    hour = local.hour + local.minute / 60 + local.second / 3600
    start, end = settings.quiet_start_hour, settings.quiet_end_hour
    inside = start <= hour < end if start < end else (hour >= start or hour < end)
    if not inside:
        return None
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end_at = midnight + timedelta(hours=end)
    if end_at <= local:
        end_at += timedelta(days=1)
    return end_at.astimezone(when.tzinfo)


def counted_from(state: InactivityState, resident: Resident, presence: PresenceState, now: datetime,
                 settings: InactivitySettings, tz: tzinfo) -> datetime | None:
    """Where the silence that counts begins: after away periods it overlaps and after quiet hours it began in."""
    if not at_home(presence) or state.silence_since is None:
        return None
    start = state.silence_since
    for a, b in resident.away:
        if a < now and b > start:
            start = max(start, min(b, now))
    quiet_end = _in_quiet(start, settings, tz)
    return quiet_end if quiet_end is not None else start


@dataclass(frozen=True)
class Threshold:
    """How long a silence may last: ``minutes``, the hour's view, the night's view when the night model set it."""

    minutes: float
    view: Any  # HourView, None in cold start or after an unconfirmed return
    alpha: float
    cold: bool
    night: NightView | None = None
    start_h: float = math.nan  # the silence's start in night hours (when ``night`` or ``bed`` is set)
    bed: BedView | None = None  # set when the silence waits for the night's end (``alerts.inactivity.bedtime``)
    night_share: float = 0.0  # ... with this probability of being the night
    sign_ratio: float = 1.0  # ... after the last sign's evidence (likelihood ratio, ``alerts.inactivity.place``)


def _threshold(state: InactivityState, start: datetime, now: datetime, settings: InactivitySettings,
               tz: tzinfo) -> Threshold:
    """The threshold for a silence counted from ``start`` (cached per hour and day, so next_due and evaluate
    agree to the second).
    """
    model = state.model
    local = start.astimezone(tz)
    dtype, hour = (1 if local.weekday() >= 5 else 0), local.hour
    if state.unconfirmed_since is not None:  # a sign in what may be an empty flat: only the longest threshold
        return Threshold(settings.max_hours * 60.0, None, math.nan, cold=False)
    if model.history_days(now) < settings.cold_start_days:
        hours = settings.cold_day_hours if 7 <= hour < 19 else settings.cold_night_hours
        return Threshold(hours * 60.0, None, math.nan, cold=True)
    today = int(now.timestamp() // 86400)
    key = (dtype, hour, today)
    hit = state._cache.get(key)
    if hit is None:
        minutes, view, _, alpha = threshold_minutes(model, settings, dtype, hour, now)
        hit = (minutes, view, alpha, model.spell_rate(dtype, hour, now))
        if len(state._cache) > 64:
            state._cache.clear()
        state._cache[key] = hit
    return _night_part(state, local, hit, now, today, settings)


def _night_part(state: InactivityState, local: datetime, hit: tuple[float, Any, float, float], now: datetime,
                today: int, settings: InactivitySettings) -> Threshold:
    """The hour's threshold ``hit`` re-timed by the night: the regular wake-up (``night_threshold``), else the
    night as bedtime-to-wake-up (``bedtime_threshold``: later only).
    """
    model = state.model
    evening, start_h = night_hours(local)
    nkey = (evening, today)
    if nkey not in state._nights:
        if len(state._nights) > 8:
            state._nights.clear()
        state._nights[nkey] = (model.night_view(evening, hit[2], now),
                               bed_view(model.night, day_type_of(evening + 1), now.timestamp() / 86400.0,
                                        model.tau_days))
    night, bed = state._nights[nkey]
    lo, hi = settings.min_hours * 60.0, settings.max_hours * 60.0
    if night is not None:
        at_night = night_threshold(night, start_h, hit[0], lo, hi)
        if at_night is not None:
            return Threshold(at_night, hit[1], hit[2], cold=False, night=night, start_h=start_h)
    elif bed is not None:
        ratio = model.place.ratio(state.silence_sign)
        as_night = bedtime_threshold(bed, start_h, hit[3], hit[2], lo, hi, ratio)
        if as_night is not None and as_night[0] > hit[0]:
            return Threshold(as_night[0], hit[1], hit[2], cold=False, start_h=start_h, bed=bed,
                             night_share=as_night[1], sign_ratio=ratio)
    return Threshold(hit[0], hit[1], hit[2], cold=False)


def next_due(state: InactivityState, resident: Resident, presence: PresenceState, now: datetime,
             settings: InactivitySettings, tz: tzinfo, door_quiet: timedelta) -> datetime | None:
    """When ``evaluate`` may raise for the current silence; None = only an event can change that."""
    if not watched(resident, settings):
        return None
    if presence.door_pending is not None:
        return presence.door_pending + door_quiet  # decide about the door first
    start = counted_from(state, resident, presence, now, settings, tz)
    if start is None or state.raised_for == state.silence_since:
        return None
    due = start + timedelta(minutes=_threshold(state, start, now, settings, tz).minutes)
    for _ in range(4):  # an away period or quiet hours at the due time push it to their end
        period = resident.away_at(due)
        later = period[1] if period is not None else _in_quiet(due, settings, tz)
        if later is None:
            break
        due = later
    return max(due, now) if due < now else due


def evaluate(state: InactivityState, resident: Resident, presence: PresenceState, now: datetime,
             settings: InactivitySettings, tz: tzinfo) -> InactivityFiring | None:
    """Raise ``no_activity`` when the silence is improbable at ``now`` (once per silence)."""
    if not watched(resident, settings) or presence.door_pending is not None or resident.away_at(now) is not None:
        return None
    if _in_quiet(now, settings, tz) is not None:
        return None
    start = counted_from(state, resident, presence, now, settings, tz)
    since = state.silence_since
    if start is None or since is None or state.raised_for == since:
        return None
    thr = _threshold(state, start, now, settings, tz)
    minutes, view, alpha, cold, night = thr.minutes, thr.view, thr.alpha, thr.cold, thr.night
    due = start + timedelta(minutes=minutes)
    if now < due:
        return None
    unconfirmed = state.unconfirmed_since is not None
    state.raised_for = since
    quiet_min = (now - start).total_seconds() / 60.0
    dtype, hour = slot_of(start, tz)
    probability = None
    usual = view.usual_min if view is not None else 0.0
    bed = thr.bed
    if night is not None:
        probability = night.survival(thr.start_h, thr.start_h + quiet_min / 60.0)
        usual = max(0.0, (night.usual_wake - thr.start_h) * 60.0)
    elif view is not None:
        _, emp = state.model.view(dtype, hour, now)
        probability = view.survival(quiet_min, emp)
        if bed is not None:  # the mixture: the night's share of silences begun then, the rest a pause
            as_night = bed.night_survival(thr.start_h, thr.start_h + quiet_min / 60.0)
            probability = thr.night_share * as_night + (1.0 - thr.night_share) * probability
            usual = max(0.0, (bed.usual_wake - thr.start_h) * 60.0)
    history = state.model.history_days(now)
    wake_words = None
    if night is not None:
        wake_words = WakeWords("all days" if night.pooled else DAY_TYPES[night.day_type],
                               clock_of(night.usual_wake),
                               None if night.latest_wake is None else clock_of(night.latest_wake))
    elif bed is not None:
        wake_words = WakeWords("all days" if bed.pooled else DAY_TYPES[bed.day_type], clock_of(bed.usual_wake),
                               None if bed.latest_wake is None else clock_of(bed.latest_wake),
                               bedtime=clock_of(bed.bed.mean), asleep_share=thr.night_share,
                               after_sign=thr.sign_ratio != 1.0)
    text = explanation(
        since=since, now=now, tz=tz, day_type=DAY_TYPES[dtype], usual_min=usual,
        longest_min=view.longest_min if view else None, window_days=settings.learning_window_days, cold=cold,
        cold_hours=minutes / 60.0, history_days=history, cold_days=settings.cold_start_days,
        counted_from=start, unconfirmed=unconfirmed, wake=wake_words)
    details: dict[str, Any] = {
        "silence_since": since.isoformat(), "counted_from": start.isoformat(),
        "quiet_minutes": round((now - since).total_seconds() / 60.0, 1), "threshold_minutes": round(minutes, 1),
        "probability_normal": None if probability is None else round(probability, 6),
        "alpha": None if cold or unconfirmed else round(alpha, 6), "cold_start": cold,
        "unconfirmed_return": unconfirmed, "history_days": round(history, 1),
        "day_type": DAY_TYPES[dtype], "hour": hour,
        "usual_minutes": None if view is None else round(usual, 1),
        "longest_minutes": None if view is None or view.longest_min is None else round(view.longest_min, 1),
        "model": "cold start" if cold else "fixed" if unconfirmed else "night" if night is not None
        else "bedtime" if bed is not None else "hour",
        "usual_wake": None if wake_words is None else wake_words.usual,
        "latest_wake": None if wake_words is None else wake_words.latest,
        "usual_bedtime": None if wake_words is None else wake_words.bedtime,
        "night_share": None if bed is None else round(thr.night_share, 4),
        "sign_ratio": None if bed is None else round(thr.sign_ratio, 4),
        "explanation": text, "signals": dict(presence.signals),
    }
    return InactivityFiring(resident, now, due, f"{ALERT_TYPE}:{resident.resident_id}:{since.isoformat()}", details)


def title(firing: InactivityFiring) -> str:
    """The alert's title for the console list."""
    r = firing.resident
    return f"No activity from {r.unit} for {firing.details['quiet_minutes'] / 60:.1f} h (unusual for this resident)"


def alert_fields(firing: InactivityFiring) -> dict[str, Any]:
    """Everything an ``AlertDraft`` needs but the site: ``AlertDraft(site=site, **alert_fields(f))``."""
    r = firing.resident
    return {"type": firing.type, "severity": firing.severity, "dedup_key": firing.dedup_key, "title": title(firing),
            "occurred_at": firing.at, "details": firing.details,
            "subject": {"resident": r.resident_id, "unit": r.unit, "building": r.building, "floor": r.floor}}


def replay_fields(firing: InactivityFiring, tz: tzinfo) -> dict[str, Any]:
    """The keys ``estatewatch replay --json`` adds for a ``no_activity`` alert (times in the estate's zone)."""
    d = firing.details
    since = datetime.fromisoformat(d["silence_since"]).astimezone(tz).isoformat()
    counted = datetime.fromisoformat(d["counted_from"]).astimezone(tz).isoformat()
    return {"silence_since": since, "counted_from": counted, "quiet_minutes": d["quiet_minutes"],
            "threshold_minutes": d["threshold_minutes"], "probability_normal": d["probability_normal"],
            "cold_start": d["cold_start"], "explanation": d["explanation"]}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _sign(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _parse(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None
