"""A fleet of simulated sensors publishing over MQTT at a given total rate, with wills and optional bad input.

Device physics live in ``simulators.sensors``; this module only schedules, connects and publishes, and keeps
the ground truth (every valid ``(device, seq)``) that tests and benches compare with what was stored.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from alerts.sensor_profiles import SensorProfile, default_profile
from common.clock import Clock, WallClock
from common.mqtt import BoundedPublisher
from common.settings import MqttTarget
from simulators.sensor_models import Alarms
from simulators.sensors import (
    ALL_KINDS,
    CORRIDOR,
    EPISODE_RULE,
    DeviceSim,
    DeviceSpec,
    Malformed,
    SensorKind,
    make_fleet,
    malformed_message,
)

log = logging.getLogger(__name__)

# MQTT 5 "disconnect with will message": the broker publishes the will, exactly as when a device loses power.
_DROP = ReasonCode(PacketTypes.DISCONNECT, identifier=4)


@dataclass
class SendReport:
    """What a run sent. ``telemetry`` lists every valid (device, seq) in order: the ground truth to compare with."""

    sent: int = 0
    valid: int = 0
    malformed: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    malformed_by_reason: Counter[str] = field(default_factory=Counter)
    telemetry: list[tuple[str, int]] = field(default_factory=list)
    metric_rows: int = 0
    doors: list[tuple[str, str]] = field(default_factory=list)  # (unit, payload) of each door change
    status: list[tuple[str, str]] = field(default_factory=list)  # (device, "online"/"offline"), wills included
    elapsed_s: float = 0.0

    @property
    def rate(self) -> float:
        """Messages sent per second of the run."""
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def summary(self) -> dict[str, object]:
        """The counts ``simulate sensors`` prints: what a test or an operator compares with what was stored."""
        return {"sent": self.sent, "valid": self.valid, "malformed": self.malformed, "by_kind": dict(self.by_kind),
                "malformed_by_reason": dict(self.malformed_by_reason), "metric_rows": self.metric_rows,
                "status_changes": len(self.status), "elapsed_s": round(self.elapsed_s, 3),
                "rate_per_s": round(self.rate, 1)}


@dataclass(frozen=True)
class FleetOptions:
    """How a fleet behaves. ``rate`` is messages per second for the whole fleet, spread evenly over devices."""

    devices: int = 20
    rate: float = 20.0
    seed: int = 1
    malformed_share: float = 0.0
    kinds: tuple[SensorKind, ...] = ALL_KINDS
    per_device_sessions: bool | None = None  # None: one connection (and will) per device up to 100 devices
    dropouts: int = 0  # devices that lose power once mid-run (will fires) and come back
    dropout_ticks: int = 3  # how many of its own turns a dropped device misses
    max_inflight: int = 1000
    alarm_rate_per_h: float = 0.05  # alarm episodes per device and hour (smoke, heat, leak, gas, ...)
    first_alarms_within_s: float | None = None  # one device of each alarm kind has its first episode by then


def alarm_plan(specs: list[DeviceSpec], options: FleetOptions,
               profile: SensorProfile | None = None) -> dict[str, Alarms]:
    """Each device's alarm behaviour. With ``first_alarms_within_s``, the first device of each alarm kind (and of
    each smoke variant; the first corridor socket; water: the first leak probe, meters have no alarm) starts an
    episode early enough that the rule it must trip fires within that time: a start drawn (seeded) between 20 s
    and the limit less the rule's persistence.
    """
    plain = Alarms(options.alarm_rate_per_h)
    plan = {s.device_id: plain for s in specs}
    if options.first_alarms_within_s is None:
        return plan
    rules = profile or default_profile()
    rng = random.Random(f"{options.seed}:alarms")
    chosen: dict[tuple[SensorKind, int], DeviceSpec] = {}
    for spec in specs:
        meter = spec.kind is SensorKind.WATER and spec.variant == 0  # a meter has no leak flag: its probe does
        if spec.kind in EPISODE_RULE and not meter and (spec.kind is not SensorKind.CHARGER
                                                        or spec.location == CORRIDOR):
            chosen.setdefault((spec.kind, spec.variant), spec)
    for (kind, _), spec in sorted(chosen.items(), key=lambda item: item[1].device_id):
        latest = options.first_alarms_within_s - rules.rule(EPISODE_RULE[kind]).persist_s - 30.0
        plan[spec.device_id] = Alarms(options.alarm_rate_per_h, rng.uniform(20.0, max(20.0, latest)))
    return plan


class SensorFleet:
    """Connect a fleet, publish until a duration or a message count, then take the devices offline.

    With ``credentials`` (device id -> password) each device logs in as itself, as it must on a broker with
    per-device accounts, which also means one connection per device.
    """

    def __init__(self, target: MqttTarget, site: str, options: FleetOptions, clock: Clock | None = None,
                 credentials: Mapping[str, str] | None = None) -> None:
        if not 0.0 <= options.malformed_share <= 1.0:
            raise ValueError("malformed_share must be within [0, 1]")
        if options.rate <= 0 or options.devices <= 0:
            raise ValueError("rate and devices must be positive")
        self.target = target
        self.site = site
        self.options = options
        self.clock = clock or WallClock()
        self.specs: list[DeviceSpec] = make_fleet(options.devices, options.kinds)
        alarms = alarm_plan(self.specs, options)
        self.sims = [DeviceSim(spec, site, options.seed, alarms=alarms[spec.device_id]) for spec in self.specs]
        self.per_device = options.per_device_sessions
        if self.per_device is None:
            self.per_device = credentials is not None or options.devices <= 100
        self.credentials = dict(credentials) if credentials is not None else None
        if self.credentials is not None:
            if not self.per_device:
                raise ValueError("per-device credentials need one session per device (per_device_sessions)")
            missing = [s.device_id for s in self.specs if s.device_id not in self.credentials]
            if missing:
                raise ValueError(f"no credentials for {len(missing)} device(s), e.g. {missing[:3]}")
        self.rng = random.Random(f"{options.seed}:fleet")
        self.report = SendReport()
        self._publishers: dict[int, BoundedPublisher] = {}
        self._shared: BoundedPublisher | None = None
        drop_rng = random.Random(f"{options.seed}:dropouts")
        picks = drop_rng.sample(range(options.devices), min(options.dropouts, options.devices))
        # each dropping device loses power on its 2nd or 3rd turn (early, so short test runs see it)
        self._drop_at = {i: drop_rng.randint(1, 2) for i in picks} if self.per_device else {}
        self._back_at = {i: t + 1 + options.dropout_ticks for i, t in self._drop_at.items()}
        self._turns = [0] * options.devices

    def run(self, duration_s: float | None = None, count: int | None = None,
            progress: Callable[[int], None] | None = None, stop: threading.Event | None = None) -> SendReport:
        """Publish until ``duration_s`` passes, ``count`` messages are sent, or ``stop`` is set."""
        if duration_s is None and count is None and stop is None:
            raise ValueError("give a duration, a count or a stop event")
        self._connect_all()
        start = time.monotonic()
        tick = 0
        try:
            while not (stop is not None and stop.is_set()):
                due = start + tick / self.options.rate
                if duration_s is not None and due - start >= duration_s:
                    break
                if count is not None and self.report.sent >= count:
                    break
                delay = due - time.monotonic()
                if delay > 0 and stop is not None:
                    stop.wait(delay)
                elif delay > 0:
                    time.sleep(delay)
                self._turn(tick % self.options.devices)
                tick += 1
                if progress is not None:
                    progress(self.report.sent)
        finally:
            self.report.elapsed_s = time.monotonic() - start
            self._disconnect_all()
        return self.report

    def _turn(self, index: int) -> None:
        turn = self._turns[index]
        self._turns[index] += 1
        if self._drop_at.get(index) == turn:
            self._drop(index)
        if self._drop_at.get(index, -1) <= turn < self._back_at.get(index, -1):
            return  # powered off: misses its turn
        if self._back_at.get(index) == turn:
            self._connect(index)
        now = self.clock.now()
        publisher = self._publisher(index)
        spec = self.specs[index]
        if self.options.malformed_share and self.rng.random() < self.options.malformed_share:
            reason = self.rng.choice(list(Malformed))
            topic, payload = malformed_message(reason, spec, self.site, now)
            publisher.publish(topic, payload)
            self.report.malformed += 1
            self.report.malformed_by_reason[reason.value] += 1
        else:
            reading = self.sims[index].next(now)
            publisher.publish(reading.topic, reading.payload)
            self.report.valid += 1
            self.report.by_kind[reading.kind.value] += 1
            if reading.seq is None:
                self.report.doors.append((spec.unit_id, reading.payload.decode()))
            else:
                self.report.telemetry.append((reading.device_id, reading.seq))
                self.report.metric_rows += len(reading.metrics)
        self.report.sent += 1

    def _publisher(self, index: int) -> BoundedPublisher:
        if self.per_device:
            return self._publishers[index]
        if self._shared is None:
            raise RuntimeError("the fleet's shared publisher is not connected: start the fleet first")
        return self._shared

    def _connect(self, index: int) -> None:
        sim = self.sims[index]
        target = self.target
        if self.credentials is not None:
            target = target.model_copy(update={"username": sim.spec.device_id,
                                               "password": self.credentials[sim.spec.device_id]})
        publisher = BoundedPublisher(target, f"sim-{self.site}-{sim.spec.device_id}"[:64],
                                     max_inflight=self.options.max_inflight, will=(sim.status_topic, b"offline"))
        self._publishers[index] = publisher.start()
        self._status(publisher, index, "online")

    def _status(self, publisher: BoundedPublisher, index: int, state: str) -> None:
        publisher.publish(self.sims[index].status_topic, state.encode(), retain=True)
        self.report.status.append((self.specs[index].device_id, state))

    def _drop(self, index: int) -> None:
        publisher = self._publishers.pop(index)
        publisher.flush(10.0)
        publisher.client.disconnect(reasoncode=_DROP)
        publisher.client.loop_stop()
        self.report.status.append((self.specs[index].device_id, "offline"))

    def _connect_all(self) -> None:
        if self.per_device:
            for index in range(len(self.specs)):
                self._connect(index)
            return
        self._shared = BoundedPublisher(self.target, max_inflight=self.options.max_inflight).start()
        for index in range(len(self.specs)):
            self._status(self._shared, index, "online")

    def _disconnect_all(self) -> None:
        """Devices switched off at the end of a run say so (retained), then leave cleanly."""
        if self._shared is not None:
            for index in range(len(self.specs)):
                self._status(self._shared, index, "offline")
            self._shared.close()
            self._shared = None
        for index, publisher in sorted(self._publishers.items()):
            self._status(publisher, index, "offline")
            publisher.close()
        self._publishers.clear()


def backfill(site: str, options: FleetOptions, start: datetime, end: datetime) -> list[tuple[str, bytes]]:
    """Topic/payload pairs for a fleet over [start, end) at ``options.rate``, computed without a clock or broker.

    Benches pre-generate their messages with this, so payload building is never inside the timed window.
    """
    specs = make_fleet(options.devices, options.kinds)
    alarms = alarm_plan(specs, options)
    sims = [DeviceSim(spec, site, options.seed, alarms=alarms[spec.device_id]) for spec in specs]
    total = int((end - start).total_seconds() * options.rate)
    out = []
    for tick in range(total):
        reading = sims[tick % len(sims)].next(start.astimezone(UTC) + timedelta(seconds=tick / options.rate))
        out.append((reading.topic, reading.payload))
    return out
