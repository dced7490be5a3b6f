"""The physics of each simulated device kind, stepped by ``simulators.sensors.DeviceSim``.

Alarm episodes (``_Episodes``) are sized from the sensor profile's rules: a peak above the threshold, a length
past the persistence time, so each episode is one the rules must see.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from alerts.sensor_profiles import RuleSpec


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


class _Episodes:
    """When a device is in an alarm episode: Poisson starts at ``rate_per_h``, plus optionally one scheduled
    ``first_after_s`` seconds after the device's first reading (so a short demo sees every kind of alarm).
    """

    def __init__(self, rng: random.Random, rate_per_h: float, first_after_s: float | None,
                 length_s: Callable[[], float]) -> None:
        self.rng = rng
        self.rate_per_h = rate_per_h
        self.first_after_s = first_after_s
        self.first_at: datetime | None = None
        self.length_s = length_s
        self.left = 0.0
        self.started = False  # True on the step an episode begins

    def active(self, ts: datetime, dt: float) -> bool:
        """Advance by ``dt`` to ``ts``; True while an episode lasts."""
        if self.first_after_s is not None and self.first_at is None:
            self.first_at = ts + timedelta(seconds=self.first_after_s)
        self.started = False
        if self.left <= 0:
            scheduled = self.first_at is not None and ts >= self.first_at
            if scheduled or _chance(self.rate_per_h, dt, self.rng):
                self.first_after_s = None if scheduled else self.first_after_s
                self.first_at = None if scheduled else self.first_at
                self.left, self.started = self.length_s(), True
        if self.left > 0:
            self.left -= dt
            return True
        return False


@dataclass(frozen=True)
class Alarms:
    """How often devices alarm: episodes per device-hour, and an optional first episode after this many seconds."""

    rate_per_h: float = 0.05
    first_after_s: float | None = None


def episode_length(rule: RuleSpec, rng: random.Random, extra_s: tuple[float, float]) -> float:
    """An episode long enough for the rule to fire: its persistence time plus a margin drawn from ``extra_s``."""
    return rule.persist_s + rng.uniform(*extra_s)


class Model:
    """State of one device's physics; ``step`` advances to ``ts`` and returns the metrics (or door state)."""

    def __init__(self, rng: random.Random, tz: tzinfo) -> None:
        self.rng = rng
        self.tz = tz

    def step(self, ts: datetime, dt: float) -> dict[str, float | str]:
        """Advance by ``dt`` seconds to ``ts``; the metrics (or door state) to send."""
        raise NotImplementedError


class Temperature(Model):
    """A flat's thermometer: the day's cycle, slow drift, and in an episode heat above the rule's threshold."""

    def __init__(self, rng: random.Random, tz: tzinfo, rule: RuleSpec, alarms: Alarms) -> None:
        super().__init__(rng, tz)
        self.base = rng.uniform(20.0, 27.0)  # flats differ: orientation, floor, air conditioning
        self.drift = 0.0
        self.rule = rule
        self.heat = 0.0
        self.episodes = _Episodes(rng, alarms.rate_per_h, alarms.first_after_s,
                                  lambda: episode_length(rule, rng, (60.0, 240.0)))

    def step(self, ts: datetime, dt: float) -> dict[str, float | str]:
        """Advance by ``dt`` seconds to ``ts``; the metrics (or door state) to send."""
        self.drift = _ar1(self.drift, dt, tau=900.0, sigma=0.6, rng=self.rng)
        diurnal = 3.0 * math.sin(2 * math.pi * (_local_hour(ts, self.tz) - 9.0) / 24)  # warmest mid-afternoon
        if self.episodes.active(ts, dt):  # a fire next door or an overheating appliance
            if self.episodes.started:
                self.heat = self.rule.above + self.rng.uniform(5.0, 20.0) - self.base
        else:
            self.heat = 0.0
        temp = self.base + diurnal + self.drift + self.heat + self.rng.gauss(0.0, 0.05)  # last: quantisation
        humidity = min(95.0, max(5.0, 62.0 - 1.8 * (temp - self.base) + self.rng.gauss(0.0, 0.8)))
        return {"temperature_c": round(temp, 2), "humidity_pct": round(humidity, 1)}


