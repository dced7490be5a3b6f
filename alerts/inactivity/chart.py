"""A resident's learnt day for the console's Elders view: per hour, what is usual and when the rule would raise.

JSON-friendly and small (2 day types x 24 hours); personal data of the resident, so the API serves it only to the
roles that see residents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alerts.inactivity.bedtime import bed_view, bedtime_threshold
from alerts.inactivity.model import DAY_TYPES, HOURS, RoutineModel, threshold_minutes
from alerts.inactivity.night import night_threshold
from alerts.inactivity.settings import InactivitySettings


def learnt_day(model: RoutineModel, settings: InactivitySettings, now: datetime) -> dict[str, Any]:
    """{"cold_start", "history_days", "spells_per_day", "weekdays": [...24], "weekends": [...24]}; each hour:
    ``usual_min`` (90 % of quiet spells begun then end within), ``threshold_min`` (a silence begun then raises
    after), ``longest_min`` (in the learning window) and ``spells`` (how much the hour has been seen). For a
    silence beginning at the hour's start; where the night model re-times it (``alerts.inactivity.night``, else
    ``alerts.inactivity.bedtime`` when the hour may be a bedtime), the threshold is the night's (the night read
    with the bedtimes and wake-ups of the same day type); ``usual_min`` is always the hour's own 90th percentile.
    """
    history = model.history_days(now)
    out: dict[str, Any] = {"cold_start": history < settings.cold_start_days, "history_days": round(history, 1),
                           "spells_per_day": round(model.spells_per_day(now), 1),
                           "learning_window_days": settings.learning_window_days}
    for dtype, name in enumerate(DAY_TYPES):
        hours = []
        for hour in range(HOURS):
            minutes, view, _, alpha = threshold_minutes(model, settings, dtype, hour, now)
            night = model.night.view(dtype, alpha, now.timestamp() / 86400.0, model.tau_days)
            bed = bed_view(model.night, dtype, now.timestamp() / 86400.0, model.tau_days)
            start_h = hour + 24.0 if hour < 12 else float(hour)
            at_night = None if night is None else night_threshold(
                night, start_h, minutes, settings.min_hours * 60.0, settings.max_hours * 60.0)
            if at_night is not None:
                minutes = at_night
            elif night is None and bed is not None:
                as_night = bedtime_threshold(bed, start_h, model.spell_rate(dtype, hour, now), alpha,
                                             settings.min_hours * 60.0, settings.max_hours * 60.0)
                minutes = max(minutes, as_night[0]) if as_night is not None else minutes
            hours.append({"hour": hour, "usual_min": round(view.usual_min, 1), "threshold_min": round(minutes, 1),
                          "longest_min": None if view.longest_min is None else round(view.longest_min, 1),
                          "spells": round(view.spells, 2)})
        out[name] = hours
    return out
