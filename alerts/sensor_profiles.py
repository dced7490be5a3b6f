"""Sensor profiles: which device kinds an estate has, what their metrics are called, and the rules on them.

A profile is one JSON document (the default ships as ``alerts/profiles/default.json``). It names every metric
the estate's sensors send (with the aliases other vendors use), the device kinds (recognised by a token of the
device id or the registry's ``meta.sensor_kind``), named locations (a token of the id or ``meta.location``) and
the rules: a threshold, a clear level (hysteresis), how long a value must persist before firing, the alert type,
severity and title, optionally limited to some kinds and locations. The rules and the sensor simulator read the
same file, so what the simulator sends is what the rules know. Pure: parsing and validation, no I/O but ``load``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from alerts.lifecycle import SEVERITIES, Severity

DEFAULT_PROFILE = Path(__file__).with_name("profiles") / "default.json"
UNKNOWN_KIND = "unknown"
_TOKENS = re.compile(r"[-_.]")


class ProfileError(ValueError):
    """A profile that does not validate; the message names the bad key as a path (``rules[2].persist_s``)."""


@dataclass(frozen=True)
class MetricSpec:
    """A metric under its canonical name, with its unit and the other names devices send it under."""

    name: str
    unit: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class KindSpec:
    """A device kind: the id tokens that recognise it (``smoke`` in ``smoke-00001``) and the metrics it sends."""

    name: str
    id_tokens: tuple[str, ...]
    metrics: tuple[str, ...]


@dataclass(frozen=True)
class RuleSpec:
    """Fire ``type`` when ``metric`` stays above ``above`` (and at most ``at_most``) for ``persist_s`` seconds.

    Once fired, the rule is active until the value drops below ``clear_below`` (or leaves the band): only then can
    it fire again, so a value hovering at the threshold raises one alert, not one per reading. ``kinds`` and
    ``locations`` (empty: any) limit where it applies; a device of no known kind is held to every rule of the
    metrics it sends.
    """

    name: str
    metric: str
    above: float
    type: str
    severity: Severity
    title: str
    clear_below: float
    persist_s: float = 0.0
    at_most: float | None = None
    kinds: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    device_pattern: str | None = None  # a regex on the device id (the rules file's older ``ebike.devices``)

    def in_band(self, value: float) -> bool:
        """The value is in alarm territory."""
        return value > self.above and (self.at_most is None or value <= self.at_most)

    def holds(self, value: float) -> bool:
        """An active rule stays active: above the clear level and still within the band."""
        return value >= self.clear_below and (self.at_most is None or value <= self.at_most)


@dataclass(frozen=True)
class SensorProfile:
    """A validated profile; build with ``parse_profile`` or ``load_profile``."""

    metrics: Mapping[str, MetricSpec]
    kinds: Mapping[str, KindSpec]
    locations: Mapping[str, tuple[str, ...]]
    rules: tuple[RuleSpec, ...]
    offline_factor: float = 3.0
    default_interval_s: float = 60.0

    @functools.cached_property
    def _alias(self) -> dict[str, str]:
        names = {m.name: m.name for m in self.metrics.values()}
        return names | {a: m.name for m in self.metrics.values() for a in m.aliases}

    def canonical(self, metric: str) -> str | None:
        """The canonical name of a metric as a device sent it; None when the profile does not know it."""
        return self._alias.get(metric)

    def kind_of(self, device_id: str, meta: Mapping[str, object] | None = None) -> str:
        """The device's kind: ``meta.sensor_kind`` when it names one, else the first kind an id token names."""
        given = (meta or {}).get("sensor_kind")
        if isinstance(given, str) and given in self.kinds:
            return given
        tokens = set(_TOKENS.split(device_id.lower()))
        return next((k.name for k in self.kinds.values() if tokens & set(k.id_tokens)), UNKNOWN_KIND)

    def locations_of(self, device_id: str, meta: Mapping[str, object] | None = None) -> set[str]:
        """Named locations of the device: ``meta.location`` and those an id token names."""
        tokens = set(_TOKENS.split(device_id.lower()))
        found = {name for name, words in self.locations.items() if tokens & set(words)}
        given = (meta or {}).get("location")
        return found | ({given} if isinstance(given, str) else set())

    def rule(self, name: str) -> RuleSpec:
        """The rule called ``name`` (the simulator sizes its alarm episodes from it).

        Raises:
            KeyError: when the profile has no such rule.
        """
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(name)

    def applies(self, rule: RuleSpec, device_id: str, kind: str, locations: set[str]) -> bool:
        """Whether ``rule`` watches this device (kind, location and id pattern filters)."""
        if rule.kinds and kind != UNKNOWN_KIND and kind not in rule.kinds:
            return False
        if rule.locations and not locations & set(rule.locations):
            return False
        return rule.device_pattern is None or re.search(rule.device_pattern, device_id) is not None


