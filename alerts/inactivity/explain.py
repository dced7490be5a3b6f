"""The no_activity alert's reason in words for staff, in estate local time (durations and clock times come from
``alerts.wording``, as for every resident alert).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from alerts.wording import clock, duration

__all__ = ["WakeWords", "clock", "duration", "explanation"]  # the words live in alerts.wording, shared by every rule


@dataclass(frozen=True)
class WakeWords:
    """What the night model says, in words: for which days, the usual wake-up and the latest one ("HH:MM")."""

    days: str
    usual: str
    latest: str | None
    bedtime: str | None = None  # set when the silence may be the night begun early: the usual bedtime ...
    asleep_share: float = 0.0  # ... and the probability that a silence begun then is the night
    after_sign: bool = False  # ... which the sign that began the silence moved (``alerts.inactivity.place``)


def explanation(*, since: datetime, now: datetime, tz: tzinfo, day_type: str, usual_min: float,
                longest_min: float | None, window_days: float, cold: bool, cold_hours: float,
                history_days: float, cold_days: float, counted_from: datetime | None = None,
                unconfirmed: bool = False, wake: WakeWords | None = None) -> str:
    """The alert's one-line reason, e.g. "no activity since 09:42 (3 h 10 min); on weekdays at this hour this
    resident is usually active within 50 min (the longest quiet spell in 30 days: 1 h 35 min)"; for a silence the
    night model judged (``wake``): "...; on weekdays this resident usually gets up by 07:20 (the latest in 30
    days: 07:48)"; for one that may be the night begun early (``wake.bedtime``): "...; this resident may have gone
    to bed (about 21% of the quiet spells begun at this time are the night; on weekdays usually to bed about
    23:34) and usually gets up by 09:11 (the latest in 30 days: 09:00)".
    """
    quiet = (now - since).total_seconds() / 60.0
    text = f"no activity since {clock(since, now, tz)} ({duration(quiet)})"
    if counted_from is not None and counted_from > since:
        text += f", counted from {clock(counted_from, now, tz)} (quiet hours or an away period before that)"
    if unconfirmed:
        return (text + "; the last sign came while the resident was thought to be out and not after the flat door,"
                       f" so only the fixed {cold_hours:g} h threshold applies")
    if cold:
        return (text + f"; still learning this resident's routine ({history_days:.0f} of {cold_days:g} days), so a"
                       f" fixed {cold_hours:g} h threshold applies")
    if wake is not None and wake.bedtime is not None:
        after = ", after a last sign like this one," if wake.after_sign else ""
        text += (f"; this resident may have gone to bed (about {wake.asleep_share:.0%} of the quiet spells begun at"
                 f" this time{after} are the night; on {wake.days} usually to bed about {wake.bedtime}) and usually"
                 f" gets up by {wake.usual}")
        return text + (f" (the latest in {window_days:g} days: {wake.latest})" if wake.latest else "")
    if wake is not None:
        text += f"; on {wake.days} this resident usually gets up by {wake.usual}"
        return text + (f" (the latest in {window_days:g} days: {wake.latest})" if wake.latest else "")
    text += f"; on {day_type} at this hour this resident is usually active within {duration(usual_min)}"
    if longest_min is not None:
        text += f" (the longest quiet spell in {window_days:g} days: {duration(longest_min)})"
    return text