class Smoke(Model):
    """A smoke detector: photoelectric (obscuration and its own alarm flag) or a particle sensor (ppm)."""

    PPM_PER_OBSCURATION = 100.0  # a particle sensor's reading for 1 %/m of photoelectric obscuration

    def __init__(self, rng: random.Random, tz: tzinfo, rule: RuleSpec, alarms: Alarms, ppm: bool) -> None:
        super().__init__(rng, tz)
        self.alarm_at = rule.above  # %/m obscuration, the usual photoelectric alarm threshold
        self.ppm = ppm
        self.peak = 0.0
        self.battery = rng.uniform(2.9, 3.1)
        # cooking smoke or a real fire: a few minutes
        self.episodes = _Episodes(rng, alarms.rate_per_h, alarms.first_after_s,
                                  lambda: max(rng.uniform(30.0, 180.0), episode_length(rule, rng, (20.0, 60.0))))

    def step(self, ts: datetime, dt: float) -> dict[str, float | str]:
        """Advance by ``dt`` seconds to ``ts``; the metrics (or door state) to send."""
        level = abs(self.rng.gauss(0.0, 0.02))
        if self.episodes.active(ts, dt):
            if self.episodes.started:
                self.peak = self.rng.uniform(1.2, 4.0) * self.alarm_at
            level += self.peak * self.rng.uniform(0.85, 1.0)
        self.battery = max(2.4, self.battery - dt * 1e-8)
        if self.ppm:
            return {"smoke_ppm": round(level * self.PPM_PER_OBSCURATION, 1), "battery_v": round(self.battery, 3)}
        return {"smoke_obscuration": round(level, 3), "alarm": 1.0 if level >= self.alarm_at else 0.0,
                "battery_v": round(self.battery, 3)}


class Water(Model):
    """A flat's water meter: it only counts up, in bursts of use."""

    def __init__(self, rng: random.Random, tz: tzinfo) -> None:
        super().__init__(rng, tz)
        self.total = rng.uniform(1_000.0, 50_000.0)
        self.burst_left = 0.0
        self.flow = 0.0

    def step(self, ts: datetime, dt: float) -> dict[str, float | str]:
        """Advance by ``dt`` seconds to ``ts``; the metrics (or door state) to send."""
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


class LeakProbe(Model):
    """A flood probe under a sink or in a pipe shaft: dry, but wet for an episode (a burst hose, an overflow)."""

    def __init__(self, rng: random.Random, tz: tzinfo, rule: RuleSpec, alarms: Alarms) -> None:
        super().__init__(rng, tz)
        self.battery = rng.uniform(2.9, 3.1)
        self.wet = _Episodes(rng, alarms.rate_per_h, alarms.first_after_s,
                             lambda: episode_length(rule, rng, (60.0, 300.0)))

    def step(self, ts: datetime, dt: float) -> dict[str, float | str]:
        """Advance by ``dt`` seconds to ``ts``; the metrics (or door state) to send."""
        self.battery = max(2.4, self.battery - dt * 1e-8)
        return {"water_leak": 1.0 if self.wet.active(ts, dt) else 0.0, "battery_v": round(self.battery, 3)}


