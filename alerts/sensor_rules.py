"""Sensor and device rules from a sensor profile (``alerts.sensor_profiles``): thresholds with hysteresis and a
persistence time (smoke, gas, temperature, water leak, a fire door held open, e-bike charging on a socket where it
is forbidden), device offline (no message for N x its interval, or its last will), and metrics nobody knows.
Pure: state in, state and firings out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypedDict

from alerts.lifecycle import Severity
from alerts.sensor_profiles import (
    MetricSpec,
    ProfileError,
    RuleSpec,
    SensorProfile,
    default_profile,
    load_profile,
    parse_rule,
)


class RuleMark(TypedDict, total=False):
    """One rule's progress on one device: since when the value is in alarm territory, and whether it fired."""

    since: str
    active: bool


class DeviceState(TypedDict, total=False):
    """A device's rule state, stored as JSON between messages (times as ISO 8601 text)."""

    last_seen: str
    last_heard: str  # when its last message arrived here: silence is judged by this, not by the device's clock
    interval_s: float
    learned_interval_s: float
    offline_fired: bool
    rules: dict[str, RuleMark]


@dataclass(frozen=True)
class SensorRuleConfig:
    """The sensor rules of one estate: its profile and when a silent device counts as offline."""

    profile: SensorProfile = field(default_factory=default_profile)
    offline_factor: float = 3.0  # no message for this many intervals = offline
    default_interval_s: float = 60.0

    @classmethod
    def from_profile(cls, profile: SensorProfile) -> SensorRuleConfig:
        """Rules as the profile says, offline limits included."""
        return cls(profile, profile.offline_factor, profile.default_interval_s)

    @classmethod
    def from_dict(cls, raw: Mapping[str, object]) -> SensorRuleConfig:
        """Build from the ``sensors`` section of the rules file; an empty section means the default profile.

        Keys: ``profile`` (path of a profile file), ``rules`` (a list replacing the profile's rules), the older
        ``thresholds`` (replace every rule but ``ebike_charging``) and ``ebike`` (``min_w``, ``max_w``,
        ``min_minutes``, ``devices``: an id regex), ``offline_factor``, ``default_interval_s``.

        Raises:
            ProfileError: naming the bad key (``sensors.rules[1].above``).
        """
        known = {"profile", "rules", "thresholds", "ebike", "offline_factor", "default_interval_s"}
        extra = sorted(set(raw) - known)
        if extra:
            raise ProfileError(f"sensors.{extra[0]}: unknown key (known: {', '.join(sorted(known))})")
        path = raw.get("profile")
        if path is not None and not isinstance(path, str):
            raise ProfileError(f"sensors.profile: expected a file path, got {path!r}")
        profile = load_profile(Path(path)) if path else default_profile()
        if (rules := raw.get("rules")) is not None:
            if not isinstance(rules, list):
                raise ProfileError("sensors.rules: expected a list")
            profile = dataclasses.replace(profile, rules=tuple(
                parse_rule(r, f"sensors.rules[{i}]", profile.metrics, profile.kinds, profile.locations)
                for i, r in enumerate(rules)))
        if (thresholds := raw.get("thresholds")) is not None:
            profile = _legacy_thresholds(profile, thresholds)
        if (ebike := raw.get("ebike")) is not None:
            profile = _legacy_ebike(profile, ebike)
        return cls(profile, _number(raw, "offline_factor", profile.offline_factor),
                   _number(raw, "default_interval_s", profile.default_interval_s))


