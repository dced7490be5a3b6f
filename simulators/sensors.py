"""Simulated estate sensors as pure, seeded generators of readings (no broker here: see ``sensor_fleet``).

Each device kind has a small physical model so that dashboards, rules and benches see plausible data:
temperature follows the estate's day with slow AR(1) drift, smoke is near zero with rare alarm episodes,
water meters only count up (in bursts of use), e-bike chargers idle at a few watts and charge at 150-300 W
for hours, mostly in the evening, and door contacts report open/closed changes on the unit's door topic.
The same seed and the same timestamps give the same readings, so a test can predict what a run sends.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

from common import topics

SHANGHAI = ZoneInfo("Asia/Shanghai")


class SensorKind(StrEnum):
    """The kinds of simulated device; each has its own reading model and metrics."""

    TEMPERATURE = "temperature"
    SMOKE = "smoke"
    DOOR = "door"
    WATER = "water"
    CHARGER = "charger"


ALL_KINDS: tuple[SensorKind, ...] = tuple(SensorKind)
_ID_PREFIX = {SensorKind.TEMPERATURE: "temp", SensorKind.SMOKE: "smoke", SensorKind.DOOR: "door",
              SensorKind.WATER: "water", SensorKind.CHARGER: "charger"}


@dataclass(frozen=True)
class DeviceSpec:
    """One simulated device: its id, kind, the flat it is fitted in, and whether it stamps ISO 8601 or epoch ms."""

    device_id: str
    kind: SensorKind
    unit_id: str
    iso_ts: bool


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
    """``count`` devices cycling through ``kinds`` (so every kind is present once count >= len(kinds))."""
    fleet = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        fleet.append(DeviceSpec(f"{_ID_PREFIX[kind]}-{i:05d}", kind, unit_for(i), iso_ts=i % 2 == 1))
    return fleet


def _local_hour(ts: datetime, tz: tzinfo) -> float:
    local = ts.astimezone(tz)
    return local.hour + local.minute / 60 + local.second / 3600


def _ar1(value: float, dt: float, tau: float, sigma: float, rng: random.Random) -> float:
    """Ornstein-Uhlenbeck step: correlated noise whose spread does not depend on the sampling interval."""
    phi = math.exp(-dt / tau)
    return value * phi + sigma * math.sqrt(1 - phi * phi) * rng.gauss(0.0, 1.0)


def _chance(rate_per_h: float, dt: float, rng: random.Random) -> bool:
    """True with the probability that a Poisson process of this rate fires within ``dt`` seconds."""
    return rng.random() < 1 - math.exp(-rate_per_h * dt / 3600)


class _Model:
    """State of one device's physics; ``step`` advances to ``ts`` and returns the metrics (or door state)."""

    def __init__(self, rng: random.Random, tz: tzinfo) -> None:
        self.rng = rng
        self.tz = tz

    def step(self, ts: datetime, dt: float) -> dict[str, float | str]:
        raise NotImplementedError


class _Temperature(_Model):
    def __init__(self, rng: random.Random, tz: tzinfo) -> None:
        super().__init__(rng, tz)
        self.base = rng.uniform(20.0, 27.0)  # flats differ: orientation, floor, air conditioning
        self.drift = 0.0

    def step(self, ts: datetime, dt: float) -> dict[str, float | str]:
        self.drift = _ar1(self.drift, dt, tau=900.0, sigma=0.6, rng=self.rng)
        diurnal = 3.0 * math.sin(2 * math.pi * (_local_hour(ts, self.tz) - 9.0) / 24)  # warmest mid-afternoon
        temp = self.base + diurnal + self.drift + self.rng.gauss(0.0, 0.05)  # last term: sensor quantisation
        humidity = min(95.0, max(20.0, 62.0 - 1.8 * (temp - self.base) + self.rng.gauss(0.0, 0.8)))
        return {"temperature_c": round(temp, 2), "humidity_pct": round(humidity, 1)}


