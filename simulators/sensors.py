"""Simulated estate sensors as pure, seeded generators of readings (no broker here: see ``sensor_fleet``).

Each device kind has a small physical model so that dashboards, rules and benches see plausible data:
temperature follows the estate's day with slow AR(1) drift, smoke is near zero with rare alarm episodes,
water meters only count up (in bursts of use), leak probes are dry but for an episode, gas detectors read near 0 % LEL,
e-bike chargers in flats idle at a few watts and charge at 150-300 W for hours, mostly in the evening, while
sockets in corridors see an e-bike plugged in only in an episode, stairwell fire doors are closed but for a
passing resident or an episode of being propped open, and flat door contacts report open/closed changes on the
unit's door topic. Alarm thresholds, clear levels and persistence times come from the sensor profile the rules
use (``alerts/profiles/default.json``), so every episode is one the rules must see. The same seed and the same
timestamps give the same readings, so a test can predict what a run sends.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

from alerts.sensor_profiles import RuleSpec, SensorProfile, default_profile
from common import topics
from simulators.sensor_models import (
    Alarms,
    Charger,
    Door,
    FireDoor,
    Gas,
    LeakProbe,
    Model,
    Smoke,
    Temperature,
    Water,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


class SensorKind(StrEnum):
    """The kinds of simulated device; each has its own reading model and metrics."""

    TEMPERATURE = "temperature"
    SMOKE = "smoke"
    DOOR = "door"
    WATER = "water"
    CHARGER = "charger"
    GAS = "gas"
    FIRE_DOOR = "fire_door"


ALL_KINDS: tuple[SensorKind, ...] = tuple(SensorKind)
_ID_PREFIX = {SensorKind.TEMPERATURE: "temp", SensorKind.SMOKE: "smoke", SensorKind.DOOR: "door",
              SensorKind.WATER: "water", SensorKind.CHARGER: "charger", SensorKind.GAS: "gas",
              SensorKind.FIRE_DOOR: "firedoor"}
# the profile rule each kind's alarm episodes must trip (flat door contacts feed the resident rules instead)
EPISODE_RULE = {SensorKind.TEMPERATURE: "temperature", SensorKind.SMOKE: "smoke", SensorKind.WATER: "water_leak",
                SensorKind.CHARGER: "ebike_charging", SensorKind.GAS: "gas", SensorKind.FIRE_DOOR: "door_held_open"}
CORRIDOR = "corridor"


@dataclass(frozen=True)
class DeviceSpec:
    """One simulated device: its id, kind, the flat it is fitted in, and whether it stamps ISO 8601 or epoch ms.

    ``location`` is a common area (``corridor``) for a socket outside the flats; ``variant`` picks between two
    devices of a kind (smoke: 0 photoelectric obscuration with an alarm flag, 1 particle ppm; water: 0 a meter,
    1 a leak probe).
    """

    device_id: str
    kind: SensorKind
    unit_id: str
    iso_ts: bool
    location: str | None = None
    variant: int = 0


@dataclass(frozen=True)
class Reading:
    """One valid message: topic and payload are final; ``seq`` is None for door changes (the protocol has none)."""

    device_id: str
    kind: SensorKind
    ts: datetime
    seq: int | None
    topic: str
    payload: bytes
    metrics: tuple[str, ...]


def unit_for(index: int) -> str:
    """A plausible flat id: tower 1-12, floor 1-33, flat 01-04 (``t7-2103``), spread so neighbours differ."""
    tower = index % 12 + 1
    floor = (index // 12) % 33 + 1
    flat = (index // 396) % 4 + 1
    return f"t{tower}-{floor:02d}{flat:02d}"


def make_fleet(count: int, kinds: tuple[SensorKind, ...] = ALL_KINDS) -> list[DeviceSpec]:
    """``count`` devices cycling through ``kinds`` (so every kind is present once count >= len(kinds)).

    Every second charger is a corridor socket (its id says so, which is how the profile places it), every second
    smoke detector measures particles in ppm, every second water device is a leak probe instead of a meter.
    """
    fleet = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        nth = i // len(kinds)  # how many of this kind came before
        corridor = kind is SensorKind.CHARGER and nth % 2 == 0
        device_id = f"{_ID_PREFIX[kind]}-{CORRIDOR + '-' if corridor else ''}{i:05d}"
        fleet.append(DeviceSpec(device_id, kind, unit_for(i), iso_ts=i % 2 == 1,
                                location=CORRIDOR if corridor else None,
                                variant=nth % 2 if kind in (SensorKind.SMOKE, SensorKind.WATER) else 0))
    return fleet


def format_ts(ts: datetime, iso: bool, tz: tzinfo = SHANGHAI) -> int | str:
    """Epoch milliseconds, or ISO 8601 with the estate's offset (both are in the protocol)."""
    if iso:
        return ts.astimezone(tz).isoformat(timespec="milliseconds")
    return round(ts.timestamp() * 1000)


def dumps(payload: object) -> bytes:
    """Compact JSON bytes, as small devices send them."""
    return json.dumps(payload, separators=(",", ":")).encode()


