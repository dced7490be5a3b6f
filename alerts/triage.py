"""What an alert type puts at stake, so the queue can put life first.

A smoke alarm is urgent because of what it is, not because its SLA ran out: the queue orders by this inherent
priority first and only then by severity and deadline, so an escalated routine alert (a device offline turned
critical by its missed deadline) never sinks a life-safety alert below it. Pure data, used by the list query and
mirrored by the console (``api/static/js/model.js``; tests/console/test_triage.py checks the two agree).
"""

from __future__ import annotations

from typing import Final, Literal

Priority = Literal["life", "property", "device"]

# Someone may be hurt or in danger now: fire, gas, a resident who may have collapsed, an object thrown from a tower.
LIFE_SAFETY: Final = frozenset({
    "smoke", "fire", "gas", "no_sign_of_life", "no_activity", "resident_collapsed", "fall", "littering",
})
# The estate's equipment itself: it matters, but nobody is in danger because of it.
DEVICE: Final = frozenset({"device_offline", "camera_offline", "camera_silent", "battery_low", "unknown_metric"})
# Everything else (temperature, water leak, e-bike charging, a resident not seen going out, new types) is in between.
TIERS: Final[tuple[Priority, ...]] = ("life", "property", "device")


def priority(alert_type: str) -> Priority:
    """The inherent priority of an alert type; a type nobody classified yet counts as property."""
    if alert_type in LIFE_SAFETY:
        return "life"
    if alert_type in DEVICE:
        return "device"
    return "property"


def ranked_types() -> tuple[list[tuple[int, list[str]]], int]:
    """(rank, types) of the classified tiers and the rank of every other type, lowest rank first in the queue."""
    ranked = [(TIERS.index("life"), sorted(LIFE_SAFETY)), (TIERS.index("device"), sorted(DEVICE))]
    return ranked, TIERS.index("property")
