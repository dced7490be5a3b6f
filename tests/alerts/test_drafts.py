"""Draft builders of every alert type, without a database: what each source hands to raise_alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerts.drafts import littering_draft, resident_draft, sensor_draft
from alerts.memory_driver import RuleEngine
from alerts.presence import PresenceEvent, Resident
from alerts.presence_rules import RuleConfig
from alerts.sensor_rules import DeviceState, SensorRuleConfig, check_offline, device_state, on_status, on_telemetry

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)


def test_resident_firings_become_drafts_one_per_resident_and_type() -> None:
    alone = Resident("r1", "A-1201", building="A", floor=12, elderly=True, lives_alone=True)
    engine = RuleEngine([alone], RuleConfig(no_sign_enabled=True))
    engine.on_event(PresenceEvent(T0, "access", resident="r1", direction="in", gate="north", method="face"))
    fired = engine.advance(T0 + 25 * H)
    every = [resident_draft(f, "s1") for f in fired]
    drafts = [d for d in every if d.type != "no_activity"]  # the learnt-routine rule is checked below
    assert [(d.type, d.severity) for d in drafts] == [("no_sign_of_life", "critical"), ("elderly_not_out", "major")]
    inactive = [d for d in every if d.type == "no_activity"]
    assert len(inactive) == 1, "one no_activity for the one silence (cold start: fixed 8 h for a day silence)"
    assert (inactive[0].severity, inactive[0].occurred_at) == ("critical", T0 + 8 * H)
    assert inactive[0].dedup_key == "no_activity:r1"  # one open per resident; the silence is the episode
    assert [f.occurrence_key for f in fired if f.type == "no_activity"] == [f"no_activity:r1:{T0.isoformat()}"]
    assert inactive[0].title == "No activity from A-1201 for 8 h (cold start)"
    assert "fixed 8 h threshold" in str(inactive[0].details["explanation"])
    assert inactive[0].subject == {"resident": "r1", "unit": "A-1201", "building": "A", "floor": 12}
    not_out = drafts[1]
    assert not_out.dedup_key == "elderly_not_out:r1"
    assert not_out.title == "Resident r1 (A-1201) has not gone out for 24 h"
    assert not_out.subject == {"resident": "r1", "unit": "A-1201", "building": "A", "floor": 12}
    assert not_out.occurred_at == T0 + 24 * H
    assert not_out.details["home_since"] == T0.isoformat()
    assert drafts[0].title == "No sign of life from A-1201 for 12 h"


def test_sensor_firings_become_one_draft_per_device_and_type() -> None:
    cfg = SensorRuleConfig()
    state = DeviceState()
    assert on_telemetry(state, "corridor-3", T0, {"temperature": 72.5, "power_w": 150.0}, cfg) == []  # persisting
    fired = on_telemetry(state, "corridor-3", T0 + timedelta(minutes=25), {"temperature": 71.0, "power_w": 160.0}, cfg)
    drafts = [sensor_draft(f, "s1", {"building": "B", "floor": 3}) for f in fired]
    assert [(d.type, d.dedup_key) for d in drafts] == [("temperature", "temperature:corridor-3"),
                                                        ("ebike_charging", "ebike_charging:corridor-3")]
    assert drafts[0].title == "Temperature above 60 °C: corridor-3"
    assert drafts[0].subject == {"device": "corridor-3", "building": "B", "floor": 3}
    assert drafts[0].details == {"rule": "temperature", "metric": "temperature", "value": 71.0, "threshold": 60.0,
                                 "since": T0.isoformat(), "persisted_s": 1500.0}
    assert drafts[1].details["since"] == T0.isoformat()


def test_offline_fires_once_from_silence_or_a_last_will() -> None:
    cfg = SensorRuleConfig(default_interval_s=60)
    state = device_state({"last_seen": T0.isoformat(), "unknown": 1})
    assert check_offline(state, "g1", T0 + timedelta(seconds=179), cfg) == []
    silent = check_offline(state, "g1", T0 + timedelta(seconds=180), cfg)
    assert [sensor_draft(f, "s1").dedup_key for f in silent] == ["device_offline:g1"]
    assert check_offline(state, "g1", T0 + H, cfg) == []
    will = DeviceState()
    assert [f.details["cause"] for f in on_status(will, "g2", T0, online=False)] == ["last will"]
    assert on_status(will, "g2", T0, online=False) == []


def test_littering_draft_names_the_floor_and_keys_by_event() -> None:
    draft = littering_draft(site="s1", camera="cam-3", event_id="ev42", building="3", floor=12, occurred_at=T0,
                            details={"score": 0.9}, evidence={"snapshot": "/evidence/ev42.jpg"})
    assert (draft.type, draft.severity, draft.dedup_key) == ("littering", "major", "littering:cam-3:ev42")
    assert draft.title == "Object thrown from floor 12 (cam-3)"
    assert draft.subject == {"camera": "cam-3", "building": "3", "floor": 12}
    unknown = littering_draft(site="s1", camera="cam-3", event_id="ev43", building=None, floor=None,
                              occurred_at=T0, details={}, evidence={})
    assert unknown.title == "Object thrown from unknown floor (cam-3)"
    placed = littering_draft(site="s1", camera="cam-3", event_id="ev44", building="3", floor=12, occurred_at=T0,
                             details={}, evidence={}, window_column=2, unit="3-1203")
    assert placed.title == "Object thrown from floor 12, column 3 (unit 3-1203) (cam-3)"
    assert placed.subject == {"camera": "cam-3", "building": "3", "floor": 12, "window_column": 3, "unit": "3-1203"}
    no_unit = littering_draft(site="s1", camera="cam-3", event_id="ev45", building="3", floor=12, occurred_at=T0,
                              details={}, evidence={}, window_column=0)
    assert no_unit.title == "Object thrown from floor 12, column 1 (cam-3)"
