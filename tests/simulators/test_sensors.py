"""Sensor simulator: the pure device models, and one run through the real broker checked message by message."""

from __future__ import annotations

import itertools
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from common.messages import Accepted, Limits, Rejected, parse
from common.mqtt import Message, Subscriber
from common.settings import MqttTarget
from simulators.sensor_fleet import FleetOptions, SensorFleet, backfill
from simulators.sensor_models import Alarms
from simulators.sensors import (
    SHANGHAI,
    DeviceSim,
    DeviceSpec,
    Malformed,
    SensorKind,
    make_fleet,
    malformed_message,
    readings,
)

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
QUIET = Alarms(rate_per_h=0.0)


def _spec(kind: SensorKind) -> DeviceSpec:
    return next(s for s in make_fleet(10) if s.kind is kind)


def _metrics(reading_payload: bytes) -> dict[str, float]:
    metrics: dict[str, float] = json.loads(reading_payload)["metrics"]
    return metrics


def test_same_seed_gives_same_readings_and_another_seed_does_not() -> None:
    spec = _spec(SensorKind.TEMPERATURE)
    first = [r.payload for r in readings(spec, "s1", 7, START, 60, 50)]
    again = [r.payload for r in readings(spec, "s1", 7, START, 60, 50)]
    other = [r.payload for r in readings(spec, "s1", 8, START, 60, 50)]
    assert first == again
    assert first != other


def test_fleet_has_every_kind_with_distinct_ids_and_both_timestamp_formats() -> None:
    fleet = make_fleet(25)
    assert {s.kind for s in fleet} == set(SensorKind)
    assert len({s.device_id for s in fleet}) == 25
    assert {s.iso_ts for s in fleet} == {True, False}


def test_seq_counts_from_zero_and_time_never_runs_backwards() -> None:
    sim = DeviceSim(_spec(SensorKind.WATER), "s1", 1)
    out = [sim.next(START) for _ in range(5)]  # five readings stamped in the same instant
    assert [r.seq for r in out] == [0, 1, 2, 3, 4]
    assert [r.ts for r in out] == [START + timedelta(milliseconds=i) for i in range(5)]


def test_temperature_is_warmer_in_the_afternoon_than_before_dawn() -> None:
    out = readings(_spec(SensorKind.TEMPERATURE), "s1", 3, START, 300, 2 * 288, alarms=QUIET)
    afternoon = [_metrics(r.payload)["temperature_c"] for r in out if 13 <= r.ts.astimezone(SHANGHAI).hour < 17]
    dawn = [_metrics(r.payload)["temperature_c"] for r in out if 3 <= r.ts.astimezone(SHANGHAI).hour < 7]
    assert sum(afternoon) / len(afternoon) - sum(dawn) / len(dawn) > 3.0
    assert all(10 < t < 40 for t in afternoon + dawn)


def test_smoke_is_clear_almost_always_and_alarms_only_above_the_threshold() -> None:
    sim = DeviceSim(_spec(SensorKind.SMOKE), "s1", 5, alarms=Alarms(rate_per_h=0.2))
    values = [_metrics(sim.next(START + timedelta(seconds=10 * i)).payload) for i in range(3 * 8640)]
    alarms = [m for m in values if m["alarm"] == 1.0]
    assert 0 < len(alarms) < 0.02 * len(values)
    assert all((m["alarm"] == 1.0) == (m["smoke_obscuration"] >= 3.0) for m in values)
    clear = [m["smoke_obscuration"] for m in values if m["alarm"] == 0.0]
    assert max(clear) < 0.2


def test_water_meter_only_counts_up_and_flows_in_bursts() -> None:
    out = [_metrics(r.payload) for r in readings(_spec(SensorKind.WATER), "s1", 2, START, 30, 2 * 2880)]
    totals = [m["litres_total"] for m in out]
    assert all(b >= a for a, b in itertools.pairwise(totals))
    assert totals[-1] > totals[0]
    flowing = sum(1 for m in out if m["flow_lpm"] > 0)
    assert 0.005 * len(out) < flowing < 0.5 * len(out)


