"""Sensor and device rules from configuration: thresholds (smoke, temperature), forbidden e-bike charging,
device offline (no message for N x its interval, or its last will). Pure: state in, state and firings out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypedDict

from alerts.lifecycle import Severity, as_severity


class DeviceState(TypedDict, total=False):
    """A device's rule state, stored as JSON between messages (times as ISO 8601 text)."""

    last_seen: str
    interval_s: float
    learned_interval_s: float
    charge_since: str
    charge_fired: bool
    offline_fired: bool


@dataclass(frozen=True)
class ThresholdRule:
    """Fire when ``metric`` goes above ``above``: one alert per device and type while it stays active."""

    metric: str
    above: float
    type: str
    severity: Severity
    title: str


@dataclass(frozen=True)
class EbikeRule:
    """A charger's power pattern: a steady draw in [min_w, max_w] for ``min_minutes`` on a socket where charging
    is forbidden (corridors, lift lobbies: a fire risk), matched by device id pattern.
    """

    metric: str = "power_w"
    min_w: float = 80.0
    max_w: float = 600.0
    min_minutes: float = 20.0
    devices: str = r"^(corridor|lobby|stair)[-_]"


def _default_thresholds() -> tuple[ThresholdRule, ...]:
    return (
        ThresholdRule("smoke", 0.5, "smoke", "critical", "Smoke detected"),
        ThresholdRule("smoke_ppm", 300.0, "smoke", "critical", "Smoke detected"),
        ThresholdRule("temperature", 60.0, "temperature", "major", "Temperature above 60 °C"),
    )


@dataclass(frozen=True)
class SensorRuleConfig:
    """The sensor rules of one estate: thresholds, the e-bike pattern and when a silent device counts as offline."""

    thresholds: tuple[ThresholdRule, ...] = field(default_factory=_default_thresholds)
    ebike: EbikeRule = field(default_factory=EbikeRule)
    offline_factor: float = 3.0  # no message for this many intervals = offline
    default_interval_s: float = 60.0

    @classmethod
    def from_dict(cls, raw: Mapping[str, object]) -> SensorRuleConfig:
        """Build from the ``sensors`` section of the rules file, keeping defaults for what is left out."""
        base = cls()
        listed = raw.get("thresholds")
        thresholds = tuple(_threshold(t) for t in listed if isinstance(t, Mapping)) \
            if isinstance(listed, list) else ()
        ebike = raw.get("ebike")
        return cls(thresholds or base.thresholds,
                   EbikeRule(**{str(k): v for k, v in ebike.items()}) if isinstance(ebike, Mapping) else base.ebike,
                   _float(raw.get("offline_factor", base.offline_factor)),
                   _float(raw.get("default_interval_s", base.default_interval_s)))


def _float(value: object) -> float:
    if isinstance(value, int | float | str):
        return float(value)
    raise ValueError(f"expected a number, got {value!r}")


def _threshold(raw: Mapping[str, object]) -> ThresholdRule:
    metric = str(raw["metric"])
    return ThresholdRule(metric, _float(raw["above"]), str(raw.get("type", metric)),
                         as_severity(str(raw.get("severity", "major"))), str(raw.get("title", f"{metric} too high")))


@dataclass(frozen=True)
class SensorFiring:
    """A sensor rule that fired for one device at ``at``."""

    type: str
    severity: Severity
    device_id: str
    at: datetime
    title: str
    details: dict[str, object]


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def on_telemetry(state: DeviceState, device_id: str, ts: datetime, metrics: Mapping[str, float],
                 cfg: SensorRuleConfig, interval_s: float | None = None) -> list[SensorFiring]:
    """Fold one telemetry message into the device's rule state; return what fires."""
    _seen(state, ts, interval_s)
    fired = [SensorFiring(rule.type, rule.severity, device_id, ts, rule.title,
                          {"metric": rule.metric, "value": value, "threshold": rule.above})
             for rule in cfg.thresholds
             if (value := metrics.get(rule.metric)) is not None and value > rule.above]
    power = metrics.get(cfg.ebike.metric)
    if power is not None and re.search(cfg.ebike.devices, device_id):
        fired += _ebike(state, device_id, ts, power, cfg.ebike)
    return fired


