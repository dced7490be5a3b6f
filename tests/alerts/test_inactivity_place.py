"""Where a silence began (``alerts.inactivity.place``): the last sign's evidence about "the night", learnt online
and in the backfill alike, persisted with the rule's progress, and used by the bedtime model one way only.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from alerts.inactivity.batch import learn_history
from alerts.inactivity.engine import InactivityEngine
from alerts.inactivity.model import RoutineModel, threshold_minutes
from alerts.inactivity.place import LONG_MIN, MIN_RATIO, PlaceLog, shifted_share, sign_slot
from alerts.inactivity.rule import InactivityFiring, InactivityState, evaluate, next_due
from alerts.inactivity.settings import InactivitySettings
from alerts.presence import PresenceEvent, Resident
from tests.alerts.routine_helpers import learnt_engine, spread_days

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 1, 5, tzinfo=TZ)  # a Monday
UNIT = "C-0808"
ME = Resident("r8", UNIT, elderly=True, lives_alone=True)
BED_H = (23.0, 23.5, 24.25, 23.75, 24.5, 23.25, 24.0)  # to bed 23:00-00:30 (hours after the evening's midnight)
WAKE_H = (5.5, 7.5, 9.0, 6.0, 8.5, 7.0, 9.5)  # up 05:30-09:30: too spread for the regular night, the bedtime model
DOOR_QUIET = timedelta(minutes=10)


def days(n: int) -> list[PresenceEvent]:
    """Days in the living room and the kitchen, every evening's last sign the bedroom PIR before sleep."""
    return spread_days(n, UNIT, START, BED_H, WAKE_H, ("kitchen-pir", "living-pir", "living-pir"), "bedroom-pir")


def test_a_sign_seen_everywhere_or_never_carries_no_news() -> None:
    log = PlaceLog()
    assert log.ratio(None) == 1.0
    assert log.ratio(3) == 1.0  # nothing learnt
    for _ in range(20):
        log.step(3, 30.0, 1.0)
        log.step(3, 300.0, 1.0)
    assert log.ratio(3) == 1.0  # one sign before every spell: a single sensor
    assert log.ratio(4) == 1.0  # a sign never seen
    for _ in range(20):
        log.step(5, 20.0, 1.0)  # a sign after which the spells are always short
    short = log.ratio(5)
    assert MIN_RATIO <= short < 0.2
    for _ in range(20):
        log.step(6, LONG_MIN, 1.0)
    assert log.ratio(6) == 1.0  # a sign that begins the night never makes the rule wait longer
    assert shifted_share(0.4, 1.0) == 0.4
    assert shifted_share(0.0, short) == 0.0
    assert shifted_share(0.4, short) < 0.4 * short / 0.6 * 1.01


def test_slots_are_stable_and_tell_edges_apart() -> None:
    assert sign_slot("motion", "kitchen-pir") == sign_slot("motion", "kitchen-pir")
    assert sign_slot("door", None, "open") != sign_slot("door", None, "closed")
    assert sign_slot("motion", "c7 on") != sign_slot("motion", "c7 off")
    assert all(0 <= sign_slot("motion", f"s{i}") < 64 for i in range(100))


def test_backfill_learns_the_same_last_signs_as_online_learning() -> None:
    events = days(21)
    online = RoutineModel(30.0)
    for a, b in itertools.pairwise(events):
        online.learn(a.ts, b.ts, TZ, sign_slot(a.kind, a.sensor, a.state))
    batch = RoutineModel(30.0)
    learn_history(batch, [e.ts for e in events], TZ, [sign_slot(e.kind, e.sensor, e.state) for e in events])
    assert float(online.place.counts.sum()) > 0
    np.testing.assert_allclose(batch.place.counts, online.place.counts, rtol=1e-5)
    bedroom, kitchen = sign_slot("motion", "bedroom-pir"), sign_slot("motion", "kitchen-pir")
    assert online.place.counts[bedroom, 1] > 0  # the night begins after the bedroom PIR
    assert online.place.counts[kitchen, 1] == 0  # never after the kitchen
    assert online.place.ratio(kitchen) < 0.2
    assert online.place.ratio(bedroom) == 1.0


def cut_after(sign: str, hours: float = 25.1) -> tuple[InactivityEngine, datetime]:
    """28 days learnt, then on a Monday night (``hours`` after Monday's midnight) one more sign and nothing after it."""
    cut = START + timedelta(days=28, hours=hours)
    events = [e for e in days(29) if e.ts < cut - timedelta(minutes=5)]
    events.append(PresenceEvent(cut, "motion", unit=UNIT, sensor=sign))
    return learnt_engine(events, ME, TZ), cut


def due_and_alert(eng: InactivityEngine, since: datetime) -> tuple[datetime, InactivityFiring]:
    settings = InactivitySettings()
    state, presence = eng.states["r8"], eng.presence["r8"]
    due = next_due(state, ME, presence, since, settings, TZ, DOOR_QUIET)
    assert due is not None
    fired = evaluate(state, ME, presence, due, settings, TZ)
    assert fired is not None
    return due, fired


def test_a_silence_after_the_kitchen_does_not_wait_for_the_morning() -> None:
    bed_eng, since = cut_after("bedroom-pir")  # 01:06, after the usual bedtimes
    kitchen_eng, same = cut_after("kitchen-pir")
    assert since == same
    due_bed, as_night = due_and_alert(bed_eng, since)
    due_kitchen, as_pause = due_and_alert(kitchen_eng, since)
    assert as_night.details["model"] == "bedtime"  # the bedroom: maybe the night, wait for the morning's bound
    assert as_night.details["sign_ratio"] == 1.0
    assert "after a last sign like this one" not in as_night.details["explanation"]
    assert as_pause.details["model"] == "hour"  # the kitchen: a pause, the hour's threshold
    hour_minutes, _, _, _ = threshold_minutes(kitchen_eng.states["r8"].model, InactivitySettings(), 0, 1, since)
    assert due_kitchen == since + timedelta(minutes=hour_minutes)
    assert due_bed - due_kitchen > timedelta(hours=1)


def test_the_explanation_says_when_the_last_sign_moved_the_share() -> None:
    eng, since = cut_after("kitchen-pir", 26.1)  # 02:06: the night still possible, but less so after the kitchen
    _, fired = due_and_alert(eng, since)
    assert fired.details["model"] == "bedtime"
    assert fired.details["sign_ratio"] < 0.1
    assert "after a last sign like this one" in fired.details["explanation"]


def test_the_last_sign_survives_a_restart() -> None:
    eng, since = cut_after("kitchen-pir")
    state = eng.states["r8"]
    assert state.silence_sign == sign_slot("motion", "kitchen-pir")
    image, meta = state.to_record()
    back = InactivityState.from_record(image, meta)
    assert back.silence_sign == state.silence_sign
    settings = InactivitySettings()
    assert (next_due(back, ME, eng.presence["r8"], since, settings, TZ, DOOR_QUIET)
            == next_due(state, ME, eng.presence["r8"], since, settings, TZ, DOOR_QUIET))
    meta.pop("silence_sign")
    assert InactivityState.from_record(image, meta).silence_sign is None  # a record written before the field