class Charger(Model):
    """A socket meter: in a flat, evening e-bike sessions (allowed); in a corridor, idle but for an episode."""

    def __init__(self, rng: random.Random, tz: tzinfo, rule: RuleSpec, alarms: Alarms, corridor: bool) -> None:
        super().__init__(rng, tz)
        self.standby = rng.uniform(0.5, 2.0)
        self.session_power = 0.0
        self.session_len = 0.0
        self.session_age = 0.0
        self.energy = rng.uniform(0.0, 500.0)
        self.corridor = corridor
        self.plugged = _Episodes(rng, alarms.rate_per_h, alarms.first_after_s,
                                 lambda: episode_length(rule, rng, (120.0, 900.0)))

    def _start(self, length_s: float) -> None:
        self.session_power = self.rng.uniform(150.0, 300.0)
        self.session_len = length_s
        self.session_age = 0.0

    def step(self, ts: datetime, dt: float) -> dict[str, float | str]:
        """Advance by ``dt`` seconds to ``ts``; the metrics (or door state) to send."""
        if self.corridor:
            if self.plugged.active(ts, dt) and self.plugged.started:
                self._start(self.plugged.left + dt)
        elif self.session_len <= 0:
            hour = _local_hour(ts, self.tz)
            evening = hour >= 18.0 or hour < 1.0  # residents plug in after work
            if _chance(0.35 if evening else 0.03, dt, self.rng):
                self._start(self.rng.uniform(2.0, 6.0) * 3600)
        if self.session_len > 0:
            self.session_age += dt
            progress = self.session_age / self.session_len
            # constant current for 80 % of the session, then the constant-voltage tail decays toward zero
            taper = 1.0 if progress < 0.8 or self.corridor else math.exp(-(progress - 0.8) * 15)
            power = self.session_power * taper * self.rng.uniform(0.97, 1.03)
            if progress >= 1.0:
                self.session_len = 0.0
        else:
            power = self.standby * self.rng.uniform(0.8, 1.2)
        self.energy += power * dt / 3_600_000
        return {"power_w": round(power, 1), "energy_kwh": round(self.energy, 4)}


class Gas(Model):
    """A kitchen gas detector in % of the lower explosive limit."""

    def __init__(self, rng: random.Random, tz: tzinfo, rule: RuleSpec, alarms: Alarms) -> None:
        super().__init__(rng, tz)
        self.rule = rule
        self.peak = 0.0
        self.battery = rng.uniform(2.9, 3.1)
        # a hob left on unlit or a leaking pipe: the level climbs to well above the alarm point
        self.leaks = _Episodes(rng, alarms.rate_per_h, alarms.first_after_s,
                               lambda: episode_length(rule, rng, (30.0, 240.0)))

    def step(self, ts: datetime, dt: float) -> dict[str, float | str]:
        """Advance by ``dt`` seconds to ``ts``; the metrics (or door state) to send."""
        level = abs(self.rng.gauss(0.0, 0.3))
        if self.leaks.active(ts, dt):
            if self.leaks.started:
                self.peak = self.rng.uniform(1.5, 4.0) * self.rule.above
            level += self.peak * self.rng.uniform(0.9, 1.0)
        self.battery = max(2.4, self.battery - dt * 1e-8)
        return {"gas_lel_pct": round(level, 2), "battery_v": round(self.battery, 3)}


class FireDoor(Model):
    """A stairwell fire door's contact, supervised (it reports on every turn): closed but for passers-by."""

    def __init__(self, rng: random.Random, tz: tzinfo, rule: RuleSpec, alarms: Alarms) -> None:
        super().__init__(rng, tz)
        self.propped = _Episodes(rng, alarms.rate_per_h, alarms.first_after_s,
                                 lambda: episode_length(rule, rng, (60.0, 600.0)))

    def step(self, ts: datetime, dt: float) -> dict[str, float | str]:
        """Advance by ``dt`` seconds to ``ts``; the metrics (or door state) to send."""
        passing = self.rng.random() < 0.05  # someone walking through as the contact reports
        return {"door_open": 1.0 if self.propped.active(ts, dt) or passing else 0.0}


class Door(Model):
    """A flat's door contact, reporting changes on the unit's door topic (the resident rules read it)."""

    def __init__(self, rng: random.Random, tz: tzinfo) -> None:
        super().__init__(rng, tz)
        self.open = False

    def step(self, ts: datetime, dt: float) -> dict[str, float | str]:
        """Advance by ``dt`` seconds to ``ts``; the metrics (or door state) to send."""
        self.open = not self.open  # a contact reports changes only, so each message flips the state
        return {"state": "open" if self.open else "closed"}
