"""Presence fused per resident from gate access, the flat's door contact, in-home motion and water use.

Pure and clock-free: ``apply_event`` folds one signal into a ``PresenceState``; ``settle`` draws the conclusions
that only the passing of time allows (a door followed by silence means the resident went out). Every conclusion
keeps a human-readable ``reason`` naming the signal and its time, so staff can see why the system thinks so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal

from alerts.wording import span, stamp

Presence = Literal["home", "out", "unknown"]
EventKind = Literal["access", "door", "motion", "water"]


@dataclass(frozen=True)
class Resident:
    """Who the rules watch. ``resident_id`` is the pseudonymous id of the access system, never a name."""

    resident_id: str
    unit: str
    building: str | None = None
    floor: int | None = None
    elderly: bool = False
    lives_alone: bool = False
    not_out_hours: float = 24.0
    no_sign_hours: float = 12.0
    away: tuple[tuple[datetime, datetime], ...] = ()  # away / hospital periods: rules pause

    def away_at(self, when: datetime) -> tuple[datetime, datetime] | None:
        """The away / hospital period covering ``when``, if any: the rules pause inside it."""
        for start, end in self.away:
            if start <= when < end:
                return start, end
        return None


@dataclass(frozen=True)
class PresenceEvent:
    """One signal: an access event names a resident, the others name a unit."""

    ts: datetime
    kind: EventKind
    resident: str | None = None
    unit: str | None = None
    direction: str | None = None  # access: in / out
    gate: str | None = None
    method: str | None = None
    state: str | None = None  # door: open / closed
    sensor: str | None = None
    litres: float | None = None

    def describe(self) -> str:
        """The signal in words, for the ``reason`` staff read."""
        if self.kind == "access":
            return f"gate {self.gate or '?'} ({self.method or '?'}) {self.direction}"
        if self.kind == "door":
            return f"flat door {self.state or 'event'}"
        if self.kind == "motion":
            return f"motion ({self.sensor or 'sensor'})"
        return f"water use ({self.litres if self.litres is not None else '?'} l)"


@dataclass(frozen=True)
class PresenceConfig:
    """Door-only inference: a door event followed by this much in-home silence means the resident went out.

    ``tz``: the estate's zone, in which the ``reason`` staff read gives its clock times (the drivers set it).
    """

    door_quiet: timedelta = timedelta(minutes=10)
    tz: tzinfo = UTC


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass
class PresenceState:
    """What we concluded about one resident, and the rule progress that must survive a restart."""

    presence: Presence = "unknown"
    since: datetime | None = None  # start of the current presence: for "home", the at-home stretch
    out_source: str | None = None  # gate or door: how the last going-out was seen
    last_out_at: datetime | None = None
    last_in_at: datetime | None = None
    last_activity_at: datetime | None = None  # door, motion or water: a sign of life in the flat
    door_pending: datetime | None = None  # a door event not yet followed by in-home activity
    reason: str = "no signal yet"
    signals: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> {"at", "detail"}: last of each
    # rule progress (alerts.presence_rules)
    not_out_stretch: datetime | None = None  # the stretch whose elderly_not_out alert was raised
    not_out_next: datetime | None = None  # when the next reminder for it is due
    not_out_reminders: int = 0
    no_sign_ref: datetime | None = None  # the quiet spell (its last activity) a no_sign_of_life was raised for
    open_alerts: dict[str, str] = field(default_factory=dict)  # type -> episode (ISO) of the alert raised and not
    # yet closed by the resident's own signals (alerts.presence_rules.closings)

    def to_json(self) -> dict[str, Any]:
        """The state as a JSON document (times as ISO 8601), as the service stores it."""
        # explicit rather than dataclasses.asdict: this runs for every event the service stores
        out: dict[str, Any] = {}
        for name in _FIELDS:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        out["signals"] = {k: dict(v) for k, v in self.signals.items()}
        out["open_alerts"] = dict(self.open_alerts)
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PresenceState:
        """A state from ``to_json`` output; unknown keys are ignored, so old documents still load."""
        state = cls()
        for name, value in raw.items():
            if not hasattr(state, name):
                continue
            current = cls.__dataclass_fields__[name].type
            if isinstance(value, str) and "datetime" in str(current):
                setattr(state, name, datetime.fromisoformat(value))
            else:
                setattr(state, name, value)
        return state


_FIELDS = tuple(f for f in PresenceState.__dataclass_fields__ if f not in ("signals", "open_alerts"))


def _go_home(state: PresenceState, at: datetime, reason: str) -> None:
    state.presence, state.since, state.last_in_at, state.reason = "home", at, at, reason


def _go_out(state: PresenceState, at: datetime, source: str, reason: str) -> None:
    state.presence, state.since, state.last_out_at, state.out_source = "out", at, at, source
    state.reason = reason
    state.door_pending = None


def apply_event(state: PresenceState, resident: Resident, ev: PresenceEvent, cfg: PresenceConfig) -> None:
    """Fold one signal into the state. Events must come in time order per resident."""
    settle(state, resident, ev.ts, cfg)  # a silence that ended before this event has its conclusion first
    state.signals[ev.kind] = {"at": ev.ts.isoformat(), "detail": ev.describe()}
    when = stamp(ev.ts, cfg.tz)
    if ev.kind == "access":
        if ev.direction == "out":
            if state.presence != "out":
                _go_out(state, ev.ts, "gate", f"{ev.describe()} at {when}")
            state.door_pending = None
        elif ev.direction == "in":
            _go_home(state, ev.ts, f"{ev.describe()} at {when}")
            state.door_pending = None
        return
    state.last_activity_at = ev.ts
    if not resident.lives_alone:
        return  # someone else in the flat may have made the signal: presence comes from the gates only
    if ev.kind == "door":
        if state.presence == "unknown":
            _go_home(state, ev.ts, f"{ev.describe()} at {when}: someone is in the flat")
        state.door_pending = ev.ts
        return
    # motion or water: someone is in the flat, and they live alone
    if state.presence != "home":
        back = state.door_pending if state.door_pending is not None else ev.ts
        via = f" after the door at {stamp(back, cfg.tz)}" if state.door_pending is not None else ""
        _go_home(state, back, f"{ev.describe()} at {when}{via}: home")
    elif state.door_pending is not None:
        state.reason = f"{ev.describe()} at {when} within {span(cfg.door_quiet)} of the door: stayed home"
    state.door_pending = None


def settle(state: PresenceState, resident: Resident, now: datetime, cfg: PresenceConfig) -> None:
    """Conclusions from silence: a door followed by ``door_quiet`` without in-home activity means "went out"."""
    pending = state.door_pending
    if pending is None or now < pending + cfg.door_quiet:
        return
    state.door_pending = None
    if state.presence != "out":
        _go_out(state, pending, "door", f"flat door at {stamp(pending, cfg.tz)} followed by no"
                                        f" in-home activity for {span(cfg.door_quiet)}: went out")


def door_decision_due(state: PresenceState, cfg: PresenceConfig) -> datetime | None:
    """When ``settle`` will be able to decide about a pending door event."""
    return state.door_pending + cfg.door_quiet if state.door_pending is not None else None
