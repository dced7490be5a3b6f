"""The night as bedtime-to-wake-up (``alerts.inactivity.bedtime``): the bedtime learnt as a
clock time, a silence that may be the night waiting for the night's end, an evening too early for bed and the
day keeping the hour's threshold, the console chart, the image of version 4 and older images.
"""

from __future__ import annotations

import itertools
import struct
import zlib
from datetime import datetime, timedelta
from statistics import NormalDist
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from alerts.inactivity.batch import learn_history
from alerts.inactivity.bedtime import bed_view, bedtime_threshold, t_cdf, t_pdf
from alerts.inactivity.chart import learnt_day
from alerts.inactivity.engine import InactivityEngine
from alerts.inactivity.model import RoutineModel, threshold_minutes
from alerts.inactivity.night import NightLog, night_hours, t_quantile
from alerts.inactivity.rule import evaluate, next_due
from alerts.inactivity.settings import InactivitySettings
from alerts.presence import PresenceEvent, Resident
from tests.alerts.routine_helpers import learnt_engine, spread_days

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 1, 5, tzinfo=TZ)  # a Monday
UNIT = "C-0707"
ME = Resident("r3", UNIT, elderly=True, lives_alone=True)
BED_H = (23.0, 23.5, 24.25, 23.75, 24.5, 23.25, 24.0)  # to bed 23:00-00:30 (hours after the evening's midnight)
WAKE_H = (5.5, 7.5, 9.0, 6.0, 8.5, 7.0, 9.5)  # up 05:30-09:30: a spread over 1 h, no regular night
DOOR_QUIET = timedelta(minutes=10)


def days(n: int) -> list[PresenceEvent]:
    """Up at the day's wake-up with a sign every 6 min, evenings (from 19:00) a sign every 14-32 min, to bed."""
    return spread_days(n, UNIT, START, BED_H, WAKE_H)


def engine_after(events: list[PresenceEvent]) -> InactivityEngine:
    return learnt_engine(events, ME, TZ)


def test_student_t_distribution_function_and_density() -> None:
    for nu in (4.0, 10.0, 30.0):
        for p in (0.01, 0.1, 0.5, 0.9, 0.99):
            assert t_cdf(t_quantile(p, nu), nu) == pytest.approx(p, abs=0.01)
        grid = np.linspace(-40.0, 40.0, 8001)
        assert float(np.sum([t_pdf(float(x), nu) for x in grid]) * 0.01) == pytest.approx(1.0, abs=0.01)
    assert t_pdf(0.0, 1e6) == pytest.approx(NormalDist().pdf(0.0), rel=1e-4)


def test_bedtime_is_learnt_as_a_clock_time_and_backfill_agrees() -> None:
    events = days(28)
    model = engine_after(events).states["r3"].model
    bed = model.night.bed_fit(0)
    wake = model.night.fit(0)
    assert bed is not None
    assert wake is not None
    assert bed.mean == pytest.approx(23.5, abs=0.2)  # the last sign before bed, 22:30-00:30, in night hours
    assert wake.sd > 1.0  # too spread for the regular-night model: the bedtime model's case
    assert model.night_view(START.toordinal() + 27, 0.02, START + timedelta(days=28)) is None
    batch = RoutineModel(30.0)
    learn_history(batch, [e.ts for e in events], TZ)
    online = RoutineModel(30.0)
    for a, b in itertools.pairwise(events):
        online.learn(a.ts, b.ts, TZ)
    one, other = online.night.bed_fit(0), batch.night.bed_fit(0)
    assert one is not None
    assert other is not None
    assert (other.mean, other.sd, other.nights) == pytest.approx((one.mean, one.sd, one.nights), rel=1e-6)


def silence_at(events: list[PresenceEvent], cut: datetime) -> tuple[InactivityEngine, datetime]:
    eng = engine_after([e for e in events if e.ts <= cut])
    since = eng.states["r3"].silence_since
    assert since is not None
    return eng, since


def test_a_silence_that_may_be_the_night_waits_for_the_nights_end() -> None:
    events = days(29)
    eng, since = silence_at(events, START + timedelta(days=28, hours=23, minutes=5))  # a Monday, 23:00
    state, presence = eng.states["r3"], eng.presence["r3"]
    settings = InactivitySettings()
    hour_minutes, _, _, alpha = threshold_minutes(state.model, settings, 0, 23, since)
    up = START + timedelta(days=29, hours=9)  # a late but ordinary wake-up (09:00 has been seen on weekdays)
    assert since + timedelta(minutes=hour_minutes) < up  # the hour's spells alone would raise before he is up
    view = bed_view(state.model.night, 0, since.timestamp() / 86400.0, state.model.tau_days)
    assert view is not None
    start_h = night_hours(since.astimezone(TZ))[1]
    as_night = bedtime_threshold(view, start_h, state.model.spell_rate(0, 23, since), alpha, 120.0, 840.0)
    assert as_night is not None
    assert alpha < as_night[1] < 1.0  # the night's share of silences begun at 23:00
    due = next_due(state, ME, presence, since, settings, TZ, DOOR_QUIET)
    assert due == since + timedelta(minutes=as_night[0])
    assert due == eng.index.get("r3")
    assert due > up
    assert evaluate(state, ME, presence, due - timedelta(seconds=1), settings, TZ) is None
    fired = evaluate(state, ME, presence, due, settings, TZ)
    assert fired is not None
    assert fired.details["model"] == "bedtime"
    assert fired.details["usual_wake"] == "09:11"
    assert fired.details["usual_bedtime"] == "23:34"
    # as the night alpha / share, as a pause at most alpha: the mixture lies between alpha and twice alpha
    assert alpha * 0.99 < fired.details["probability_normal"] < 2 * alpha
    assert "this resident may have gone to bed" in fired.details["explanation"]
    assert fired.details["explanation"].endswith("usually gets up by 09:11 (the latest in 30 days: 09:00)")
    woke = PresenceEvent(up, "motion", unit=UNIT, sensor="bedroom-pir")
    assert engine_after([*(e for e in events if e.ts <= since), woke]).states["r3"].raised_for is None


