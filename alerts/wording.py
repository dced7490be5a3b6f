"""Durations and clock times in words for people: "26 h 10 min", "since 08:42 yesterday (UTC+8)".

Pure and shared by every resident alert (titles, explanations, the reasons an alert closed itself), so staff read
one way of writing time everywhere, always in the estate's zone (``EW_TIMEZONE``) and labelled with its offset.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo


def duration(minutes: float) -> str:
    """``3 h 10 min``, ``50 min``, ``2 h``, ``3 d 4 h``; rounded to the minute, seconds only under a minute."""
    if 0 < minutes < 1:
        return f"{max(1, round(minutes * 60))} s"
    total = max(0, round(minutes))
    hours, mins = divmod(total, 60)
    if hours >= 72:  # past three days the minutes are noise
        days, hours = divmod(round(total / 60), 24)
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours and mins:
        return f"{hours} h {mins} min"
    if hours:
        return f"{hours} h"
    return f"{mins} min"


def span(delta: timedelta) -> str:
    """A ``timedelta`` in words (see ``duration``)."""
    return duration(delta.total_seconds() / 60.0)


def zone_label(when: datetime, tz: tzinfo) -> str:
    """The zone's offset at ``when`` as a label: ``UTC+8``, ``UTC-3:30``, ``UTC``."""
    offset = when.astimezone(tz).utcoffset() or timedelta(0)
    minutes = round(offset.total_seconds() / 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{mins:02d}" if mins else "")


def clock(when: datetime, now: datetime, tz: tzinfo) -> str:
    """``09:42`` on the same local day as ``now``, ``09:42 yesterday``, ``Sat 09:42`` within the week before,
    otherwise ``2 Mar 09:42``.
    """
    local, today = when.astimezone(tz), now.astimezone(tz).date()
    days = (today - local.date()).days
    if days == 0:
        return local.strftime("%H:%M")
    if days == 1:
        return local.strftime("%H:%M") + " yesterday"
    if 1 < days < 7:
        return local.strftime("%a %H:%M")
    return f"{local.day} {local.strftime('%b %H:%M')}"


def at(when: datetime, now: datetime, tz: tzinfo) -> str:
    """A clock time with its zone: ``08:42 yesterday (UTC+8)``."""
    return f"{clock(when, now, tz)} ({zone_label(when, tz)})"


def stamp(when: datetime, tz: tzinfo) -> str:
    """A time that stays true whenever it is read (stored reasons): ``2 Mar 08:42 (UTC+8)``."""
    local = when.astimezone(tz)
    return f"{local.day} {local.strftime('%b %H:%M')} ({zone_label(when, tz)})"


def since(when: datetime, now: datetime, tz: tzinfo) -> str:
    """``since 08:42 yesterday (UTC+8)``."""
    return "since " + at(when, now, tz)
