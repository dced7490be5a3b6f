"""A resident's routine as the lengths of their quiet spells, by hour of day and weekday / weekend.

Pure and online: ``learn`` adds one quiet spell (the time between two signs of life at home) in O(1); nothing is
kept of the events themselves. Per (day type, start hour) the model holds a histogram of spell lengths over
log-spaced buckets, weighted with exponential forgetting (a spell ``learning_window_days`` old weighs e^-1: new
spells get growing weights, renormalised now and then, so no per-bin decay is needed), and the longest spell seen
at that hour within the window, and per last sign how often a night spell after it was long
(``alerts.inactivity.place``). About 5.3 KB per resident in memory (float32), typically about 1 KB serialised.

Reading the model (only when a silence is checked, not per event) smooths each hour with its neighbours and with
the other day type, blends in a weak prior, takes the empirical survival as far as the data reach and an
exponential tail beyond the point where about two spells of the sample remain (its scale: the mean excess over that
point), so a tail probability far below what 30 days can show is still estimated from what they do show.

The night is read apart (``alerts.inactivity.night``): a silence the hour's spells already take for sleep raises
at the wake-up's prediction bound, a clock time, rather than after the hour's spell lengths; where the wake-ups
spread too much for that, a silence that may be the night begun early waits for the night's end
(``alerts.inactivity.bedtime``, from the learnt bedtime and wake-up).
"""

from __future__ import annotations

import math
import struct
import zlib
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, tzinfo

import numpy as np
import numpy.typing as npt

from alerts.inactivity.night import NightLog, NightView, day_type_of, in_night
from alerts.inactivity.place import PlaceLog
from alerts.inactivity.settings import InactivitySettings

EDGES_MIN: tuple[float, ...] = (10, 15, 20, 30, 45, 60, 75, 90, 105, 120, 150, 180, 240, 300, 360, 420, 480, 540,
                                600, 660, 720, 840)  # bucket lower edges
K = len(EDGES_MIN)
HOURS = 24
DAY_TYPES = ("weekdays", "weekends")
MIN_SPELL_MIN = EDGES_MIN[0]  # shorter silences are ordinary activity, not quiet spells
OPEN_TAIL_MIN = 120.0  # assumed mean excess inside the open last bucket (>= 14 h), for interpolation only
_EDGES = np.array(EDGES_MIN, dtype=np.float64)
_UPPER = np.append(_EDGES[1:], _EDGES[-1] + 2 * OPEN_TAIL_MIN)
_REP = np.sqrt(_EDGES * _UPPER)  # a bucket's representative length (geometric centre)
PRIOR_SPELLS = 1.0  # pseudo-spells of the prior per hour
PRIOR_MEAN_MIN = 60.0  # prior spells: 10 min + exponential(60 min), a conservative (long) guess
PRIOR_EXCESS_MIN = 45.0
PRIOR_EXCESS_WEIGHT = 1.0
OTHER_DAY_WEIGHT = (0.15, 0.5)  # weekdays borrow little from weekends; weekends (2 days in 7) borrow more
ANCHOR_SPELLS = 2.0
  # the empirical survival is trusted down to about this many spells of the sample
DAY_SHARE = (5.0 / 7.0, 2.0 / 7.0)  # the share of days of each day type
_RESCALE_AT = 40.0  # renormalise the growing weights before exp() leaves float32's comfortable range
_MAGIC = b"EWRM"
_VERSION = 4  # 2 added the night log, 3 its bedtimes, 4 the last signs (``alerts.inactivity.place``); older
# images still load (no nights / bedtimes / signs learnt yet)
_HEADER = struct.Struct("<4sBBddd")  # magic, version, K, ref_day, first_day, last_day (NaN = none)