def test_charger_idles_at_a_few_watts_and_charges_an_ebike_for_hours() -> None:
    flat = next(s for s in make_fleet(30) if s.kind is SensorKind.CHARGER and s.location is None)
    out = [_metrics(r.payload) for r in readings(flat, "s1", 4, START, 60, 3 * 1440)]
    power = [m["power_w"] for m in out]
    assert max(power) <= 300 * 1.03 + 0.1
    assert min(power) < 3.0
    longest = run = 0
    for p in power:
        run = run + 1 if p >= 140 else 0
        longest = max(longest, run)
    assert longest >= 90  # at least 1.5 h of bulk charging in one go
    energy = [m["energy_kwh"] for m in out]
    assert all(b >= a for a, b in itertools.pairwise(energy))


def test_door_contact_reports_changes_on_the_unit_topic() -> None:
    spec = _spec(SensorKind.DOOR)
    out = readings(spec, "s1", 1, START, 45, 4)
    assert {r.topic for r in out} == {f"estate/s1/unit/{spec.unit_id}/door"}
    assert [json.loads(r.payload)["state"] for r in out] == ["open", "closed", "open", "closed"]
    assert all(r.seq is None for r in out)


def test_valid_readings_pass_the_ingest_validator_and_malformed_ones_do_not() -> None:
    now = datetime.now(UTC)
    limits = Limits(site="s1")
    for spec in make_fleet(10):
        for reading in readings(spec, "s1", 9, now - timedelta(hours=2), 97, 60):
            assert isinstance(parse(reading.topic, reading.payload, now, limits), Accepted), reading.payload
    reasons = {}
    for bad in Malformed:
        topic, payload = malformed_message(bad, make_fleet(1)[0], "s1", now)
        result = parse(topic, payload, now, limits)
        assert isinstance(result, Rejected), bad
        reasons[bad] = result.reason
    assert reasons[Malformed.OVERSIZED] == "oversized"
    assert reasons[Malformed.FAR_FUTURE] == "future_timestamp"
    assert reasons[Malformed.UNKNOWN_TOPIC] == "unknown_topic"


def test_backfill_is_deterministic_and_spreads_over_the_fleet() -> None:
    options = FleetOptions(devices=7, rate=50.0, seed=3)
    first = backfill("s1", options, START, START + timedelta(seconds=10))
    assert len(first) == 500
    assert first == backfill("s1", options, START, START + timedelta(seconds=10))
    assert len({topic for topic, _ in first}) == 7


def test_fleet_run_through_the_broker_arrives_exactly_as_reported(mqtt_url: str, site: str) -> None:
    target = MqttTarget.parse(mqtt_url)
    received: list[Message] = []
    lock = threading.Lock()

    def keep(message: Message) -> None:
        with lock:
            received.append(message)

    listener = Subscriber(target, [f"estate/{site}/#"], keep, persistent=False, manual_ack=False)
    listener.start()
    assert listener.wait_connected()
    time.sleep(0.2)  # the SUBACK follows the CONNACK
    options = FleetOptions(devices=6, rate=300.0, seed=11, malformed_share=0.15, dropouts=1)
    report = SensorFleet(target, site, options).run(count=120)
    expected = report.sent + len(report.status)
    deadline = time.monotonic() + 10
    while len(received) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    listener.stop()

    assert report.sent == 120
    assert report.valid + report.malformed == 120
    assert report.malformed > 0
    assert len(received) == expected
    limits = Limits(site=site)
    now = datetime.now(UTC)
    seen: list[tuple[str, int]] = []
    statuses: dict[str, list[str]] = {}
    rejected = 0
    for message in received:
        result = parse(message.topic, message.payload, now, limits)
        if isinstance(result, Rejected):
            rejected += 1
        elif result.status is not None:
            statuses.setdefault(result.route.entity, []).append(result.status)
        elif result.route.kind == "telemetry":
            body = json.loads(message.payload)
            seen.append((result.route.entity, body["seq"]))
    assert rejected == report.malformed
    assert sorted(seen) == sorted(report.telemetry)
    dropped = [d for d, states in statuses.items() if len(states) == 4]
    assert len(dropped) == 1
    assert statuses[dropped[0]] == ["online", "offline", "online", "offline"]  # the will fired mid-run
    assert all(states == ["online", "offline"] for d, states in statuses.items() if d != dropped[0])
    assert len(statuses) == 6


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_fleet_refuses_a_share_outside_zero_to_one(share: float) -> None:
    with pytest.raises(ValueError, match="malformed_share"):
        SensorFleet(MqttTarget(host="127.0.0.1", port=1), "s1", FleetOptions(malformed_share=share))