class DeviceSim:
    """One device: deterministic for a (seed, device id) pair and a sequence of timestamps."""

    def __init__(self, spec: DeviceSpec, site: str, seed: int, *, tz: tzinfo = SHANGHAI,
                 alarms: Alarms | None = None, profile: SensorProfile | None = None) -> None:
        self.spec = spec
        self.site = site
        self.tz = tz
        rng = random.Random(f"{seed}:{spec.device_id}")
        alarms = alarms or Alarms()
        rules = profile or default_profile()

        def rule(kind: SensorKind) -> RuleSpec:
            return rules.rule(EPISODE_RULE[kind])

        models: dict[SensorKind, Callable[[], Model]] = {
            SensorKind.TEMPERATURE: lambda: Temperature(rng, tz, rule(SensorKind.TEMPERATURE), alarms),
            SensorKind.SMOKE: lambda: Smoke(rng, tz, rule(SensorKind.SMOKE), alarms, ppm=spec.variant == 1),
            SensorKind.WATER: lambda: LeakProbe(rng, tz, rule(SensorKind.WATER), alarms) if spec.variant == 1
            else Water(rng, tz),
            SensorKind.CHARGER: lambda: Charger(rng, tz, rule(SensorKind.CHARGER), alarms,
                                                 corridor=spec.location == CORRIDOR),
            SensorKind.GAS: lambda: Gas(rng, tz, rule(SensorKind.GAS), alarms),
            SensorKind.FIRE_DOOR: lambda: FireDoor(rng, tz, rule(SensorKind.FIRE_DOOR), alarms),
            SensorKind.DOOR: lambda: Door(rng, tz),
        }
        self.model: Model = models[spec.kind]()
        self.seq = 0
        self.last_ts: datetime | None = None

    @property
    def status_topic(self) -> str:
        """Where this device's retained online/offline status goes."""
        return topics.status(self.site, self.spec.device_id)

    def next(self, ts: datetime) -> Reading:
        """The reading at ``ts`` (pushed 1 ms past the previous one: time never runs backwards on a device)."""
        ts = ts.astimezone(UTC).replace(microsecond=ts.microsecond // 1000 * 1000)
        if self.last_ts is not None and ts <= self.last_ts:
            ts = self.last_ts + timedelta(milliseconds=1)
        dt = 60.0 if self.last_ts is None else (ts - self.last_ts).total_seconds()
        self.last_ts = ts
        values = self.model.step(ts, dt)
        stamp = format_ts(ts, self.spec.iso_ts, self.tz)
        if self.spec.kind is SensorKind.DOOR:
            body = dumps({"ts": stamp, "state": values["state"]})
            return Reading(self.spec.device_id, self.spec.kind, ts, None,
                           topics.unit(self.site, self.spec.unit_id, "door"), body, ())
        seq = self.seq
        self.seq += 1
        body = dumps({"ts": stamp, "seq": seq, "metrics": values})
        return Reading(self.spec.device_id, self.spec.kind, ts, seq, topics.telemetry(self.site, self.spec.device_id),
                       body, tuple(values))


def readings(spec: DeviceSpec, site: str, seed: int, start: datetime, interval_s: float,
             count: int, alarms: Alarms | None = None) -> list[Reading]:
    """``count`` readings of one device every ``interval_s`` from ``start``: the model without any clock."""
    sim = DeviceSim(spec, site, seed, alarms=alarms)
    return [sim.next(start + timedelta(seconds=i * interval_s)) for i in range(count)]


class Malformed(StrEnum):
    """Kinds of bad input a test fleet can mix in; each must end as a dead letter, never as a row."""

    NOT_JSON = "not_json"  # binary bytes on a JSON topic
    BAD_JSON = "bad_json"  # JSON cut short
    WRONG_TYPE = "wrong_type"  # a metric that is a string
    NAN = "nan"  # the non-standard NaN literal
    INFINITE = "infinite"  # a number too large for a double
    FAR_FUTURE = "far_future"  # a clock a year ahead
    OVERSIZED = "oversized"  # past the JSON size limit
    UNKNOWN_TOPIC = "unknown_topic"  # a leaf the protocol does not have


def malformed_message(reason: Malformed, spec: DeviceSpec, site: str, ts: datetime,
                      oversize_bytes: int = 128 * 1024) -> tuple[str, bytes]:
    """Topic and payload of one bad message from ``spec``; none carries a ``seq`` so ground truth stays exact."""
    topic = topics.telemetry(site, spec.device_id)
    stamp = format_ts(ts, iso=False)
    if reason is Malformed.NOT_JSON:
        return topic, b"\xff\xd8\xff\x00\x13binary\x00"
    if reason is Malformed.BAD_JSON:
        return topic, dumps({"ts": stamp, "metrics": {"temperature_c": 21.5}})[:-3]
    if reason is Malformed.WRONG_TYPE:
        return topic, dumps({"ts": stamp, "metrics": {"temperature_c": "warm"}})
    if reason is Malformed.NAN:
        return topic, f'{{"ts":{stamp},"metrics":{{"temperature_c":NaN}}}}'.encode()
    if reason is Malformed.INFINITE:
        return topic, f'{{"ts":{stamp},"metrics":{{"temperature_c":1e999}}}}'.encode()
    if reason is Malformed.FAR_FUTURE:
        return topic, dumps({"ts": format_ts(ts + timedelta(days=365), iso=False), "metrics": {"temperature_c": 21.5}})
    if reason is Malformed.OVERSIZED:
        return topic, dumps({"ts": stamp, "metrics": {"temperature_c": 21.5}, "pad": "x" * oversize_bytes})
    return topics.sensor_leaf(site, spec.device_id, "diagnostics"), dumps({"ts": stamp, "uptime_s": 12})
