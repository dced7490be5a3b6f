"""Words for people, and the one-alert rule as pure logic (the replay driver, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from alerts.drafts import resident_draft
from alerts.memory_driver import RuleEngine
from alerts.presence import PresenceEvent, PresenceState, Resident
from alerts.presence_rules import RuleConfig
from alerts.replay import alert_id_for
from alerts.wording import at, clock, duration, since, span, stamp, zone_label

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 4, 10, 52, tzinfo=TZ)  # a Wednesday
H = timedelta(hours=1)
ALONE = Resident("r1", "A-1201", building="A", floor=12, elderly=True, lives_alone=True)


def test_durations_read_as_people_say_them() -> None:
    assert duration(26 * 60 + 10) == "26 h 10 min"
    assert duration(50) == "50 min"
    assert duration(120) == "2 h"
    assert duration(59.6) == "1 h"
    assert duration(0.8) == "48 s"  # the demo's fast clock: never "0.0133333 h"
    assert duration(0) == "0 min"
    assert duration(80 * 60) == "3 d 8 h"
    assert span(timedelta(hours=26, minutes=10, seconds=20)) == "26 h 10 min"


def test_clock_times_in_the_estate_zone_with_their_label() -> None:
    assert zone_label(NOW, TZ) == "UTC+8"
    assert zone_label(NOW, UTC) == "UTC"
    assert zone_label(NOW, ZoneInfo("America/St_Johns")) == "UTC-3:30"
    utc = datetime(2026, 3, 4, 0, 42, tzinfo=UTC)  # 08:42 in the estate
    assert clock(utc, NOW, TZ) == "08:42"
    assert since(utc - 24 * H, NOW, TZ) == "since 08:42 yesterday (UTC+8)"
    assert at(utc - 48 * H, NOW, TZ) == "Mon 08:42 (UTC+8)"
    assert clock(utc - 10 * 24 * H, NOW, TZ) == "22 Feb 08:42"
    assert stamp(utc, TZ) == "4 Mar 08:42 (UTC+8)"


def _engine() -> RuleEngine:
    return RuleEngine([ALONE], RuleConfig(reminder_every=6 * H, no_sign_enabled=False), tz=TZ, routines=False)


def gate(when: datetime, direction: str) -> PresenceEvent:
    return PresenceEvent(when, "access", resident="r1", direction=direction, gate="north", method="card")


def test_reminders_share_the_alert_and_going_out_closes_it() -> None:
    engine = _engine()
    home = datetime(2026, 3, 2, 8, 42, tzinfo=TZ)
    engine.on_event(gate(home, "in"))
    fired = engine.advance(home + 37 * H)
    assert [(f.reminder, f.at - home) for f in fired] == [(False, 24 * H), (True, 30 * H), (True, 36 * H)]
    assert {f.dedup_key for f in fired} == {"elderly_not_out:r1"}
    assert {alert_id_for(f.occurrence_key) for f in fired} == {alert_id_for(f"elderly_not_out:r1:{home.isoformat()}")}
    draft = resident_draft(fired[0], "s1")
    assert draft.title == "Resident r1 (A-1201) has not gone out for 24 h"
    assert fired[0].details["explanation"] == ("at home since 08:42 yesterday (UTC+8), 24 h without going out;"
                                               " gate north (card) in at 2 Mar 08:42 (UTC+8)")
    assert resident_draft(fired[2], "s1").title == "Resident r1 (A-1201) has not gone out for 36 h"
    assert engine.closed == []
    out = home + 37 * H + 10 * timedelta(minutes=1)  # 21:52 on the next day
    assert engine.on_event(gate(out, "out")) == []
    [closed] = engine.closed
    assert (closed.type, closed.dedup_key, closed.episode) == ("elderly_not_out", "elderly_not_out:r1",
                                                               home.isoformat())
    assert closed.reason == "seen going out at gate north 21:52 (UTC+8)"
    assert engine.states["r1"].open_alerts == {}
    engine.on_event(gate(out + H, "in"))  # a new stretch: a new alert (new id), once it is 24 h long
    again = engine.advance(out + 26 * H)
    assert [f.reminder for f in again] == [False]
    assert alert_id_for(again[0].occurrence_key) != alert_id_for(fired[0].occurrence_key)


def test_coming_in_through_a_gate_closes_too_and_state_survives_json() -> None:
    engine = _engine()
    home = datetime(2026, 3, 2, 8, 0, tzinfo=TZ)
    engine.on_event(gate(home, "in"))
    engine.advance(home + 25 * H)
    restored = PresenceState.from_json(engine.states["r1"].to_json())
    assert restored.open_alerts == {"elderly_not_out": home.isoformat()}
    engine.on_event(gate(home + 26 * H, "in"))  # the way out was missed: they came back, so they had been out
    assert [c.reason for c in engine.closed] == ["seen coming in at gate north 10:00 (UTC+8)"]


def test_no_sign_of_life_closes_on_motion_with_the_signal_named() -> None:
    engine = RuleEngine([ALONE], RuleConfig(), tz=TZ, routines=False)
    home = datetime(2026, 3, 2, 8, 0, tzinfo=TZ)
    engine.on_event(gate(home, "in"))
    fired = [f for f in engine.advance(home + 13 * H) if f.type == "no_sign_of_life"]
    assert [f.dedup_key for f in fired] == ["no_sign_of_life:r1"]
    assert resident_draft(fired[0], "s1").title == "No sign of life from A-1201 for 12 h"
    engine.on_event(PresenceEvent(home + 14 * H, "water", unit="A-1201", litres=3.0))
    assert [(c.type, c.reason) for c in engine.closed] == [
        ("no_sign_of_life", "sign of life: water use (3.0 l) at 22:00 (UTC+8)")]
