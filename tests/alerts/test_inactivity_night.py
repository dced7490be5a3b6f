"""The night model: wake-ups learnt as clock times, the predictive bound, re-timed night thresholds, persistence."""

from __future__ import annotations

import itertools
import struct
import zlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from alerts.inactivity.batch import learn_history
from alerts.inactivity.chart import learnt_day
from alerts.inactivity.engine import InactivityEngine
from alerts.inactivity.model import RoutineModel, threshold_minutes
from alerts.inactivity.night import night_hours, night_threshold, t_quantile
from alerts.inactivity.rule import evaluate, next_due
from alerts.inactivity.settings import InactivitySettings
from alerts.presence import PresenceEvent, Resident
from tests.alerts.routine_helpers import learnt_engine

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 1, 5, tzinfo=TZ)  # a Monday
UNIT = "B-0304"
ME = Resident("r2", UNIT, elderly=True, lives_alone=True)
BEDTIMES = (22.0, 22.5, 23.0)  # varied bedtimes ...
WAKE_MIN = (390, 394, 386, 392, 388)  # ... but a regular wake-up, 06:26-06:34


def nights(days: int, *, visits: bool = True) -> list[PresenceEvent]:
    """Up from the wake-up with a sign every 6 min until bedtime, a 09:00-10:00 bath (no sign), a bathroom visit
    (motion, water 2 min later) at 03:00 every night when ``visits``.
    """
    events = []
    for d in range(days):
        day = START + timedelta(days=d)
        t = day + timedelta(minutes=WAKE_MIN[d % len(WAKE_MIN)])
        bed = day + timedelta(hours=BEDTIMES[d % len(BEDTIMES)])
        while t <= bed:
            if not day + timedelta(hours=9) < t < day + timedelta(hours=10):
                events.append(PresenceEvent(t, "motion", unit=UNIT, sensor="living-pir"))
            t += timedelta(minutes=6)
        if visits:
            visit = day + timedelta(days=1, hours=3)
            events.append(PresenceEvent(visit, "motion", unit=UNIT, sensor="bathroom-pir"))
            events.append(PresenceEvent(visit + timedelta(minutes=2), "water", unit=UNIT, litres=6.0))
    return sorted(events, key=lambda e: e.ts)


def engine_after(events: list[PresenceEvent]) -> InactivityEngine:
    return learnt_engine(events, ME, TZ)


def test_wake_up_is_learnt_as_a_clock_time_without_the_visits_or_the_morning_bath() -> None:
    model = engine_after(nights(28)).states["r2"].model
    fit = model.night.fit(0)
    assert fit is not None
    assert fit.mean == pytest.approx(6.5 + 24, abs=0.05)  # 06:30, not 03:00 (the visit) nor 10:00 (the bath)
    assert fit.sd == pytest.approx(0.25)  # the floor: 4 min of spread is no reason for a bound 10 min wide
    assert model.night.visit_rate() == pytest.approx(1 / 8.0, rel=0.2)  # a visit in each night of about 8 h
    assert night_hours(datetime(2026, 1, 6, 2, 0, tzinfo=TZ)) == (datetime(2026, 1, 5).toordinal(), 26.0)


def test_student_t_quantile_and_the_bound_widening_with_few_nights() -> None:
    assert t_quantile(0.99, 3.0) == pytest.approx(4.541, rel=0.03)
    assert t_quantile(0.975, 10.0) == pytest.approx(2.228, rel=0.01)
    assert t_quantile(0.95, 1e6) == pytest.approx(1.645, rel=0.001)
    few = engine_after(nights(8)).states["r2"].model.night.fit(0)
    many = engine_after(nights(28)).states["r2"].model.night.fit(0)
    assert few is not None
    assert many is not None
    assert few.nights < many.nights
    assert few.upper(0.01) - few.mean > many.upper(0.01) - many.mean  # a prediction bound, not a sample maximum


def test_a_night_a_little_longer_than_every_night_learnt_does_not_raise() -> None:
    events = nights(29, visits=False)
    cut = START + timedelta(days=27, hours=21, minutes=33)  # to bed 28 min earlier than ever, up at the usual time
    wake = START + timedelta(days=28, minutes=WAKE_MIN[28 % len(WAKE_MIN)])
    before = [e for e in events if e.ts <= cut]
    eng = engine_after(before)
    state, presence = eng.states["r2"], eng.presence["r2"]
    since = state.silence_since
    assert since is not None
    settings = InactivitySettings()
    hour_minutes, _, _, _ = threshold_minutes(state.model, settings, 1, since.astimezone(TZ).hour, since)
    assert since + timedelta(minutes=hour_minutes) < wake  # the hour's spells alone would raise before he is up
    due = next_due(state, ME, presence, since, settings, TZ, timedelta(minutes=10))
    assert due is not None
    assert due == eng.index.get("r2")
    assert wake < due <= since + timedelta(minutes=hour_minutes + 15, seconds=1)  # 15 min later at most
    assert evaluate(state, ME, presence, due - timedelta(seconds=1), settings, TZ) is None
    fired = evaluate(state, ME, presence, due, settings, TZ)
    assert fired is not None
    assert fired.details["model"] == "night"
    assert fired.details["usual_wake"] == "06:51"  # 90 % of the predictive distribution (sd at its 15 min floor)
    assert fired.details["latest_wake"] == "06:34"
    assert 0 < fired.details["probability_normal"] < 0.5
    assert fired.details["explanation"].endswith(
        "on weekdays this resident usually gets up by 06:51 (the latest in 30 days: 06:34)")
    assert engine_after([*before, *(e for e in events if e.ts >= wake)]).states["r2"].raised_for is None


