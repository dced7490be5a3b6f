"""Lifecycle transitions, the "54321" SLA policy, escalation and configuration, on a fake clock without a database."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.config import AlertsConfig
from alerts.delivery_policy import RetryPolicy
from alerts.lifecycle import LifecycleError, check_transition, more_severe, severity_up
from alerts.sla import SlaPolicy, SlaView, due_breaches

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def view(status: str = "open", *, ack_breached: bool = False, level: int = 0, severity: str = "minor") -> SlaView:
    return SlaView(status, severity, T0 + timedelta(minutes=5), T0 + timedelta(minutes=40), ack_breached, False,
                   level)


def test_transitions_allowed_and_refused() -> None:
    check_transition("open", "acknowledged")
    check_transition("open", "resolved")
    check_transition("acknowledged", "resolved")
    for current, target in (("acknowledged", "acknowledged"), ("resolved", "acknowledged"), ("resolved", "resolved"),
                            ("resolved", "open")):
        with pytest.raises(LifecycleError):
            check_transition(current, target)


def test_severity_steps_up_and_repeats_never_lower_it() -> None:
    assert [severity_up(s) for s in ("info", "minor", "major", "critical")] == ["minor", "major", "critical",
                                                                                 "critical"]
    assert more_severe("critical", "minor") == "critical"
    assert more_severe("info", "major") == "major"


def test_deadlines_by_class_and_escalation_one_step_per_deadline() -> None:
    policy = SlaPolicy()
    assert policy.deadlines("smoke", T0) == (T0 + timedelta(minutes=5), T0 + timedelta(minutes=40))
    assert policy.deadlines("something_new", T0)[1] == T0 + timedelta(hours=3)
    assert due_breaches(view(), T0 + timedelta(minutes=4), policy) == []
    [ack] = due_breaches(view(), T0 + timedelta(minutes=5), policy)
    assert (ack.which, ack.new_severity, ack.new_level, ack.new_group) == ("ack", "major", 1, "supervisor")
    both = due_breaches(view(), T0 + timedelta(hours=1), policy)
    assert [(b.which, b.new_severity, b.new_group) for b in both] == [("ack", "major", "supervisor"),
                                                                       ("resolve", "critical", "manager")]
    acknowledged = view("acknowledged", ack_breached=True, level=1, severity="major")
    assert [b.which for b in due_breaches(acknowledged, T0 + timedelta(hours=1), policy)] == ["resolve"]
    assert due_breaches(view("resolved"), T0 + timedelta(days=9), policy) == []


def test_configuration_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({
        "sla": {"ack_minutes": 2, "resolve_minutes": {"simple": 10}, "type_class": {"littering": "simple"}},
        "residents": {"door_quiet_minutes": 5, "reminder_hours": 6},
        "sensors": {"thresholds": [{"metric": "co2", "above": 2000, "severity": "minor"}], "offline_factor": 5},
        "webhooks": {"max_attempts": 3},
    }), encoding="utf-8")
    cfg = AlertsConfig.load(path)
    assert cfg.sla.deadlines("littering", T0) == (T0 + timedelta(minutes=2), T0 + timedelta(minutes=10))
    assert cfg.sla.resolve_within["complex"] == timedelta(days=2)
    assert cfg.rules.presence.door_quiet == timedelta(minutes=5)
    assert cfg.rules.reminder_every == timedelta(hours=6)
    # the older ``thresholds`` key replaces every rule of the profile but the e-bike pattern
    assert [(t.metric, t.type, t.severity, t.title) for t in cfg.sensors.profile.rules
            if t.type != "ebike_charging"] == [("co2", "co2", "minor", "co2 too high")]
    assert cfg.sensors.offline_factor == 5.0
    assert cfg.retry == RetryPolicy(max_attempts=3)
    assert AlertsConfig.load(None) == AlertsConfig()
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValueError, match="mapping"):
        AlertsConfig.load(bad)


def test_retry_delays_grow_are_jittered_capped_and_yield_to_retry_after() -> None:
    policy = RetryPolicy(base_s=2, cap_s=60, max_attempts=4)
    rng = random.Random(1)
    delays = [policy.delay(n, rng=rng) for n in range(1, 8)]
    assert all(2 * 2 ** (n - 1) * 0.5 <= d <= min(60, 2 * 2 ** (n - 1)) for n, d in enumerate(delays, 1) if n < 6)
    assert max(delays) <= 60
    assert policy.delay(1, retry_after_s=300, rng=rng) == 300
    assert (policy.gives_up(3), policy.gives_up(4)) == (False, True)
