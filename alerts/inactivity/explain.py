"""Words for staff: durations and clock times as the alert and the console show them (estate local time)."""

from __future__ import annotations

from datetime import datetime, tzinfo


def duration(minutes: float) -> str:
    """``3 h 10 min``, ``50 min``, ``2 h``; rounded to the minute."""
    total = max(0, round(minutes))
    hours, mins = divmod(total, 60)
    if hours and mins:
        return f"{hours} h {mins} min"
    if hours:
        return f"{hours} h"
    return f"{mins} min"


def clock(when: datetime, now: datetime, tz: tzinfo) -> str:
    """``09:42`` on the same local day as ``now``, otherwise with the weekday: ``Sat 21:40``."""
    local, today = when.astimezone(tz), now.astimezone(tz)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    return local.strftime("%a %H:%M")


def explanation(*, since: datetime, now: datetime, tz: tzinfo, day_type: str, usual_min: float,
                longest_min: float | None, window_days: float, cold: bool, cold_hours: float,
                history_days: float, cold_days: float, counted_from: datetime | None = None) -> str:
    """The alert's one-line reason, e.g. "no activity since 09:42 (3 h 10 min); on weekdays at this hour this
    resident is usually active within 50 min (the longest quiet spell in 30 days: 1 h 35 min)".
    """
    quiet = (now - since).total_seconds() / 60.0
    text = f"no activity since {clock(since, now, tz)} ({duration(quiet)})"
    if counted_from is not None and counted_from > since:
        text += f", counted from {clock(counted_from, now, tz)} (quiet hours or an away period before that)"
    if cold:
        return (text + f"; still learning this resident's routine ({history_days:.0f} of {cold_days:g} days), so a"
                       f" fixed {cold_hours:g} h threshold applies")
    text += f"; on {day_type} at this hour this resident is usually active within {duration(usual_min)}"
    if longest_min is not None:
        text += f" (the longest quiet spell in {window_days:g} days: {duration(longest_min)})"
    return text
