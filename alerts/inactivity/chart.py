"""A resident's learnt day for the console's Elders view: per hour, what is usual and when the rule would raise.

JSON-friendly and small (2 day types x 24 hours); personal data of the resident, so the API serves it only to the
roles that see residents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alerts.inactivity.model import DAY_TYPES, HOURS, RoutineModel, threshold_minutes
from alerts.inactivity.settings import InactivitySettings


def learnt_day(model: RoutineModel, settings: InactivitySettings, now: datetime) -> dict[str, Any]:
    """{"cold_start", "history_days", "spells_per_day", "weekdays": [...24], "weekends": [...24]}; each hour:
    ``usual_min`` (90 % of quiet spells begun then end within), ``threshold_min`` (a silence begun then raises
    after), ``longest_min`` (in the learning window) and ``spells`` (how much the hour has been seen).
    """
    history = model.history_days(now)
    out: dict[str, Any] = {"cold_start": history < settings.cold_start_days, "history_days": round(history, 1),
                           "spells_per_day": round(model.spells_per_day(now), 1),
                           "learning_window_days": settings.learning_window_days}
    for dtype, name in enumerate(DAY_TYPES):
        hours = []
        for hour in range(HOURS):
            minutes, view, _, _ = threshold_minutes(model, settings, dtype, hour, now)
            hours.append({"hour": hour, "usual_min": round(view.usual_min, 1), "threshold_min": round(minutes, 1),
                          "longest_min": None if view.longest_min is None else round(view.longest_min, 1),
                          "spells": round(view.spells, 2)})
        out[name] = hours
    return out