def test_an_evening_pause_keeps_the_hour_threshold() -> None:
    events = nights(28)
    cut = START + timedelta(days=27, hours=19)
    eng = engine_after([e for e in events if e.ts <= cut])
    state, presence = eng.states["r2"], eng.presence["r2"]
    since = state.silence_since
    assert since is not None
    due = next_due(state, ME, presence, since, InactivitySettings(), TZ, timedelta(minutes=10))
    assert due is not None
    hour_minutes, _, _, _ = threshold_minutes(state.model, InactivitySettings(), 1, since.astimezone(TZ).hour, since)
    assert due - since == timedelta(minutes=hour_minutes)  # the hour's threshold, not the wake-up's bound
    assert due - since < timedelta(hours=3)
    fired = evaluate(state, ME, presence, due, InactivitySettings(), TZ)
    assert fired is not None
    assert fired.details["model"] == "hour"
    assert "usually active within" in fired.details["explanation"]


def test_irregular_wake_ups_leave_the_night_to_the_hour_model() -> None:
    model = RoutineModel(30.0)
    for d in range(20):
        bed = START + timedelta(days=d, hours=22)
        wake = bed + timedelta(hours=7 + (d % 5) * 0.8)  # 05:00 ... 08:12: a standard deviation over 1 h
        model.learn(bed, wake, TZ)
        model.learn(wake, wake + timedelta(hours=3), TZ)  # the morning: closes the night
    fit = model.night.fit(0)
    assert fit is not None
    assert fit.sd > 1.0
    assert model.night_view(START.toordinal() + 21, 0.01, START + timedelta(days=21)) is None


def test_night_log_survives_the_image_and_old_images_still_load() -> None:
    model = engine_after(nights(21)).states["r2"].model
    image = model.to_bytes()
    assert len(image) < 5 * 1024
    back = RoutineModel.from_bytes(image)
    for a, b in zip(back.night.arrays(), model.night.arrays(), strict=True):
        assert a.tobytes() == b.tobytes()
    # a version 1 image (before the night log) loads with no nights learnt
    head = struct.pack("<4sBBddd", b"EWRM", 1, 22, model.ref_day, model.first_day, model.last_day)
    body = model.hist.tobytes() + model.longest.tobytes() + model.longest_day.tobytes()
    old = RoutineModel.from_bytes(head + struct.pack("<f", model.tau_days) + zlib.compress(body))
    assert (old.hist == model.hist).all()
    assert old.night.fit(0) is None


def test_backfill_learns_the_same_nights_as_event_by_event_learning() -> None:
    events = nights(28)
    online = RoutineModel(30.0)
    for a, b in itertools.pairwise(events):
        online.learn(a.ts, b.ts, TZ)
    batch = RoutineModel(30.0)
    learn_history(batch, [e.ts for e in events], TZ)
    for dtype in (0, 1):
        one, other = online.night.fit(dtype), batch.night.fit(dtype)
        assert one is not None
        assert other is not None
        assert (other.mean, other.sd, other.nights) == pytest.approx((one.mean, one.sd, one.nights), rel=1e-6)
    assert batch.night.visit_rate() == pytest.approx(online.night.visit_rate(), rel=1e-6)


def test_the_console_chart_draws_the_night_models_thresholds() -> None:
    model = engine_after(nights(28, visits=False)).states["r2"].model
    now = START + timedelta(days=28)
    settings = InactivitySettings()
    day = learnt_day(model, settings, now)
    hour_minutes, _, _, alpha = threshold_minutes(model, settings, 0, 22, now)
    night = model.night.view(0, alpha, now.timestamp() / 86400.0, model.tau_days)
    assert night is not None
    at_night = night_threshold(night, 22.0, hour_minutes, 120.0, 840.0)
    assert at_night is not None
    assert day["weekdays"][22]["threshold_min"] == round(at_night, 1)
    assert day["weekdays"][22]["usual_min"] <= day["weekdays"][22]["threshold_min"]
    afternoon, _, _, _ = threshold_minutes(model, settings, 0, 15, now)
    assert day["weekdays"][15]["threshold_min"] == round(afternoon, 1)  # the day is the hour model's
