"""The routine model and the no_activity rule, pure: learning, decisions, cold start, quiet hours, suspension,
explanations, persistence and due times."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from alerts.inactivity.batch import learn_history
from alerts.inactivity.chart import learnt_day
from alerts.inactivity.engine import InactivityEngine
from alerts.inactivity.explain import duration, explanation
from alerts.inactivity.model import RoutineModel, slot_of, threshold_minutes
from alerts.inactivity.rule import (
    InactivityState,
    alert_fields,
    counted_from,
    evaluate,
    next_due,
    replay_fields,
)
from alerts.inactivity.settings import InactivitySettings, SettingsError
from alerts.presence import PresenceEvent, Resident

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 1, 5, tzinfo=TZ)  # a Monday
UNIT = "A-1201"
ME = Resident("r1", UNIT, elderly=True, lives_alone=True)


def routine(days: int, start: datetime = START, every_min: int = 12) -> list[PresenceEvent]:
    """Up 07:00-22:00 with a signal every ``every_min`` minutes and a 13:00-14:00 nap; one bathroom visit at 03:00."""
    events = []
    for d in range(days):
        day = start + timedelta(days=d)
        t = day + timedelta(hours=7)
        while t < day + timedelta(hours=22):
            if not day + timedelta(hours=13) <= t < day + timedelta(hours=14):
                events.append(PresenceEvent(t, "motion", unit=UNIT, sensor="living-pir"))
            t += timedelta(minutes=every_min)
        events.append(PresenceEvent(day + timedelta(hours=14), "motion", unit=UNIT, sensor="bedroom-pir"))
        events.append(PresenceEvent(day + timedelta(days=1, hours=3), "water", unit=UNIT, litres=6.0))
    return sorted(events, key=lambda e: e.ts)


def engine_after(events: list[PresenceEvent], settings: InactivitySettings | None = None,
                 resident: Resident = ME) -> InactivityEngine:
    eng = InactivityEngine([resident], TZ, settings)
    for ev in events:
        assert eng.on_event(ev) == [], f"no alert expected on the ordinary routine ({ev.ts})"
    return eng


def test_learns_short_spells_by_day_and_the_night_as_long() -> None:
    model = RoutineModel(30.0)
    events = routine(21)
    for a, b in itertools.pairwise(events):
        model.learn(a.ts, b.ts, TZ)
    now = events[-1].ts
    day_view, _ = model.view(0, 10, now)
    night_view, _ = model.view(0, 21, now)
    assert day_view.usual_min <= 15  # a signal every 12 minutes
    assert night_view.usual_min >= 4 * 60  # 21:48 -> 03:00 and on to 07:00
    assert model.view(0, 12, now)[0].longest_min == pytest.approx(72, abs=1)  # the nap: 12:48 -> 14:00
    day_thr, _, _, _ = threshold_minutes(model, InactivitySettings(), 0, 10, now)
    night_thr, _, _, _ = threshold_minutes(model, InactivitySettings(), 0, 21, now)
    assert 2 * 60 <= day_thr < night_thr


def test_improbable_daytime_silence_raises_within_hours_with_its_explanation() -> None:
    events = routine(23)  # day 22 is a Tuesday
    eng = engine_after([e for e in events if e.ts < START + timedelta(days=22, hours=9, minutes=42)])
    last = eng.states["r1"].silence_since
    assert last is not None
    assert last.astimezone(TZ).strftime("%H:%M") == "09:36"
    fired = eng.advance(last + timedelta(hours=10))
    assert len(fired) == 1
    alert = fired[0]
    assert alert.type == "no_activity"
    assert alert.severity == "critical"
    assert timedelta(hours=2) <= alert.at - last <= timedelta(hours=3)
    text = alert.details["explanation"]
    assert text.startswith("no activity since 09:36 (")
    assert "on weekdays at this hour this resident is usually active within" in text
    assert "the longest quiet spell in 30 days" in text
    assert alert.details["cold_start"] is False
    assert 0 < alert.details["probability_normal"] < 0.01
    assert eng.advance(last + timedelta(hours=20)) == []  # once per silence


def test_the_ordinary_night_does_not_raise() -> None:
    events = routine(21)
    eng = engine_after(events)
    assert eng.advance(events[-1].ts + timedelta(hours=3)) == []  # 22:00 -> 01:00, as every night


def test_cold_start_uses_the_fixed_threshold_and_says_so() -> None:
    events = [e for e in routine(3) if e.ts < START + timedelta(days=2, hours=10)]
    eng = engine_after(events)
    last = eng.states["r1"].silence_since
    assert last is not None
    assert eng.advance(last + timedelta(hours=7, minutes=59)) == []
    fired = eng.advance(last + timedelta(hours=9))
    assert len(fired) == 1
    assert fired[0].at - last == timedelta(hours=8)
    assert fired[0].details["cold_start"] is True
    assert "still learning this resident's routine (2 of 14 days), so a fixed 8 h threshold applies" in \
        fired[0].details["explanation"]


def test_quiet_hours_never_raise_alone() -> None:
    cfg = InactivitySettings(quiet_start_hour=9.0, quiet_end_hour=12.0)
    events = routine(21)
    eng = engine_after([e for e in events if e.ts < START + timedelta(days=20, hours=9, minutes=30)], cfg)
    state, presence = eng.states["r1"], eng.presence["r1"]
    since = state.silence_since
    assert since is not None
    noon = (START + timedelta(days=20, hours=12))
    assert counted_from(state, ME, presence, noon, cfg, TZ) == noon  # began inside quiet hours: counts from their end
    assert evaluate(state, ME, presence, START + timedelta(days=20, hours=11, minutes=59), cfg, TZ) is None
    fired = eng.advance(noon + timedelta(hours=6))
    assert len(fired) == 1
    assert fired[0].at >= noon + timedelta(hours=2)
    assert "counted from 12:00" in fired[0].details["explanation"]


def test_gate_out_and_away_notes_suspend() -> None:
    events = [e for e in routine(21) if e.ts < START + timedelta(days=20, hours=10)]
    out_at = START + timedelta(days=20, hours=10, minutes=5)
    gone = [*events, PresenceEvent(out_at, "access", resident="r1", direction="out", gate="north", method="face")]
    eng = engine_after(gone)
    assert eng.index.get("r1") is None  # nothing due while out: only an event can change that
    assert eng.advance(out_at + timedelta(hours=30)) == []

    note = (START + timedelta(days=20, hours=10, minutes=30), START + timedelta(days=22))
    noted = Resident("r1", UNIT, elderly=True, lives_alone=True, away=(note,))
    eng = engine_after(events, resident=noted)
    due = eng.index.get("r1")
    assert due is not None
    assert due >= note[1]
    assert eng.advance(note[1] - timedelta(minutes=1)) == []


def test_next_due_is_when_the_silence_becomes_improbable() -> None:
    events = [e for e in routine(21) if e.ts < START + timedelta(days=20, hours=15)]
    eng = engine_after(events)
    state, presence = eng.states["r1"], eng.presence["r1"]
    now = events[-1].ts
    due = next_due(state, ME, presence, now, InactivitySettings(), TZ, timedelta(minutes=10))
    assert due is not None
    assert due == eng.index.get("r1")
    assert evaluate(state, ME, presence, due - timedelta(seconds=1), InactivitySettings(), TZ) is None
    assert evaluate(state, ME, presence, due, InactivitySettings(), TZ) is not None


def test_serialisation_round_trip_is_exact_and_small() -> None:
    eng = engine_after(routine(21))
    state = eng.states["r1"]
    image, progress = state.to_record()
    assert len(image) < 2048
    back = InactivityState.from_record(image, progress)
    assert back.silence_since == state.silence_since
    assert back.raised_for == state.raised_for
    assert (back.model.hist == state.model.hist).all()
    assert (back.model.longest == state.model.longest).all()
    now = state.silence_since or START
    assert threshold_minutes(back.model, InactivitySettings(), 0, 10, now)[0] == \
        threshold_minutes(state.model, InactivitySettings(), 0, 10, now)[0]
    with pytest.raises(ValueError, match="routine model image"):
        RoutineModel.from_bytes(b"nonsense" * 4)
    with pytest.raises(ValueError, match="damaged"):
        RoutineModel.from_bytes(image[:-40])


def test_explanation_in_the_issue_style() -> None:
    since = datetime(2026, 3, 4, 9, 42, tzinfo=TZ)
    text = explanation(since=since, now=since + timedelta(hours=3, minutes=10), tz=TZ, day_type="weekdays",
                       usual_min=50, longest_min=95, window_days=30, cold=False, cold_hours=8, history_days=40,
                       cold_days=14)
    assert text == ("no activity since 09:42 (3 h 10 min); on weekdays at this hour this resident is usually active"
                    " within 50 min (the longest quiet spell in 30 days: 1 h 35 min)")
    assert duration(120) == "2 h"
    assert duration(59.6) == "1 h"


def test_time_zone_decides_the_hour() -> None:
    utc_morning = datetime(2026, 1, 5, 1, 30, tzinfo=ZoneInfo("UTC"))  # 09:30 in Shanghai, a Monday
    assert slot_of(utc_morning, TZ) == (0, 9)
    assert slot_of(datetime(2026, 1, 10, 23, 0, tzinfo=TZ), TZ) == (1, 23)  # Saturday


def test_settings_merge_and_reject() -> None:
    merged = InactivitySettings().merged({"sensitivity": 0.2}, {"learning_window_days": 60, "quiet_start_hour": 23,
                                                                "quiet_end_hour": 6})
    assert merged.sensitivity == 0.2
    assert merged.learning_window_days == 60
    assert merged.has_quiet_hours
    with pytest.raises(SettingsError, match="unknown"):
        InactivitySettings().merged({"sensitivty": 0.2})
    with pytest.raises(SettingsError, match="sensitivity"):
        InactivitySettings().merged({"sensitivity": 5})
    with pytest.raises(SettingsError, match="both"):
        InactivitySettings(quiet_start_hour=23)


def test_learnt_day_for_the_console_chart() -> None:
    eng = engine_after(routine(21))
    now = eng.states["r1"].silence_since or START
    day = learnt_day(eng.states["r1"].model, InactivitySettings(), now)
    assert day["cold_start"] is False
    assert len(day["weekdays"]) == 24
    assert len(day["weekends"]) == 24
    ten, late = day["weekdays"][10], day["weekdays"][21]
    assert ten["usual_min"] < late["usual_min"]
    assert ten["threshold_min"] < late["threshold_min"]
    assert ten["spells"] > 1


def test_alert_fields_fit_a_draft() -> None:
    events = routine(23)
    eng = engine_after([e for e in events if e.ts < START + timedelta(days=22, hours=9, minutes=42)])
    fired = eng.advance(START + timedelta(days=23))
    fields = alert_fields(fired[0])
    assert fields["type"] == "no_activity"
    assert fields["dedup_key"] == f"no_activity:r1:{eng.states['r1'].silence_since.isoformat()}"  # type: ignore[union-attr]
    assert fields["subject"]["unit"] == UNIT
    assert fields["title"].startswith(f"No activity from {UNIT} for 2.0 h")
    shown = replay_fields(fired[0], TZ)
    assert shown["silence_since"].endswith("+08:00")
    assert shown["explanation"] == fired[0].details["explanation"]


def test_batch_backfill_learns_what_event_by_event_learning_does() -> None:
    events = routine(21)
    one_by_one = RoutineModel(30.0)
    for a, b in itertools.pairwise(events):
        one_by_one.seen(a.ts)
        one_by_one.learn(a.ts, b.ts, TZ)
    one_by_one.seen(events[-1].ts)
    batch = RoutineModel(30.0)
    learnt = learn_history(batch, [e.ts for e in events], TZ)
    assert learnt == sum(1 for a, b in itertools.pairwise(events) if b.ts - a.ts >= timedelta(minutes=10))
    assert np.allclose(batch.hist, one_by_one.hist, rtol=1e-5)
    assert np.array_equal(batch.longest, one_by_one.longest)  # 21 days: nothing has left the window yet
    assert batch.first_day == one_by_one.first_day
    with pytest.raises(ValueError, match="time order"):
        learn_history(RoutineModel(30.0), [events[1].ts, events[0].ts], TZ)


def _outing_then(after: list[tuple[int, str]]) -> InactivityEngine:
    """21 ordinary days; on day 22 the resident leaves at 10:00 (the door, then silence: out), then ``after``:
    (minutes after 10:00, kind) signs."""
    day = START + timedelta(days=21)
    eng = engine_after([e for e in routine(22) if e.ts < day + timedelta(hours=10)])
    for minute, kind in [(0, "door"), (0, "door"), *after]:
        ts = day + timedelta(hours=10, minutes=minute, seconds=1 if kind == "door" and minute == 0 else 0)
        state = "closed" if kind == "door" else None
        eng.on_event(PresenceEvent(ts, kind, unit=UNIT, state=state, sensor="kitchen-pir"))  # type: ignore[arg-type]
    return eng


def test_a_sign_in_the_empty_flat_is_not_a_return_home() -> None:
    """Out through the door, then one motion an hour later without the door: only the fixed max_hours applies."""
    eng = _outing_then([(60, "motion")])
    state = eng.states["r1"]
    assert state.unconfirmed_since is not None
    sign = START + timedelta(days=21, hours=11)
    assert eng.advance(sign + timedelta(hours=13, minutes=59)) == []  # a learnt day threshold is about 2 h
    fired = eng.advance(sign + timedelta(hours=14))
    assert len(fired) == 1
    d = fired[0].details
    assert d["unconfirmed_return"] is True
    assert (d["threshold_minutes"], d["alpha"]) == (14 * 60, None)
    assert "thought to be out and not after the flat door, so only the fixed 14 h threshold applies" in \
        d["explanation"]
    back = InactivityState.from_record(*state.to_record())
    assert (back.unconfirmed_since, back.last_door, back.left_at) == (state.unconfirmed_since, state.last_door, None)


def test_a_return_through_the_door_or_signs_of_someone_moving_about_count_again() -> None:
    through_door = _outing_then([(120, "door"), (122, "motion")])
    moving_about = _outing_then([(60, "motion"), (63, "motion"), (66, "motion")])
    isolated = _outing_then([(60, "motion"), (100, "motion"), (140, "motion")])  # a sensor now and then
    assert through_door.states["r1"].unconfirmed_since is None
    assert moving_about.states["r1"].unconfirmed_since is None
    assert isolated.states["r1"].unconfirmed_since is not None
    for eng in (through_door, moving_about):
        last = eng.states["r1"].silence_since
        assert last is not None
        fired = eng.advance(last + timedelta(hours=6))
        assert len(fired) == 1
        assert fired[0].details["unconfirmed_return"] is False
        assert fired[0].at - last < timedelta(hours=4)  # the learnt threshold, not the fixed 14 h