def _number(raw: Mapping[str, object], key: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ProfileError(f"sensors.{key}: expected a positive number, got {value!r}")
    return float(value)


def _legacy_thresholds(profile: SensorProfile, thresholds: object) -> SensorProfile:
    """The rules file's older ``thresholds`` list: plain thresholds that fire at once and clear at the threshold."""
    if not isinstance(thresholds, list):
        raise ProfileError("sensors.thresholds: expected a list")
    metrics = dict(profile.metrics)
    rules: list[RuleSpec] = []
    for i, t in enumerate(thresholds):
        if not isinstance(t, Mapping) or not isinstance(t.get("metric"), str):
            raise ProfileError(f"sensors.thresholds[{i}].metric: required (a metric name)")
        metric = profile.canonical(t["metric"]) or t["metric"]
        metrics.setdefault(metric, MetricSpec(metric, ""))
        body = {"name": f"threshold_{i}_{metric}", "metric": metric, "type": metric, "severity": "major",
                "title": f"{metric} too high", **{str(k): v for k, v in t.items()}}
        body["metric"] = metric
        rules.append(parse_rule(body, f"sensors.thresholds[{i}]", metrics))
    kept = tuple(r for r in profile.rules if r.type == "ebike_charging")
    return dataclasses.replace(profile, metrics=metrics, rules=(*rules, *kept))


def _legacy_ebike(profile: SensorProfile, ebike: object) -> SensorProfile:
    """The older ``ebike`` section: power band, minutes, and a device id regex instead of locations."""
    if not isinstance(ebike, Mapping):
        raise ProfileError("sensors.ebike: expected an object")
    keys = {"min_w", "max_w", "min_minutes", "devices", "metric"}
    if extra := sorted(set(map(str, ebike)) - keys):
        raise ProfileError(f"sensors.ebike.{extra[0]}: unknown key (known: {', '.join(sorted(keys))})")
    out = []
    for r in profile.rules:
        if r.type != "ebike_charging":
            out.append(r)
            continue
        body: dict[str, object] = {
            "name": r.name, "metric": profile.canonical(str(ebike.get("metric", r.metric))) or r.metric,
            "above": ebike.get("min_w", r.above), "at_most": ebike.get("max_w", r.at_most),
            "persist_s": _minutes(ebike.get("min_minutes"), r.persist_s), "type": r.type, "severity": r.severity,
            "title": r.title, "kinds": list(r.kinds), "locations": [] if "devices" in ebike else list(r.locations),
            "device_pattern": ebike.get("devices", r.device_pattern)}
        above = body["above"]
        body["clear_below"] = min(r.clear_below, above) if isinstance(above, int | float) else r.clear_below
        out.append(parse_rule(body, "sensors.ebike", profile.metrics, profile.kinds, profile.locations))
    return dataclasses.replace(profile, rules=tuple(out))


def _minutes(value: object, default_s: float) -> object:
    return value * 60 if isinstance(value, int | float) and not isinstance(value, bool) else \
        (default_s if value is None else value)


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


def canonical_metrics(metrics: Mapping[str, float], cfg: SensorRuleConfig) -> dict[str, float]:
    """The readings under their canonical names (the first of two aliases of one metric wins)."""
    out: dict[str, float] = {}
    for name, value in metrics.items():
        if (canonical := cfg.profile.canonical(name)) is not None:
            out.setdefault(canonical, value)
    return out


def unknown_metrics(device_id: str, metrics: Mapping[str, float], cfg: SensorRuleConfig,
                    meta: Mapping[str, object] | None = None) -> list[tuple[str, str]]:
    """(device kind, metric name) of every reading the profile does not know: counted and shown, never ignored."""
    unknown = [name for name in metrics if cfg.profile.canonical(name) is None]
    if not unknown:
        return []
    kind = cfg.profile.kind_of(device_id, meta)
    return [(kind, name) for name in unknown]


def on_telemetry(state: DeviceState, device_id: str, ts: datetime, metrics: Mapping[str, float],
                 cfg: SensorRuleConfig, interval_s: float | None = None,
                 meta: Mapping[str, object] | None = None) -> list[SensorFiring]:
    """Fold one telemetry message into the device's rule state; return what fires (at most one per alert type)."""
    _seen(state, ts, interval_s)
    profile = cfg.profile
    values = canonical_metrics(metrics, cfg)
    kind, where = profile.kind_of(device_id, meta), profile.locations_of(device_id, meta)
    marks = state.setdefault("rules", {})
    fired: dict[str, SensorFiring] = {}
    for rule in profile.rules:
        value = values.get(rule.metric)
        if value is None or not profile.applies(rule, device_id, kind, where):
            continue
        firing = _step(marks, rule, device_id, ts, value)
        if firing is not None:
            fired.setdefault(firing.type, firing)
    if not marks:
        del state["rules"]
    return list(fired.values())


def _step(marks: dict[str, RuleMark], rule: RuleSpec, device_id: str, ts: datetime,
          value: float) -> SensorFiring | None:
    """One reading through one rule: persistence before firing, hysteresis before re-arming."""
    mark = marks.get(rule.name, RuleMark())
    if mark.get("active"):
        if not rule.holds(value):
            del marks[rule.name]  # cleared: the next episode may fire again
        return None
    if not rule.in_band(value):
        marks.pop(rule.name, None)
        return None
    since = _dt(mark.get("since")) or ts
    held = (ts - since).total_seconds()
    if held < rule.persist_s:
        marks[rule.name] = RuleMark(since=since.isoformat(), active=False)
        return None
    marks[rule.name] = RuleMark(since=since.isoformat(), active=True)
    return SensorFiring(rule.type, rule.severity, device_id, ts, rule.title,
                        {"rule": rule.name, "metric": rule.metric, "value": value, "threshold": rule.above,
                         "since": since.isoformat(), "persisted_s": round(held, 3)})


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
    """When silence makes the device offline; None once that fired or before its first message.

    Silence counts from when the last message arrived (``last_heard``), so a device, or a publisher that has
    fallen behind, whose clock lags ours is not called offline between two of its own messages.
    """
    last = _dt(state.get("last_heard")) or _dt(state.get("last_seen"))
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


def _marks(raw: object) -> dict[str, RuleMark]:
    out: dict[str, RuleMark] = {}
    if not isinstance(raw, Mapping):
        return out
    for name, mark in raw.items():
        if isinstance(mark, Mapping) and isinstance(since := mark.get("since"), str):
            out[str(name)] = RuleMark(since=since, active=mark.get("active") is True)
    return out


def device_state(raw: Mapping[str, object] | None) -> DeviceState:
    """A stored state document as a ``DeviceState``, keeping only the keys (and types) the rules know."""
    raw = raw or {}
    state = DeviceState()
    if isinstance(last_seen := raw.get("last_seen"), str):
        state["last_seen"] = last_seen
    if isinstance(last_heard := raw.get("last_heard"), str):
        state["last_heard"] = last_heard
    if isinstance(interval := raw.get("interval_s"), int | float):
        state["interval_s"] = float(interval)
    if isinstance(learned := raw.get("learned_interval_s"), int | float):
        state["learned_interval_s"] = float(learned)
    if isinstance(offline_fired := raw.get("offline_fired"), bool):
        state["offline_fired"] = offline_fired
    if marks := _marks(raw.get("rules")):
        state["rules"] = marks
    return state
