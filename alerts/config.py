"""Alert configuration from ``EW_ALERT_RULES_FILE`` (JSON or YAML); every section is optional.

Example::

    sla: {ack_minutes: 5, resolve_minutes: {simple: 40, general: 180, complex: 2880},
          type_class: {littering: general}, recipient_groups: [duty, supervisor, manager]}
    residents: {door_quiet_minutes: 10, reminder_hours: 12, no_sign_enabled: true}
    sensors: {thresholds: [{metric: temperature, above: 60, type: temperature, severity: major}],
              ebike: {min_w: 80, max_w: 600, min_minutes: 20, devices: "^(corridor|lobby)-"},
              offline_factor: 3, default_interval_s: 60}
    webhooks: {base_s: 2, cap_s: 3600, max_attempts: 15}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from alerts.model import SlaPolicy
from alerts.outbox import RetryPolicy
from alerts.presence import PresenceConfig
from alerts.rules import RuleConfig
from alerts.sensors import SensorRuleConfig


@dataclass(frozen=True)
class AlertsConfig:
    rules: RuleConfig = field(default_factory=RuleConfig)
    sensors: SensorRuleConfig = field(default_factory=SensorRuleConfig)
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> AlertsConfig:
        res = raw.get("residents") or {}
        base = RuleConfig()
        rules = RuleConfig(
            presence=PresenceConfig(door_quiet=timedelta(minutes=float(res.get("door_quiet_minutes", 10)))),
            reminder_every=timedelta(hours=float(res.get("reminder_hours",
                                                         base.reminder_every.total_seconds() / 3600))),
            no_sign_enabled=bool(res.get("no_sign_enabled", True)),
        )
        hooks = raw.get("webhooks") or {}
        return cls(rules, SensorRuleConfig.from_dict(raw.get("sensors") or {}),
                   SlaPolicy.from_dict(raw.get("sla") or {}),
                   RetryPolicy(**{k: hooks[k] for k in ("base_s", "cap_s", "max_attempts", "lease_s") if k in hooks}))

    @classmethod
    def load(cls, path: Path | None) -> AlertsConfig:
        if path is None:
            return cls()
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".yaml", ".yml"):
            import yaml

            raw = yaml.safe_load(text) or {}
        else:
            raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: expected a mapping at the top level")
        return cls.from_dict(raw)
