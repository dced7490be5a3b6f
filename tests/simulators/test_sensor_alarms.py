"""The simulated fleet against the pure sensor rules of the shared default profile: every rule fires within a
demo's first ten minutes, no metric is unknown, and the alarms stay a handful, not a flood."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

from alerts.sensor_profiles import default_profile
from alerts.sensor_rules import DeviceState, SensorRuleConfig, on_telemetry, unknown_metrics
from simulators.sensor_fleet import FleetOptions, alarm_plan
from simulators.sensor_models import Alarms
from simulators.sensors import DeviceSim, SensorKind, make_fleet, readings

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
DEMO = FleetOptions(devices=40, rate=8.0, alarm_rate_per_h=0.05, first_alarms_within_s=480.0)  # as the demo runs it


def _run(options: FleetOptions, seconds: float) -> tuple[Counter[str], list[tuple[str, str]], list[float]]:
    """Every device at the fleet's cadence through the rules: firings by rule, unknown metrics, firing times."""
    cfg = SensorRuleConfig()
    specs = make_fleet(options.devices, options.kinds)
    plan = alarm_plan(specs, options)
    every = options.devices / options.rate
    fired: Counter[str] = Counter()
    unknown: list[tuple[str, str]] = []
    when: list[float] = []
    for spec in specs:
        if spec.kind is SensorKind.DOOR:
            continue  # flat doors go to the resident rules on the unit topic
        sim, state = DeviceSim(spec, "s1", options.seed, alarms=plan[spec.device_id]), DeviceState()
        for i in range(int(seconds / every)):
            reading = sim.next(START + timedelta(seconds=i * every))
            metrics = json.loads(reading.payload)["metrics"]
            unknown += unknown_metrics(spec.device_id, metrics, cfg)
            for f in on_telemetry(state, spec.device_id, reading.ts, metrics, cfg):
                fired[str(f.details["rule"])] += 1
                when.append((f.at - START).total_seconds())
    return fired, unknown, when


def test_every_default_rule_fires_within_ten_minutes_of_the_demo_and_no_metric_is_unknown() -> None:
    fired, unknown, when = _run(DEMO, 600.0)
    assert set(fired) == {r.name for r in default_profile().rules}
    assert unknown == []
    assert max(when) < 600.0
    assert sum(fired.values()) <= 2 * len(default_profile().rules)  # one episode per rule, give or take


def test_after_the_first_episodes_alarms_are_rare() -> None:
    fired, _, when = _run(DEMO, 1800.0)
    later = [t for t in when if t >= 600.0]
    assert len(later) <= 5, f"{len(later)} sensor alarms in the 20 min after the first ten minutes: a flood"
    assert sum(fired.values()) == len(when)


def test_without_a_schedule_or_a_rate_nothing_fires() -> None:
    fired, unknown, _ = _run(FleetOptions(devices=21, rate=7.0, alarm_rate_per_h=0.0), 600.0)
    assert fired == Counter()
    assert unknown == []


def test_a_corridor_socket_draws_an_ebike_charge_only_in_an_episode() -> None:
    socket = next(s for s in make_fleet(30) if s.kind is SensorKind.CHARGER and s.location == "corridor")
    assert "corridor" in socket.device_id  # the profile places it by its id
    quiet = [json.loads(r.payload)["metrics"]["power_w"]
             for r in readings(socket, "s1", 2, START, 5, 720, alarms=Alarms(0.0))]
    assert max(quiet) < 3.0
    busy = [json.loads(r.payload)["metrics"]["power_w"]
            for r in readings(socket, "s1", 2, START, 5, 720, alarms=Alarms(0.0, first_after_s=60.0))]
    charging = [p for p in busy if p > 80.0]
    assert min(charging) >= 150 * 0.97
    assert max(charging) <= 300 * 1.03 + 0.1
    assert len(charging) * 5 >= default_profile().rule("ebike_charging").persist_s