def _prior_buckets() -> npt.NDArray[np.float64]:
    def surv(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.exp(-(x - MIN_SPELL_MIN) / PRIOR_MEAN_MIN)

    upper = np.append(_EDGES[1:], np.inf)
    return PRIOR_SPELLS * (surv(_EDGES) - surv(upper))


_PRIOR = _prior_buckets()


def bucket_of(minutes: float) -> int:
    """The histogram bucket of a spell ``minutes`` long (>= MIN_SPELL_MIN)."""
    return bisect_right(EDGES_MIN, minutes) - 1


def slot_of(when: datetime, tz: tzinfo) -> tuple[int, int]:
    """(day type, hour) of an instant in the estate's time zone: 0 = Monday..Friday, 1 = Saturday, Sunday."""
    local = when.astimezone(tz)
    return (1 if local.weekday() >= 5 else 0), local.hour


def _day(when: datetime) -> float:
    return when.timestamp() / 86400.0


@dataclass(frozen=True)
class HourView:
    """What the model says about silences that begin in one (day type, hour)."""

    day_type: int
    hour: int
    spells: float  # forgetting-weighted spells seen at this hour (own data only)
    usual_min: float  # 90th percentile: "usually active within"
    anchor_level: float  # the smallest tail probability the data still show (about 2 spells of the sample)
    anchor_min: float  # the spell length with that tail probability
    excess_min: float  # mean excess above the anchor: the scale of the exponential tail beyond it
    longest_min: float | None  # longest spell that began in this hour, within the learning window

    def survival(self, minutes: float, emp: npt.NDArray[np.float64]) -> float:
        """P(a quiet spell beginning now lasts longer than ``minutes``), given the empirical survival ``emp``."""
        if minutes <= MIN_SPELL_MIN:
            return 1.0
        if minutes > self.anchor_min:
            return self.anchor_level * math.exp(-(minutes - self.anchor_min) / self.excess_min)
        return _interp_survival(minutes, emp)

    def quantile_for(self, alpha: float, emp: npt.NDArray[np.float64]) -> float:
        """The spell length whose tail probability is ``alpha``: empirical down to the anchor, exponential below."""
        if alpha >= self.anchor_level:
            return _quantile(emp, alpha)
        return self.anchor_min + self.excess_min * math.log(self.anchor_level / max(alpha, 1e-12))


def _interp_survival(minutes: float, emp: npt.NDArray[np.float64]) -> float:
    k = bucket_of(minutes)
    lo, hi = _EDGES[k], _UPPER[k]
    s_lo = emp[k]
    s_hi = emp[k + 1] if k + 1 < K else 0.0
    frac = (math.log(minutes) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return float(s_lo + (s_hi - s_lo) * min(1.0, max(0.0, frac)))


def _quantile(emp: npt.NDArray[np.float64], level: float) -> float:
    """Smallest length with survival <= ``level`` (log-linear inside a bucket)."""
    for k in range(K):
        s_lo = float(emp[k])
        s_hi = float(emp[k + 1]) if k + 1 < K else 0.0
        if s_lo <= level:
            return float(_EDGES[k])
        if s_hi <= level:
            frac = (s_lo - level) / (s_lo - s_hi)
            return float(math.exp(math.log(_EDGES[k]) + frac * (math.log(_UPPER[k]) - math.log(_EDGES[k]))))
    return float(_UPPER[-1])


class RoutineModel:
    """One resident's learnt quiet spells. ``tau_days`` is the learning window (exponential forgetting)."""

    __slots__ = ("first_day", "hist", "last_day", "longest", "longest_day", "night", "place", "ref_day", "tau_days")

    def __init__(self, tau_days: float = 30.0) -> None:
        self.tau_days = tau_days
        self.hist = np.zeros((2, HOURS, K), dtype=np.float32)
        self.longest = np.zeros((2, HOURS), dtype=np.float32)  # minutes; 0 = none in the window
        self.longest_day = np.zeros((2, HOURS), dtype=np.float32)  # epoch day the record ended
        self.night = NightLog()
        self.place = PlaceLog()
        self.ref_day: float | None = None
        self.first_day: float | None = None
        self.last_day: float | None = None

    # ---- learning

    def seen(self, when: datetime) -> None:
        """Any sign of the resident (at home or at the gates): the history length counts from the first."""
        day = _day(when)
        if self.first_day is None:
            self.first_day = day
        self.last_day = day if self.last_day is None else max(self.last_day, day)

    def learn(self, start: datetime, end: datetime, tz: tzinfo, sign: int | None = None) -> bool:
        """One quiet spell at home from ``start`` to ``end``; False when too short to count. ``sign``: the
        slot (``alerts.inactivity.place.sign_slot``) of the sign of life that began it, when known.
        """
        minutes = (end - start).total_seconds() / 60.0
        if minutes < MIN_SPELL_MIN:
            return False
        local = start.astimezone(tz)
        dtype, hour = (1 if local.weekday() >= 5 else 0), local.hour
        day = _day(start)
        if self.ref_day is None:
            self.ref_day = day
        exponent = (day - self.ref_day) / self.tau_days
        if exponent > _RESCALE_AT:
            self.rescale(math.exp(-exponent))
            self.ref_day, exponent = day, 0.0
        weight = math.exp(exponent)
        self.hist[dtype, hour, bucket_of(minutes)] += weight
        if sign is not None and in_night(hour):
            self.place.step(sign, minutes, weight)
        end_day = _day(end)
        self.night.step(local, minutes, end_day, self.ref_day, self.tau_days)
        if minutes > self.longest[dtype, hour] or end_day - self.longest_day[dtype, hour] > self.tau_days:
            self.longest[dtype, hour] = minutes
            self.longest_day[dtype, hour] = end_day
        return True

    def rescale(self, factor: float) -> None:
        """Multiply every forgetting weight by ``factor`` (when the reference day moves)."""
        self.hist *= np.float32(factor)
        self.night.rescale(factor)
        self.place.rescale(factor)

    # ---- reading

    def night_view(self, evening_ordinal: int, alpha: float, now: datetime) -> NightView | None:
        """The night that began on the evening of local date ``evening_ordinal``, at tail probability ``alpha``."""
        return self.night.view(day_type_of(evening_ordinal + 1), alpha, _day(now), self.tau_days)

    def history_days(self, now: datetime) -> float:
        """Days since the first sign of the resident: the cold start lasts until enough of them."""
        return 0.0 if self.first_day is None else max(0.0, _day(now) - self.first_day)

    def _scale(self, now: datetime) -> float:
        if self.ref_day is None:
            return 0.0
        return math.exp(-(_day(now) - self.ref_day) / self.tau_days)

    def spells_per_day(self, now: datetime) -> float:
        """Forgetting-weighted quiet spells per day: how many chances a day has to look improbable."""
        history = self.history_days(now)
        if history <= 0:
            return 0.0
        effective = self.tau_days * (1.0 - math.exp(-history / self.tau_days))
        return float(self.hist.sum(dtype=np.float64)) * self._scale(now) / max(effective, 1.0)

    def _counts(self, dtype: int, hour: int, now: datetime) -> tuple[npt.NDArray[np.float64], float]:
        h = self.hist.astype(np.float64)
        own = h[dtype, hour]
        near = h[dtype, (hour - 1) % HOURS] + h[dtype, (hour + 1) % HOURS]
        other = h[1 - dtype, hour]
        scale = self._scale(now)
        counts = (own + 0.5 * near + OTHER_DAY_WEIGHT[dtype] * other) * scale
        return counts, float(own.sum()) * scale

    def spell_rate(self, dtype: int, hour: int, now: datetime) -> float:
        """Quiet spells per day of this day type beginning in this hour (its own, with a quarter of each
        neighbouring hour's, averaged): how often a silence begins then, for the night's share of them.
        """
        history = self.history_days(now)
        days = self.tau_days * (1.0 - math.exp(-history / self.tau_days)) * DAY_SHARE[dtype]
        h = self.hist[dtype]
        seen = float(h[hour].sum()) + 0.25 * float(h[(hour - 1) % HOURS].sum() + h[(hour + 1) % HOURS].sum())
        return seen / 1.5 * self._scale(now) / max(days, 1.0)

    def _longest(self, dtype: int, hour: int, now: datetime) -> float | None:
        day = _day(now)
        best = 0.0
        if day - float(self.longest_day[dtype, hour]) <= self.tau_days:
            best = float(self.longest[dtype, hour])
        return best if best > 0 else None

    def view(self, dtype: int, hour: int, now: datetime) -> tuple[HourView, npt.NDArray[np.float64]]:
        """The hour's summary and its empirical survival at the bucket edges (prior included)."""
        counts, own = self._counts(dtype, hour, now)
        counts = counts + _PRIOR
        total = float(counts.sum())
        tail = np.cumsum(counts[::-1])[::-1]  # spells >= each edge
        emp = tail / total
        usual = _quantile(emp, 0.1)
        level = min(0.1, ANCHOR_SPELLS / total)
        anchor = _quantile(emp, level)
        above = 0.0
        mass = 0.0
        for k in range(K):
            lo, hi = float(_EDGES[k]), float(_UPPER[k])
            if hi <= anchor:
                continue
            if lo >= anchor:
                above += float(counts[k]) * (float(_REP[k]) - anchor)
                mass += float(counts[k])
            else:
                part = float(counts[k]) * (math.log(hi) - math.log(anchor)) / (math.log(hi) - math.log(lo))
                above += part * (hi - anchor) / 2.0
                mass += part
        excess = (above + PRIOR_EXCESS_WEIGHT * PRIOR_EXCESS_MIN) / (mass + PRIOR_EXCESS_WEIGHT)
        longest = self._longest(dtype, hour, now)
        return HourView(dtype, hour, own, usual, level, anchor, excess, longest), emp

    # ---- persistence

    def to_bytes(self) -> bytes:
        """A compact, versioned image (zlib over float32 arrays): what the store keeps per resident."""
        nan = float("nan")
        head = _HEADER.pack(_MAGIC, _VERSION, K, *(v if v is not None else nan
                                                   for v in (self.ref_day, self.first_day, self.last_day)))
        body = b"".join([self.hist.tobytes(), self.longest.tobytes(), self.longest_day.tobytes(),
                         *(a.tobytes() for a in self.night.arrays()), self.place.to_bytes()])
        return head + struct.pack("<f", self.tau_days) + zlib.compress(body, 6)

    @classmethod
    def from_bytes(cls, raw: bytes) -> RoutineModel:
        """The model of a ``to_bytes`` image; a damaged or foreign image raises ValueError."""
        if len(raw) < _HEADER.size + 4:
            raise ValueError("routine model image too short")
        magic, version, k, ref, first, last = _HEADER.unpack_from(raw)
        if magic != _MAGIC or version not in (1, 2, 3, _VERSION) or k != K:
            raise ValueError(f"not a routine model image of version {_VERSION} (magic {magic!r}, v{version}, K={k})")
        (tau,) = struct.unpack_from("<f", raw, _HEADER.size)
        try:
            body = zlib.decompress(raw[_HEADER.size + 4:])
        except zlib.error as exc:
            raise ValueError(f"routine model image is damaged: {exc}") from exc
        n_hist, n_rec = 2 * HOURS * K * 4, 2 * HOURS * 4
        n_night = {1: 0, 2: NightLog.SIZE_V2}.get(version, NightLog.SIZE)
        n_place = PlaceLog.SIZE if version >= 4 else 0
        if len(body) != n_hist + 2 * n_rec + n_night + n_place:
            raise ValueError("routine model image has the wrong size")
        model = cls(float(tau))
        model.hist = np.frombuffer(body[:n_hist], dtype=np.float32).reshape(2, HOURS, K).copy()
        model.longest = np.frombuffer(body[n_hist:n_hist + n_rec], dtype=np.float32).reshape(2, HOURS).copy()
        end = n_hist + 2 * n_rec
        model.longest_day = np.frombuffer(body[n_hist + n_rec:end], dtype=np.float32).reshape(2, HOURS).copy()
        if n_night:
            model.night = NightLog.from_buffer(body[end:end + n_night])
        if n_place:
            model.place = PlaceLog.from_buffer(body[end + n_night:])
        model.ref_day, model.first_day, model.last_day = (None if math.isnan(v) else float(v)
                                                          for v in (ref, first, last))
        return model

    def copy(self) -> RoutineModel:
        """An independent copy (through the persisted image, so the copy is what a restart would load)."""
        return RoutineModel.from_bytes(self.to_bytes())


def threshold_minutes(model: RoutineModel, settings: InactivitySettings, dtype: int, hour: int,
                      now: datetime) -> tuple[float, HourView, npt.NDArray[np.float64], float]:
    """(threshold, hour view, empirical survival, alpha) for a silence that began at (``dtype``, ``hour``).

    The threshold solves survival = alpha, alpha = sensitivity / the resident's quiet spells per day; it is at
    least ``record_margin`` x the longest spell at that hour (by at most ``record_margin_max_min``), and within
    [min_hours, max_hours].
    """
    view, emp = model.view(dtype, hour, now)
    per_day = max(model.spells_per_day(now), 1.0)
    alpha = min(0.1, settings.sensitivity / per_day)
    minutes = view.quantile_for(alpha, emp)
    if view.longest_min is not None:
        guard = min(view.longest_min * settings.record_margin, view.longest_min + settings.record_margin_max_min)
        minutes = max(minutes, guard)
    minutes = min(max(minutes, settings.min_hours * 60.0), settings.max_hours * 60.0)
    return minutes, view, emp, alpha
