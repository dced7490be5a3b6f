"""Presence fusion and resident rules on event time, without a broker or a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerts.memory_driver import RuleEngine
from alerts.presence import PresenceConfig, PresenceEvent, PresenceState, Resident, apply_event
from alerts.presence_rules import RuleConfig, evaluate, next_due
from alerts.schedule import DueIndex

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)
ALONE = Resident("r1", "A-1201", building="A", floor=12, elderly=True, lives_alone=True)


def motion(at: datetime, unit: str = "A-1201") -> PresenceEvent:
    return PresenceEvent(at, "motion", unit=unit, sensor="kitchen-pir")


def door(at: datetime, unit: str = "A-1201") -> PresenceEvent:
    return PresenceEvent(at, "door", unit=unit, state="open")


def gate(at: datetime, direction: str, resident: str = "r1") -> PresenceEvent:
    return PresenceEvent(at, "access", resident=resident, direction=direction, gate="north", method="face")


def test_door_then_silence_means_out_and_activity_after_a_door_means_home() -> None:
    state, cfg = PresenceState(), PresenceConfig()
    apply_event(state, ALONE, motion(T0), cfg)
    assert (state.presence, state.since) == ("home", T0)
    apply_event(state, ALONE, door(T0 + H), cfg)
    apply_event(state, ALONE, door(T0 + 3 * H), cfg)  # back after two silent hours
    assert (state.presence, state.last_out_at) == ("out", T0 + H)
    assert "no in-home activity" in state.reason
    apply_event(state, ALONE, motion(T0 + 3 * H + 2 * M), cfg)
    assert (state.presence, state.since) == ("home", T0 + 3 * H)
    assert "after the door" in state.reason
    apply_event(state, ALONE, door(T0 + 5 * H), cfg)  # a visitor: the resident moves at once
    apply_event(state, ALONE, motion(T0 + 5 * H + 3 * M), cfg)
    assert (state.presence, state.since) == ("home", T0 + 3 * H)
    assert "stayed home" in state.reason
    assert set(state.signals) == {"motion", "door"}


def test_gate_events_decide_and_family_flats_do_not_infer_from_doors() -> None:
    family = Resident("r2", "B-0301", elderly=True, lives_alone=False)
    state, cfg = PresenceState(), PresenceConfig()
    apply_event(state, family, motion(T0, "B-0301"), cfg)
    assert state.presence == "unknown"
    apply_event(state, family, gate(T0 + H, "out", "r2"), cfg)
    apply_event(state, family, motion(T0 + 2 * H, "B-0301"), cfg)  # someone else at home
    assert (state.presence, state.out_source) == ("out", "gate")
    apply_event(state, family, gate(T0 + 3 * H, "in", "r2"), cfg)
    assert (state.presence, state.since, state.last_in_at) == ("home", T0 + 3 * H, T0 + 3 * H)
    assert "gate north (face) in" in state.reason


def test_elderly_not_out_fires_at_due_time_then_reminds_with_the_same_key() -> None:
    engine = RuleEngine([ALONE], RuleConfig(reminder_every=6 * H, no_sign_enabled=False))
    engine.on_event(gate(T0, "in"))
    fired = []
    t = T0
    while t < T0 + 40 * H:  # activity every 30 min, never out
        t += 30 * M
        fired += engine.on_event(motion(t))
    fired += engine.advance(T0 + 40 * H)
    assert [(f.at - T0, f.reminder) for f in fired] == [(24 * H, False), (30 * H, True), (36 * H, True)]
    assert len({f.dedup_key for f in fired}) == 1
    assert fired[0].details["last_out_at"] is None


def test_going_out_before_due_time_resets_the_stretch() -> None:
    engine = RuleEngine([ALONE])
    engine.on_event(motion(T0))
    engine.on_event(door(T0 + 23 * H + 55 * M))  # leaves 5 minutes before the due time, door-only
    fired = engine.advance(T0 + 26 * H)
    assert fired == []
    assert engine.states["r1"].last_out_at == T0 + 23 * H + 55 * M


def test_away_periods_pause_the_rules() -> None:
    away = Resident("r1", "A-1201", elderly=True, lives_alone=True, away=((T0 + 10 * H, T0 + 40 * H),))
    engine = RuleEngine([away], RuleConfig(no_sign_enabled=False))
    engine.on_event(motion(T0))
    early = engine.advance(T0 + 60 * H)
    # due at 24 h fell inside the away period: the stretch restarts after (no_activity: before the away, below)
    assert [f for f in early if f.type != "no_activity"] == []
    assert [f.at for f in early] == [T0 + 8 * H], "the silence before the away period (cold start: 8 h)"
    fired = engine.advance(T0 + 64 * H + M)
    assert [f.at for f in fired if f.type == "elderly_not_out"] == [T0 + 64 * H]


def test_no_sign_of_life_for_someone_living_alone() -> None:
    younger = Resident("r3", "C-0901", elderly=False, lives_alone=True, no_sign_hours=12)
    engine = RuleEngine([younger])
    engine.on_event(motion(T0, "C-0901"))
    fired = engine.advance(T0 + 13 * H)
    assert [(f.type, f.severity, f.at) for f in fired] == [("no_sign_of_life", "critical", T0 + 12 * H)]
    assert engine.advance(T0 + 30 * H) == []  # one alert per quiet spell
    engine.on_event(motion(T0 + 31 * H, "C-0901"))
    assert [f.type for f in engine.advance(T0 + 44 * H)] == ["no_sign_of_life"]


def test_state_survives_a_restart_as_json() -> None:
    cfg = RuleConfig(no_sign_enabled=False)
    state = PresenceState()
    apply_event(state, ALONE, gate(T0, "in"), cfg.presence)
    apply_event(state, ALONE, motion(T0 + H), cfg.presence)
    restored = PresenceState.from_json(state.to_json())
    assert restored == state
    due = next_due(restored, ALONE, T0 + 2 * H, cfg)
    assert due == T0 + 24 * H
    assert [f.type for f in evaluate(restored, ALONE, due, cfg)] == ["elderly_not_out"]


def test_due_index_yields_in_due_order_and_forgets_rescheduled_entries() -> None:
    index = DueIndex()
    index.set("a", T0 + 3 * H)
    index.set("b", T0 + H)
    index.set("c", T0 + 2 * H)
    index.set("a", T0 + 30 * M)  # rescheduled earlier
    index.set("c", None)  # nothing due any more
    assert list(index.pop_due(T0 + 90 * M)) == [(T0 + 30 * M, "a"), (T0 + H, "b")]
    assert len(index) == 0
    assert index.peek() is None