def _ebike(state: DeviceState, device_id: str, ts: datetime, power: float, eb: EbikeRule) -> list[SensorFiring]:
    if not eb.min_w <= power <= eb.max_w:
        state.pop("charge_since", None)
        state.pop("charge_fired", None)
        return []
    since = _dt(state.get("charge_since")) or ts
    state["charge_since"] = since.isoformat()
    if ts - since < timedelta(minutes=eb.min_minutes) or state.get("charge_fired"):
        return []
    state["charge_fired"] = True
    return [SensorFiring("ebike_charging", "major", device_id, ts, "E-bike charging where it is forbidden",
                         {"power_w": power, "charging_since": since.isoformat()})]


def _seen(state: DeviceState, ts: datetime, interval_s: float | None) -> None:
    last = _dt(state.get("last_seen"))
    if interval_s is None and last is not None and ts > last:  # learn the interval when none is configured
        gap = (ts - last).total_seconds()
        known = float(state.get("learned_interval_s") or gap)
        state["learned_interval_s"] = 0.8 * known + 0.2 * gap
    if interval_s is not None:
        state["interval_s"] = interval_s
    if last is None or ts > last:
        state["last_seen"] = ts.isoformat()
    state["offline_fired"] = False


def on_status(state: DeviceState, device_id: str, ts: datetime, online: bool) -> list[SensorFiring]:
    """A device's own status message; ``offline`` is its last will, sent by the broker when it vanished."""
    if online:
        state["offline_fired"] = False
        last = _dt(state.get("last_seen"))
        if last is not None:  # a status-only device (e.g. a door contact) is watched through its will, not silence
            state["last_seen"] = max(ts, last).isoformat()
        return []
    if state.get("offline_fired"):
        return []
    state["offline_fired"] = True
    return [SensorFiring("device_offline", "minor", device_id, ts, "Device offline",
                         {"cause": "last will", "last_seen": state.get("last_seen")})]


def interval_of(state: DeviceState, cfg: SensorRuleConfig) -> float:
    """The device's interval: configured, else learned from its traffic, else the default."""
    return float(state.get("interval_s") or state.get("learned_interval_s") or cfg.default_interval_s)


def offline_due(state: DeviceState, cfg: SensorRuleConfig) -> datetime | None:
    """When silence makes the device offline; None once that fired or before its first message."""
    last = _dt(state.get("last_seen"))
    if last is None or state.get("offline_fired"):
        return None
    return last + timedelta(seconds=cfg.offline_factor * interval_of(state, cfg))


def check_offline(state: DeviceState, device_id: str, now: datetime, cfg: SensorRuleConfig) -> list[SensorFiring]:
    """Fire ``device_offline`` once when the device has been silent past its limit."""
    due = offline_due(state, cfg)
    if due is None or now < due:
        return []
    state["offline_fired"] = True
    return [SensorFiring("device_offline", "minor", device_id, now, "Device offline",
                         {"cause": f"no message for {cfg.offline_factor:g} x {interval_of(state, cfg):.0f} s",
                          "last_seen": state.get("last_seen")})]


def device_state(raw: Mapping[str, object] | None) -> DeviceState:
    """A stored state document as a ``DeviceState``, keeping only the keys (and types) the rules know."""
    raw = raw or {}
    state = DeviceState()
    if isinstance(last_seen := raw.get("last_seen"), str):
        state["last_seen"] = last_seen
    if isinstance(charge_since := raw.get("charge_since"), str):
        state["charge_since"] = charge_since
    if isinstance(interval := raw.get("interval_s"), int | float):
        state["interval_s"] = float(interval)
    if isinstance(learned := raw.get("learned_interval_s"), int | float):
        state["learned_interval_s"] = float(learned)
    if isinstance(charge_fired := raw.get("charge_fired"), bool):
        state["charge_fired"] = charge_fired
    if isinstance(offline_fired := raw.get("offline_fired"), bool):
        state["offline_fired"] = offline_fired
    return state
