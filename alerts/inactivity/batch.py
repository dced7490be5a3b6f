"""Learning a whole history at once: the backfill when the rule is first switched on for an estate.

``learn_history`` folds every quiet spell of a resident's time-ordered signs of life into a ``RoutineModel`` with
whole-array operations (gaps, buckets and forgetting weights in numpy, one ``np.add.at`` into the histogram); the
local hour of each spell is looked up once per distinct UTC hour, so time zones with daylight saving stay right.
The histogram and the night log equal what ``RoutineModel.learn`` builds event by event (the night log up to
the scale of its weights); the record per hour is the longest spell ending within the learning window of the
last one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo

import numpy as np

from alerts.inactivity.model import _EDGES, _RESCALE_AT, MIN_SPELL_MIN, RoutineModel
from alerts.inactivity.night import CHAIN_SPELL_MIN, in_night


def _slots(starts: np.ndarray, tz: tzinfo) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(day type, local hour, UTC offset in seconds) per start (epoch seconds), once per distinct UTC hour."""
    hours = np.floor(starts / 3600.0).astype(np.int64)
    unique, inverse = np.unique(hours, return_inverse=True)
    dtype = np.empty(unique.size, dtype=np.int64)
    local_hour = np.empty(unique.size, dtype=np.int64)
    offset = np.empty(unique.size, dtype=np.float64)
    for i, h in enumerate(unique.tolist()):
        local = datetime.fromtimestamp(h * 3600, UTC).astimezone(tz)
        dtype[i] = 1 if local.weekday() >= 5 else 0
        local_hour[i] = local.hour
        gap = local.utcoffset()
        offset[i] = gap.total_seconds() if gap is not None else 0.0
    return dtype[inverse], local_hour[inverse], offset[inverse]


def learn_history(model: RoutineModel, signs: Sequence[datetime], tz: tzinfo,
                  slots: Sequence[int | None] | None = None) -> int:
    """Learn every spell between consecutive ``signs`` (time-ordered, at home); return how many counted.
    ``slots``: per sign, its ``alerts.inactivity.place.sign_slot`` (None = unknown), for the last-sign counts.
    """
    if not signs:
        return 0
    model.seen(signs[0])
    model.seen(signs[-1])
    ts = np.array([s.timestamp() for s in signs], dtype=np.float64)
    if np.any(np.diff(ts) < 0):
        raise ValueError("signs of life must be in time order")
    starts, ends = ts[:-1], ts[1:]
    minutes = (ends - starts) / 60.0
    keep = minutes >= MIN_SPELL_MIN
    sign = None
    if slots is not None:
        if len(slots) != len(signs):
            raise ValueError("one slot per sign of life")
        sign = np.array([-1 if x is None else x for x in slots[:-1]], dtype=np.int64)[keep]
    starts, ends, minutes = starts[keep], ends[keep], minutes[keep]
    if starts.size == 0:
        return 0
    dtype, hour, offset = _slots(starts, tz)
    bucket = np.searchsorted(_EDGES, minutes, side="right") - 1
    days = starts / 86400.0
    if model.ref_day is None:
        model.ref_day = float(days[0])
    exponent = (days - model.ref_day) / model.tau_days
    if float(exponent.max()) > _RESCALE_AT:
        newest = float(days.max())
        model.rescale(math.exp(-(newest - model.ref_day) / model.tau_days))
        model.ref_day = newest
        exponent = (days - newest) / model.tau_days
    weights = np.exp(exponent)
    hist = model.hist.astype(np.float64)
    np.add.at(hist, (dtype, hour, bucket), weights)
    model.hist = hist.astype(np.float32)
    if sign is not None:
        night = in_night(hour) & (sign >= 0)
        model.place.add(sign[night], minutes[night], weights[night])
    end_days = ends / 86400.0
    _learn_records(model, dtype * 24 + hour, minutes, end_days)
    _learn_nights(model, starts + offset, minutes, end_days)
    return int(starts.size)


def _learn_records(model: RoutineModel, slot: np.ndarray, minutes: np.ndarray, end_days: np.ndarray) -> None:
    """The longest spell per (day type, hour) among those ending within the window of the last one."""
    recent = end_days >= end_days.max() - model.tau_days
    for s in np.unique(slot[recent]).tolist():
        mask = recent & (slot == s)
        best = int(np.argmax(np.where(mask, minutes, -1.0)))
        d, h = divmod(s, 24)
        if minutes[best] > model.longest[d, h] or end_days[best] - model.longest_day[d, h] > model.tau_days:
            model.longest[d, h] = minutes[best]
            model.longest_day[d, h] = end_days[best]


def _learn_nights(model: RoutineModel, local_ts: np.ndarray, minutes: np.ndarray, end_days: np.ndarray) -> None:
    """The night log, from the spells that can be part of a night (and the last spell, which may close one)."""
    clock_h = (local_ts % 86400.0) / 3600.0
    may = in_night(clock_h) & (minutes >= CHAIN_SPELL_MIN)
    may[-1] = True
    ref = model.ref_day if model.ref_day is not None else float(end_days[0])
    for i in np.flatnonzero(may).tolist():
        wall = datetime.fromtimestamp(float(local_ts[i]), UTC)  # the local wall clock, written as UTC
        model.night.step(wall, float(minutes[i]), float(end_days[i]), ref, model.tau_days)
