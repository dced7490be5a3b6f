"""Settings of the inactivity rule, per estate with per-resident overrides.

Plain values only (JSON-friendly), so the API, the console and the database pass them as dicts; ``merged`` applies
an estate's dict and then a resident's dict over the defaults and rejects what it does not understand.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any


class SettingsError(ValueError):
    """A setting with an unknown name or an impossible value."""


@dataclass(frozen=True)
class InactivitySettings:
    """One resident's effective settings (defaults, then estate, then resident overrides)."""

    enabled: bool = True
    # The nominal tail budget per resident-day: alpha = sensitivity / the resident's quiet spells per day is the
    # tail probability below which a silence counts as improbable. Higher = earlier alerts, more false alarms.
    # Measured false alarms are about a tenth of it (docs/inactivity.md); 0.35 was tuned on simulator seeds 1-3.
    sensitivity: float = 0.35
    learning_window_days: float = 30.0  # exponential forgetting: older routine weighs e^-1 after this many days
    cold_start_days: float = 14.0  # below this much history: fixed thresholds, said so in the alert
    cold_day_hours: float = 8.0  # cold start: a silence that began between 07:00 and 19:00
    cold_night_hours: float = 12.0  # cold start: one that began in the evening or at night
    min_hours: float = 2.0  # never raise on a silence shorter than this
    max_hours: float = 14.0  # always raise on a silence this long (at home, not suspended, outside quiet hours)
    record_margin: float = 1.05  # a learnt threshold is at least this times the longest quiet spell at that hour,
    record_margin_max_min: float = 10.0  # ... but never more than this many minutes above it
    quiet_start_hour: float | None = None  # local hours [start, end): silence there never raises by itself
    quiet_end_hour: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.sensitivity <= 1:
            raise SettingsError("sensitivity must be in (0, 1]")
        if not 1 <= self.learning_window_days <= 365:
            raise SettingsError("learning_window_days must be between 1 and 365")
        if self.cold_start_days < 0:
            raise SettingsError("cold_start_days must not be negative")
        if not 0 < self.min_hours <= self.max_hours <= 36:
            raise SettingsError("need 0 < min_hours <= max_hours <= 36")
        if self.cold_day_hours <= 0 or self.cold_night_hours <= 0:
            raise SettingsError("cold-start thresholds must be positive")
        if self.record_margin < 1 or self.record_margin_max_min < 0:
            raise SettingsError("record_margin must be at least 1 and record_margin_max_min not negative")
        quiet = (self.quiet_start_hour, self.quiet_end_hour)
        if (quiet[0] is None) != (quiet[1] is None):
            raise SettingsError("quiet hours need both quiet_start_hour and quiet_end_hour")
        for hour in quiet:
            if hour is not None and not 0 <= hour < 24:
                raise SettingsError("quiet hours are local hours in [0, 24)")

    @property
    def has_quiet_hours(self) -> bool:
        """Whether quiet hours are set."""
        return self.quiet_start_hour is not None and self.quiet_end_hour is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain values, as the API and the store keep them."""
        return asdict(self)

    def merged(self, *overrides: dict[str, Any] | None) -> InactivitySettings:
        """These settings with each override applied in turn (estate, then resident)."""
        known = {f.name for f in fields(self)}
        current = self
        for raw in overrides:
            if not raw:
                continue
            unknown = sorted(set(raw) - known)
            if unknown:
                raise SettingsError(f"unknown inactivity settings: {', '.join(unknown)}")
            values: dict[str, Any] = {k: _coerce(k, v) for k, v in raw.items()}
            try:
                current = replace(current, **values)
            except (TypeError, ValueError) as exc:
                raise SettingsError(str(exc)) from exc
        return current


def _coerce(name: str, value: object) -> bool | float | None:
    if name == "enabled":
        if not isinstance(value, bool):
            raise SettingsError("enabled must be true or false")
        return value
    if value is None and name in ("quiet_start_hour", "quiet_end_hour"):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingsError(f"{name} must be a number")
    return float(value)
