"""Alert configuration from ``EW_ALERT_RULES_FILE`` (JSON or YAML); every section is optional.

Example::

    sla: {ack_minutes: 5, resolve_minutes: {simple: 40, general: 180, complex: 2880},
          type_class: {littering: general}, recipient_groups: [duty, supervisor, manager]}
    residents: {door_quiet_minutes: 10, reminder_hours: 12, no_sign_enabled: true}
    inactivity: {sensitivity: 0.35, learning_window_days: 30, quiet_start_hour: 23, quiet_end_hour: 6}
    sensors: {profile: /etc/estatewatch/sensor-profile.json, offline_factor: 3, default_interval_s: 60}
    # (no profile: alerts/profiles/default.json; the older thresholds / ebike keys still work, docs/alerts.md)
    webhooks: {base_s: 2, cap_s: 3600, max_attempts: 15}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import yaml

from alerts.delivery_policy import RetryPolicy
from alerts.inactivity.settings import InactivitySettings
from alerts.presence import PresenceConfig
from alerts.presence_rules import RuleConfig
from alerts.sensor_rules import SensorRuleConfig
from alerts.sla import SlaPolicy


def _section(raw: Mapping[str, object], name: str) -> Mapping[str, object]:
    value = raw.get(name)
    return {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else {}


def _float(value: object) -> float:
    if isinstance(value, int | float | str):
        return float(value)
    raise ValueError(f"expected a number, got {value!r}")


def _rules(res: Mapping[str, object], inactivity: Mapping[str, object]) -> RuleConfig:
    """The resident rules; ``inactivity`` holds the estate's defaults of ``no_activity`` (names of
    ``InactivitySettings``; residents may override them through the API).
    """
    base = RuleConfig()
    return RuleConfig(
        presence=PresenceConfig(door_quiet=timedelta(minutes=_float(res.get("door_quiet_minutes", 10)))),
        reminder_every=timedelta(hours=_float(res.get("reminder_hours", base.reminder_every.total_seconds() / 3600))),
        no_sign_enabled=bool(res.get("no_sign_enabled", True)),
        inactivity=InactivitySettings().merged(dict(inactivity)),
    )


def _retry(hooks: Mapping[str, object]) -> RetryPolicy:
    base = RetryPolicy()
    return RetryPolicy(base_s=_float(hooks.get("base_s", base.base_s)), cap_s=_float(hooks.get("cap_s", base.cap_s)),
                       max_attempts=int(_float(hooks.get("max_attempts", base.max_attempts))),
                       lease_s=_float(hooks.get("lease_s", base.lease_s)))


@dataclass(frozen=True)
class AlertsConfig:
    """Every tunable of the alerts area: resident rules, sensor rules, the SLA policy and webhook retries."""

    rules: RuleConfig = field(default_factory=RuleConfig)
    sensors: SensorRuleConfig = field(default_factory=SensorRuleConfig)
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_dict(cls, raw: Mapping[str, object]) -> AlertsConfig:
        """Build from the parsed file; what a section leaves out keeps its default."""
        return cls(_rules(_section(raw, "residents"), _section(raw, "inactivity")),
                   SensorRuleConfig.from_dict(_section(raw, "sensors")),
                   SlaPolicy.from_dict(_section(raw, "sla")), _retry(_section(raw, "webhooks")))

    @classmethod
    def load(cls, path: Path | None) -> AlertsConfig:
        """Read ``path`` (JSON, or YAML by suffix); no path means the defaults.

        Raises:
            ValueError: when the file does not hold a mapping at the top level.
        """
        if path is None:
            return cls()
        text = path.read_text(encoding="utf-8")
        raw: object = (yaml.safe_load(text) or {}) if path.suffix in (".yaml", ".yml") else json.loads(text)
        if not isinstance(raw, Mapping):
            raise ValueError(f"{path}: expected a mapping at the top level")  # noqa: TRY004 - a bad file, not a bad type
        return cls.from_dict({str(k): v for k, v in raw.items()})
