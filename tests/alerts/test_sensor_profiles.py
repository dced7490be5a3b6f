"""Sensor profiles: parsing and validation (errors name the bad key), and the rules they drive (persistence,
hysteresis, kinds and locations, aliases, unknown metrics), without a broker or a database."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts.config import AlertsConfig
from alerts.sensor_profiles import DEFAULT_PROFILE, ProfileError, load_profile, parse_profile
from alerts.sensor_rules import DeviceState, SensorRuleConfig, device_state, on_telemetry, unknown_metrics

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def _raw() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(DEFAULT_PROFILE.read_text(encoding="utf-8"))
    return raw


def _bad(change: str, value: object) -> str:
    """Apply ``change`` (a dotted path into the default profile, list indexes as numbers) and parse."""
    raw = _raw()
    *where, last = change.split(".")
    node: Any = raw
    for key in where:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    with pytest.raises(ProfileError) as err:
        parse_profile(raw)
    return str(err.value)


def test_the_default_profile_validates_and_knows_common_estate_sensors() -> None:
    profile = load_profile(DEFAULT_PROFILE)
    assert {r.type for r in profile.rules} >= {"smoke", "temperature", "gas", "water_leak", "door_held_open",
                                                "ebike_charging"}
    assert profile.canonical("temperature_c") == "temperature"
    assert profile.canonical("alarm") == "smoke_alarm"
    assert profile.canonical("smoke_obscuration") == "smoke_obscuration"
    assert profile.canonical("vibration") is None
    assert profile.kind_of("smoke-00001") == "smoke"
    assert profile.kind_of("corridor-3-socket") == "charger"
    assert profile.kind_of("x-1", {"sensor_kind": "gas"}) == "gas"
    assert profile.kind_of("pump-7") == "unknown"
    assert profile.locations_of("charger-corridor-00004") == {"corridor"}
    assert profile.locations_of("socket-9", {"location": "lobby"}) == {"lobby"}


@pytest.mark.parametrize(("change", "value", "message"), [
    ("rules.3.above", "hot", "rules[3].above: expected a number"),
    ("rules.3.severity", "urgent", "rules[3].severity: expected one of"),
    ("rules.3.clear_below", 70, "rules[3].clear_below: must not exceed above"),
    ("rules.3.persist_s", -1, "rules[3].persist_s: must be at least 0"),
    ("rules.3.metric", "temperature_c", "rules[3].metric: 'temperature_c' is not declared under metrics"),
    ("rules.7.kinds", ["scooter"], "rules[7].kinds[0]: 'scooter' is not declared under kinds"),
    ("rules.7.locations", ["roof"], "rules[7].locations[0]: 'roof' is not declared under locations"),
    ("rules.7.at_most", 50, "rules[7].at_most: must exceed above"),
    ("kinds.gas.metrics", ["methane"], "kinds.gas.metrics[0]: 'methane' is not declared"),
    ("metrics.power_w.aliases", ["temp_c"], "metrics.power_w: name 'temp_c' is already used by metrics.temperature"),
    ("version", 2, "profile.version: only version 1"),
    ("offline_factor", 0.5, "offline_factor: must be at least 1"),
])
def test_a_bad_profile_is_refused_naming_the_key(change: str, value: object, message: str) -> None:
    assert message in _bad(change, value)


def test_unknown_and_missing_keys_and_a_bad_file_are_named(tmp_path: Path) -> None:
    raw = _raw()
    raw["rules"][0]["persist"] = 5
    with pytest.raises(ProfileError, match=r"rules\[0\]\.persist: unknown key"):
        parse_profile(raw)
    raw = _raw()
    del raw["rules"][1]["title"]
    with pytest.raises(ProfileError, match=r"rules\[1\]\.title: required"):
        parse_profile(raw)
    raw = _raw()
    raw["rules"].append(copy.deepcopy(raw["rules"][0]))
    with pytest.raises(ProfileError, match=r"rules\[8\]\.name: 'smoke' is used twice"):
        parse_profile(raw)
    broken = tmp_path / "p.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"p\.json: not JSON"):
        load_profile(broken)


def test_a_value_must_persist_before_firing_and_a_short_blip_does_not() -> None:
    cfg, state = SensorRuleConfig(), DeviceState()  # temperature: above 60 for 30 s, clears below 50
    assert on_telemetry(state, "temp-1", T0, {"temperature_c": 75.0}, cfg) == []
    assert on_telemetry(state, "temp-1", T0 + 10 * S, {"temperature_c": 40.0}, cfg) == []  # a blip: reset
    assert on_telemetry(state, "temp-1", T0 + 20 * S, {"temperature_c": 65.0}, cfg) == []
    assert on_telemetry(state, "temp-1", T0 + 45 * S, {"temperature_c": 66.0}, cfg) == []  # 25 s so far
    fired = on_telemetry(state, "temp-1", T0 + 50 * S, {"temperature_c": 67.0}, cfg)
    assert [(f.type, f.details["since"], f.details["persisted_s"]) for f in fired] == [
        ("temperature", (T0 + 20 * S).isoformat(), 30.0)]


def test_hysteresis_one_alert_per_episode_until_the_value_clears() -> None:
    cfg, state = SensorRuleConfig(), DeviceState()  # gas: above 10 % LEL for 5 s, clears below 5
    steps = [(0, 20.0), (5, 22.0), (10, 9.0), (15, 12.0), (20, 6.0), (25, 4.0), (30, 15.0), (35, 15.0)]
    fired = [s for s, v in steps if on_telemetry(state, "gas-2", T0 + s * S, {"gas_lel_pct": v}, cfg)]
    assert fired == [5, 35]  # 9 and 6 are above the clear level: still the first episode; 4 clears it
    again = device_state(json.loads(json.dumps(state)))  # the state survives its JSON round trip
    assert again == state


def test_ebike_rule_needs_a_charger_in_a_forbidden_place_and_a_charging_draw() -> None:
    cfg = SensorRuleConfig()
    persist = cfg.profile.rule("ebike_charging").persist_s

    def charge(device: str, watts: float, meta: dict[str, object] | None = None) -> list[str]:
        state, out = DeviceState(), []
        for i in range(int(persist // 60) + 2):
            out += [f.type for f in on_telemetry(state, device, T0 + i * 60 * S, {"power_w": watts}, cfg, meta=meta)]
        return out

    assert charge("charger-corridor-00004", 220.0) == ["ebike_charging"]
    assert charge("socket-7", 220.0, {"location": "stairwell"}) == ["ebike_charging"]
    assert charge("charger-00011", 220.0) == []  # in a flat: allowed
    assert charge("charger-corridor-00004", 1500.0) == []  # a cleaner's machine, not an e-bike
    assert charge("temp-corridor-1", 220.0) == []  # a thermometer's stray power reading is not a socket


def test_legacy_rules_file_sensor_section_still_works_and_bad_keys_are_named(tmp_path: Path) -> None:
    cfg = SensorRuleConfig.from_dict({"thresholds": [{"metric": "temperature", "above": 45, "type": "heat"}],
                                      "ebike": {"min_w": 100, "max_w": 500, "min_minutes": 2, "devices": "^bay-"},
                                      "offline_factor": 4})
    assert cfg.offline_factor == 4.0
    state = DeviceState()
    assert [f.type for f in on_telemetry(state, "t-1", T0, {"temperature_c": 50.0}, cfg)] == ["heat"]
    bay = DeviceState()
    out = [f.type for i in range(4) for f in on_telemetry(bay, "bay-1", T0 + i * 60 * S, {"power_w": 200.0}, cfg)]
    assert out == ["ebike_charging"]
    with pytest.raises(ProfileError, match=r"sensors\.rules\[0\]\.above: expected a number"):
        SensorRuleConfig.from_dict({"rules": [{"name": "x", "metric": "temperature", "above": "x", "type": "t",
                                               "severity": "major", "title": "T"}]})
    with pytest.raises(ProfileError, match=r"sensors\.treshold: unknown key"):
        SensorRuleConfig.from_dict({"treshold": []})
    own = _raw()
    own["rules"] = [r for r in own["rules"] if r["name"] == "gas"]
    (tmp_path / "estate.json").write_text(json.dumps(own), encoding="utf-8")
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"sensors": {"profile": str(tmp_path / "estate.json")}}), encoding="utf-8")
    assert [r.name for r in AlertsConfig.load(rules).sensors.profile.rules] == ["gas"]


def test_unknown_metrics_are_named_with_the_device_kind() -> None:
    cfg = SensorRuleConfig()
    metrics = {"temperature_c": 21.0, "vibration_mm_s": 0.4, "co2_ppm": 600.0}
    assert unknown_metrics("temp-3", metrics, cfg) == [("temperature", "vibration_mm_s"),
                                                       ("temperature", "co2_ppm")]
    assert unknown_metrics("pump-1", {"rpm": 1.0}, cfg) == [("unknown", "rpm")]
    assert unknown_metrics("temp-3", {"temp_c": 20.0}, cfg) == []
