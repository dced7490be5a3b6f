"""Sensor and device rules from configuration: thresholds (smoke, temperature), forbidden e-bike charging,
device offline (no message for N x its interval, or its last will). Pure: state in, state and firings out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alerts.intake import AlertDraft, Severity


@dataclass(frozen=True)
class ThresholdRule:
    metric: str
    above: float
    type: str
    severity: Severity
    title: str


@dataclass(frozen=True)
class EbikeRule:
    """A charger's power pattern: a steady draw in [min_w, max_w] for ``min_minutes`` on a socket where charging
    is forbidden (corridors, lift lobbies: a fire risk), matched by device id pattern."""

    metric: str = "power_w"
    min_w: float = 80.0
    max_w: float = 600.0
    min_minutes: float = 20.0
    devices: str = r"^(corridor|lobby|stair)[-_]"


@dataclass(frozen=True)
class SensorRuleConfig:
    thresholds: tuple[ThresholdRule, ...] = (
        ThresholdRule("smoke", 0.5, "smoke", "critical", "Smoke detected"),
        ThresholdRule("smoke_ppm", 300.0, "smoke", "critical", "Smoke detected"),
        ThresholdRule("temperature", 60.0, "temperature", "major", "Temperature above 60 °C"),
    )
    ebike: EbikeRule = field(default_factory=EbikeRule)
    offline_factor: float = 3.0  # no message for this many intervals = offline
    default_interval_s: float = 60.0

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SensorRuleConfig:
        base = cls()
        thresholds = tuple(ThresholdRule(str(t["metric"]), float(t["above"]), str(t.get("type", t["metric"])),
                                         t.get("severity", "major"), str(t.get("title", f"{t['metric']} too high")))
                           for t in raw.get("thresholds", [])) or base.thresholds
        ebike = EbikeRule(**raw["ebike"]) if "ebike" in raw else base.ebike
        return cls(thresholds, ebike, float(raw.get("offline_factor", base.offline_factor)),
                   float(raw.get("default_interval_s", base.default_interval_s)))


@dataclass(frozen=True)
class SensorFiring:
    type: str
    severity: Severity
    device_id: str
    at: datetime
    title: str
    details: dict[str, Any]

    def draft(self, site: str, subject: dict[str, Any] | None = None) -> AlertDraft:
        return AlertDraft(type=self.type, severity=self.severity, dedup_key=f"{self.type}:{self.device_id}",
                          title=f"{self.title}: {self.device_id}", site=site, occurred_at=self.at,
                          subject={"device": self.device_id, **(subject or {})}, details=self.details)


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def on_telemetry(state: dict[str, Any], device_id: str, ts: datetime, metrics: dict[str, float],
                 cfg: SensorRuleConfig, interval_s: float | None = None) -> list[SensorFiring]:
    """Fold one telemetry message into the device's rule state; return what fires."""
    fired: list[SensorFiring] = []
    _seen(state, ts, interval_s, cfg)
    for rule in cfg.thresholds:
        value = metrics.get(rule.metric)
        if value is not None and value > rule.above:
            fired.append(SensorFiring(rule.type, rule.severity, device_id, ts, rule.title,
                                      {"metric": rule.metric, "value": value, "threshold": rule.above}))
    eb = cfg.ebike
    power = metrics.get(eb.metric)
    if power is not None and re.search(eb.devices, device_id):
        if eb.min_w <= power <= eb.max_w:
            since = _dt(state.get("charge_since")) or ts
            state["charge_since"] = since.isoformat()
            if ts - since >= timedelta(minutes=eb.min_minutes) and not state.get("charge_fired"):
                state["charge_fired"] = True
                fired.append(SensorFiring("ebike_charging", "major", device_id, ts,
                                          "E-bike charging where it is forbidden",
                                          {"power_w": power, "charging_since": since.isoformat()}))
        else:
            state.pop("charge_since", None)
            state.pop("charge_fired", None)
    return fired


def _seen(state: dict[str, Any], ts: datetime, interval_s: float | None, cfg: SensorRuleConfig) -> None:
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


def on_status(state: dict[str, Any], device_id: str, ts: datetime, online: bool) -> list[SensorFiring]:
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


def interval_of(state: dict[str, Any], cfg: SensorRuleConfig) -> float:
    return float(state.get("interval_s") or state.get("learned_interval_s") or cfg.default_interval_s)


def offline_due(state: dict[str, Any], cfg: SensorRuleConfig) -> datetime | None:
    last = _dt(state.get("last_seen"))
    if last is None or state.get("offline_fired"):
        return None
    return last + timedelta(seconds=cfg.offline_factor * interval_of(state, cfg))


def check_offline(state: dict[str, Any], device_id: str, now: datetime, cfg: SensorRuleConfig) -> list[SensorFiring]:
    due = offline_due(state, cfg)
    if due is None or now < due:
        return []
    state["offline_fired"] = True
    return [SensorFiring("device_offline", "minor", device_id, now, "Device offline",
                         {"cause": f"no message for {cfg.offline_factor:g} x {interval_of(state, cfg):.0f} s",
                          "last_seen": state.get("last_seen")})]