# ---- parsing


def _mapping(raw: object, path: str) -> Mapping[str, object]:
    if not isinstance(raw, Mapping):
        raise ProfileError(f"{path}: expected an object, got {type(raw).__name__}")
    return {str(k): v for k, v in raw.items()}


def _keys(raw: Mapping[str, object], path: str, required: set[str], optional: set[str]) -> None:
    extra = sorted(set(raw) - required - optional)
    if extra:
        raise ProfileError(f"{path}.{extra[0]}: unknown key (known: {', '.join(sorted(required | optional))})")
    missing = sorted(required - set(raw))
    if missing:
        raise ProfileError(f"{path}.{missing[0]}: required")


def _number(raw: object, path: str, *, minimum: float | None = None) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ProfileError(f"{path}: expected a number, got {raw!r}")
    if minimum is not None and raw < minimum:
        raise ProfileError(f"{path}: must be at least {minimum:g}, got {raw!r}")
    return float(raw)


def _text(raw: object, path: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ProfileError(f"{path}: expected a non-empty string, got {raw!r}")
    return raw


def _texts(raw: object, path: str) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise ProfileError(f"{path}: expected a list of strings, got {raw!r}")
    return tuple(_text(v, f"{path}[{i}]") for i, v in enumerate(raw))


def _metrics(raw: object) -> dict[str, MetricSpec]:
    out: dict[str, MetricSpec] = {}
    seen: dict[str, str] = {}
    for name, spec in _mapping(raw, "metrics").items():
        path = f"metrics.{name}"
        body = _mapping(spec, path)
        _keys(body, path, {"unit"}, {"aliases"})
        aliases = _texts(body.get("aliases", []), f"{path}.aliases")
        for alias in (name, *aliases):
            if alias in seen:
                raise ProfileError(f"{path}: name {alias!r} is already used by metrics.{seen[alias]}")
            seen[alias] = name
        out[name] = MetricSpec(name, _text(body["unit"], f"{path}.unit"), aliases)
    return out


def _kinds(raw: object, metrics: Mapping[str, MetricSpec]) -> dict[str, KindSpec]:
    out: dict[str, KindSpec] = {}
    for name, spec in _mapping(raw, "kinds").items():
        path = f"kinds.{name}"
        body = _mapping(spec, path)
        _keys(body, path, {"id_tokens", "metrics"}, set())
        listed = _texts(body["metrics"], f"{path}.metrics")
        for i, metric in enumerate(listed):
            if metric not in metrics:
                raise ProfileError(f"{path}.metrics[{i}]: {metric!r} is not declared under metrics")
        out[name] = KindSpec(name, tuple(t.lower() for t in _texts(body["id_tokens"], f"{path}.id_tokens")), listed)
    return out


_RULE_REQUIRED = {"name", "metric", "above", "type", "severity", "title"}
_RULE_OPTIONAL = {"clear_below", "persist_s", "at_most", "kinds", "locations", "device_pattern"}


def _pattern(raw: object, path: str) -> str:
    text = _text(raw, path)
    try:
        re.compile(text)
    except re.error as exc:
        raise ProfileError(f"{path}: not a regular expression ({exc})") from None
    return text


def parse_rule(raw: object, path: str, profile_metrics: Mapping[str, MetricSpec] | None = None,
               kinds: Mapping[str, KindSpec] | None = None,
               locations: Mapping[str, tuple[str, ...]] | None = None) -> RuleSpec:
    """One rule; with the profile's metrics, kinds and locations its references are checked too."""
    body = _mapping(raw, path)
    _keys(body, path, _RULE_REQUIRED, _RULE_OPTIONAL)
    metric = _text(body["metric"], f"{path}.metric")
    if profile_metrics is not None and metric not in profile_metrics:
        raise ProfileError(f"{path}.metric: {metric!r} is not declared under metrics (use its canonical name)")
    severity = body["severity"]
    if severity not in SEVERITIES:
        raise ProfileError(f"{path}.severity: expected one of {', '.join(SEVERITIES)}, got {severity!r}")
    above = _number(body["above"], f"{path}.above")
    clear = _number(body.get("clear_below", above), f"{path}.clear_below")
    if clear > above:
        raise ProfileError(f"{path}.clear_below: must not exceed above ({above:g}), got {clear:g}")
    at_most = None if body.get("at_most") is None else _number(body["at_most"], f"{path}.at_most")
    if at_most is not None and at_most <= above:
        raise ProfileError(f"{path}.at_most: must exceed above ({above:g}), got {at_most:g}")
    rule_kinds = _texts(body.get("kinds", []), f"{path}.kinds")
    for i, k in enumerate(rule_kinds):
        if kinds is not None and k not in kinds:
            raise ProfileError(f"{path}.kinds[{i}]: {k!r} is not declared under kinds")
    where = _texts(body.get("locations", []), f"{path}.locations")
    for i, loc in enumerate(where):
        if locations is not None and loc not in locations:
            raise ProfileError(f"{path}.locations[{i}]: {loc!r} is not declared under locations")
    pattern = None if body.get("device_pattern") is None else _pattern(body["device_pattern"],
                                                                        f"{path}.device_pattern")
    return RuleSpec(_text(body["name"], f"{path}.name"), metric, above, _text(body["type"], f"{path}.type"),
                    SEVERITIES[SEVERITIES.index(severity)], _text(body["title"], f"{path}.title"), clear,
                    _number(body.get("persist_s", 0), f"{path}.persist_s", minimum=0), at_most, rule_kinds, where,
                    pattern)


def parse_profile(raw: object) -> SensorProfile:
    """Validate a parsed profile document.

    Raises:
        ProfileError: naming the first bad key.
    """
    body = _mapping(raw, "profile")
    _keys(body, "profile", {"version", "metrics", "kinds", "rules"},
          {"locations", "offline_factor", "default_interval_s", "description"})
    if body["version"] != 1:
        raise ProfileError(f"profile.version: only version 1 is known, got {body['version']!r}")
    metrics = _metrics(body["metrics"])
    kinds = _kinds(body["kinds"], metrics)
    locations = {name: tuple(w.lower() for w in _texts(words, f"locations.{name}"))
                 for name, words in _mapping(body.get("locations", {}), "locations").items()}
    listed = body["rules"]
    if not isinstance(listed, list):
        raise ProfileError(f"rules: expected a list, got {type(listed).__name__}")
    rules = tuple(parse_rule(r, f"rules[{i}]", metrics, kinds, locations) for i, r in enumerate(listed))
    names = [r.name for r in rules]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ProfileError(f"rules[{i}].name: {name!r} is used twice")
    return SensorProfile(metrics, kinds, locations, rules,
                         _number(body.get("offline_factor", 3.0), "offline_factor", minimum=1),
                         _number(body.get("default_interval_s", 60.0), "default_interval_s", minimum=0.001))


def load_profile(path: Path) -> SensorProfile:
    """Read and validate a profile file (JSON).

    Raises:
        ProfileError: when the file is not JSON or does not validate; the message starts with the path.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return parse_profile(raw)
    except json.JSONDecodeError as exc:
        raise ProfileError(f"{path}: not JSON ({exc})") from None
    except ProfileError as exc:
        raise ProfileError(f"{path}: {exc}") from None


@functools.cache
def default_profile() -> SensorProfile:
    """The profile shipped with EstateWatch (``alerts/profiles/default.json``), read once."""
    return load_profile(DEFAULT_PROFILE)