class _Smoke(_Model):
    ALARM_AT = 3.0  # %/m obscuration, the usual photoelectric alarm threshold

    def __init__(self, rng: random.Random, tz: tzinfo, alarm_rate_per_h: float) -> None:
        super().__init__(rng, tz)
        self.alarm_rate_per_h = alarm_rate_per_h
        self.episode_left = 0.0
        self.peak = 0.0
        self.battery = rng.uniform(2.9, 3.1)

    def step(self, ts: datetime, dt: float) -> dict[str, float | str]:
        if self.episode_left <= 0 and _chance(self.alarm_rate_per_h, dt, self.rng):
            self.episode_left = self.rng.uniform(30.0, 180.0)  # cooking smoke or a real fire: a few minutes
            self.peak = self.rng.uniform(3.5, 12.0)
        level = abs(self.rng.gauss(0.0, 0.02))
        if self.episode_left > 0:
            level += self.peak * self.rng.uniform(0.85, 1.0)
            self.episode_left -= dt
        self.battery = max(2.4, self.battery - dt * 1e-8)
        return {"smoke_obscuration": round(level, 3), "alarm": 1.0 if level >= self.ALARM_AT else 0.0,
                "battery_v": round(self.battery, 3)}


class _Water(_Model):
    def __init__(self, rng: random.Random, tz: tzinfo) -> None:
        super().__init__(rng, tz)
        self.total = rng.uniform(1_000.0, 50_000.0)
        self.burst_left = 0.0
        self.flow = 0.0

    def step(self, ts: datetime, dt: float) -> dict[str, float | str]:
        hour = _local_hour(ts, self.tz)
        busy = 6.0 <= hour < 9.0 or 18.0 <= hour < 23.0
        if self.burst_left <= 0 and _chance(6.0 if busy else 1.0, dt, self.rng):
            use = self.rng.random()  # tap, toilet flush or shower
            self.flow, self.burst_left = ((4.0, 30.0) if use < 0.6 else (9.0, 40.0) if use < 0.85 else (8.0, 480.0))
        used_s = min(dt, max(self.burst_left, 0.0))
        flow = self.flow * self.rng.uniform(0.9, 1.1) if self.burst_left > 0 else 0.0
        self.total += flow * used_s / 60.0
        self.burst_left -= dt
        return {"litres_total": round(self.total, 3), "flow_lpm": round(flow, 2)}


class _Charger(_Model):
    def __init__(self, rng: random.Random, tz: tzinfo) -> None:
        super().__init__(rng, tz)
        self.standby = rng.uniform(0.5, 2.0)
        self.session_power = 0.0
        self.session_len = 0.0
        self.session_age = 0.0
        self.energy = rng.uniform(0.0, 500.0)

    def step(self, ts: datetime, dt: float) -> dict[str, float | str]:
        hour = _local_hour(ts, self.tz)
        if self.session_len <= 0:
            evening = hour >= 18.0 or hour < 1.0  # residents plug in after work
            if _chance(0.35 if evening else 0.03, dt, self.rng):
                self.session_power = self.rng.uniform(150.0, 300.0)
                self.session_len = self.rng.uniform(2.0, 6.0) * 3600
                self.session_age = 0.0
        if self.session_len > 0:
            self.session_age += dt
            progress = self.session_age / self.session_len
            # constant current for 80 % of the session, then the constant-voltage tail decays toward zero
            taper = 1.0 if progress < 0.8 else math.exp(-(progress - 0.8) * 15)
            power = self.session_power * taper * self.rng.uniform(0.97, 1.03)
            if progress >= 1.0:
                self.session_len = 0.0
        else:
            power = self.standby * self.rng.uniform(0.8, 1.2)
        self.energy += power * dt / 3_600_000
        return {"power_w": round(power, 1), "energy_kwh": round(self.energy, 4)}


class _Door(_Model):
    def __init__(self, rng: random.Random, tz: tzinfo) -> None:
        super().__init__(rng, tz)
        self.open = False

    def step(self, ts: datetime, dt: float) -> dict[str, float | str]:
        self.open = not self.open  # a contact reports changes only, so each message flips the state
        return {"state": "open" if self.open else "closed"}


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
                 smoke_alarm_rate_per_h: float = 0.05) -> None:
        self.spec = spec
        self.site = site
        self.tz = tz
        rng = random.Random(f"{seed}:{spec.device_id}")
        models: dict[SensorKind, Callable[[], _Model]] = {
            SensorKind.TEMPERATURE: lambda: _Temperature(rng, tz),
            SensorKind.SMOKE: lambda: _Smoke(rng, tz, smoke_alarm_rate_per_h),
            SensorKind.WATER: lambda: _Water(rng, tz),
            SensorKind.CHARGER: lambda: _Charger(rng, tz),
            SensorKind.DOOR: lambda: _Door(rng, tz),
        }
        self.model: _Model = models[spec.kind]()
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
             count: int) -> list[Reading]:
    """``count`` readings of one device every ``interval_s`` from ``start``: the model without any clock."""
    sim = DeviceSim(spec, site, seed)
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