def test_an_evening_too_early_for_bed_and_the_day_keep_the_hours_threshold() -> None:
    events = days(29)
    settings = InactivitySettings()
    for cut_h, hour in ((19.5, 19), (14.0, 14)):
        eng, since = silence_at(events, START + timedelta(days=28, hours=cut_h))
        state, presence = eng.states["r3"], eng.presence["r3"]
        hour_minutes, _, _, _ = threshold_minutes(state.model, settings, 0, hour, since)
        due = next_due(state, ME, presence, since, settings, TZ, DOOR_QUIET)
        assert due == since + timedelta(minutes=hour_minutes)
        if hour == 19:
            assert due - since == timedelta(hours=2)  # a fall in the evening is still found at the 2 h floor
        fired = evaluate(state, ME, presence, due, settings, TZ)
        assert fired is not None
        assert fired.details["model"] == "hour"


def test_image_of_version_4_and_older_images() -> None:
    model = engine_after(days(21)).states["r3"].model
    image = model.to_bytes()
    assert image[4] == 4
    assert len(image) < 5 * 1024
    back = RoutineModel.from_bytes(image)
    assert back.night.bed.tobytes() == model.night.bed.tobytes()
    assert back.night.stats.tobytes() == model.night.stats.tobytes()
    assert back.place.counts.tobytes() == model.place.counts.tobytes()
    assert float(model.place.counts.sum()) > 0  # the evening spells after the living-room PIR
    head = _HEAD.pack(b"EWRM", 3, 22, model.ref_day, model.first_day, model.last_day)
    arrays = model.hist.tobytes() + model.longest.tobytes() + model.longest_day.tobytes()
    night = b"".join(a.tobytes() for a in model.night.arrays())
    v3 = RoutineModel.from_bytes(head + struct.pack("<f", model.tau_days) + zlib.compress(arrays + night))
    assert v3.night.bed.tobytes() == model.night.bed.tobytes()
    assert float(v3.place.counts.sum()) == 0.0  # no last signs in a version 3 image: learnt from now on
    head = _HEAD.pack(b"EWRM", 2, 22, model.ref_day, model.first_day, model.last_day)
    arrays = model.hist.tobytes() + model.longest.tobytes() + model.longest_day.tobytes()
    night_v2 = b"".join(a.tobytes() for a in model.night.arrays()[:4])
    assert len(night_v2) == NightLog.SIZE_V2
    old = RoutineModel.from_bytes(head + struct.pack("<f", model.tau_days) + zlib.compress(arrays + night_v2))
    assert old.night.stats.tobytes() == model.night.stats.tobytes()
    assert old.night.bed_fit(0) is None  # no bedtimes in a version 2 image: learnt from the next nights on
    assert old.night.fit(0) is not None
    v1 = _HEAD.pack(b"EWRM", 1, 22, model.ref_day, model.first_day, model.last_day)
    assert RoutineModel.from_bytes(v1 + struct.pack("<f", model.tau_days) + zlib.compress(arrays)).night.fit(0) is None


def test_the_console_chart_draws_the_bedtime_threshold() -> None:
    model = engine_after(days(29)).states["r3"].model
    now = START + timedelta(days=28, hours=12)
    settings = InactivitySettings()
    day = learnt_day(model, settings, now)
    hour_minutes, _, _, alpha = threshold_minutes(model, settings, 0, 23, now)
    view = bed_view(model.night, 0, now.timestamp() / 86400.0, model.tau_days)
    assert view is not None
    as_night = bedtime_threshold(view, 23.0, model.spell_rate(0, 23, now), alpha, 120.0, 840.0)
    assert as_night is not None
    assert day["weekdays"][23]["threshold_min"] == round(max(hour_minutes, as_night[0]), 1)
    afternoon, _, _, _ = threshold_minutes(model, settings, 0, 15, now)
    assert day["weekdays"][15]["threshold_min"] == round(afternoon, 1)


_HEAD = struct.Struct("<4sBBddd")
