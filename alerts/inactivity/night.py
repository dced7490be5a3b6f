"""The night as a clock time: when the resident gets up.

A night's silence ends at a fairly regular time of day, whatever time it began: a night begun at 22:00 and one
begun at 23:30 usually end at about the same hour, so its upper tail is better told by the clock than by the
spell's length. ``NightLog`` keeps, per day type of the morning, forgetting-weighted moments of the wake-up and
the latest wake-up in the learning window. The wake-up is the end of the night's sleep: a spell of at least
``NIGHT_SPELL_MIN`` begun between ``NIGHT_FROM_H`` and ``NIGHT_TO_H`` opens it (or a later one, while it has not
reached the morning, ``WAKE_FROM_H``), and spells of at least ``CHAIN_SPELL_MIN`` begun within ``CHAIN_GAP_MIN``
of its end continue it (a bathroom visit between two spells of sleep); a spell begun after a longer waking (a
morning bath, a lie-in after breakfast) is not the night. O(1) per learnt spell: a night is folded in once its
morning is over (the first spell learnt after ``NIGHT_TO_H``).

Reading: a location-scale fit with the Student-t *prediction* bound for one more night (mean + t(n-1) x sd x
sqrt(1 + 1/n), n = the effective number of nights), so the tail widens while few nights are known rather than
stopping at the latest one seen. Clock times are in *night hours*: hours since noon of the evening's local date
(22:30 = 22.5, 07:15 next morning = 31.25).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from statistics import NormalDist
from typing import Any, overload

import numpy as np
import numpy.typing as npt

NIGHT_FROM_H = 18.0  # a night spell begins between 18:00 ...
NIGHT_TO_H = 33.0  # ... and 09:00 the next morning (night hours)
NIGHT_SPELL_MIN = 60.0  # shorter spells are an evening's or a morning's pauses, not the night
WAKE_FROM_H = 27.0  # a night whose last spell ended before 03:00 has no wake-up to learn,
WAKE_TO_H = 36.0  # ... nor one whose silence lasted past noon (an absence or an outage, not a night's sleep)
MAX_SD_H = 1.0  # wake-ups more spread than this are no regular night: the hour's spells decide alone
CHAIN_SPELL_MIN = 45.0  # a spell this long begun soon after the sleep's end continues it
CHAIN_GAP_MIN = 15.0  # ... "soon": the longest waking counted as a visit, not as getting up
EARLY_SD = 2.5  # a wake-up this many sd before the mean is a visit whose sleep after it went unseen: not learnt
MIN_NIGHTS = 5.0  # effective nights needed (own day type, else both pooled) before the clock model applies
REACH_H = 2.0  # an hour threshold reaching this close to the usual wake-up already takes the silence for sleep
EXTEND_MAX_MIN = 15.0  # ... and moves it later by at most this much (earlier, to the bound, without limit)
SD_FLOOR_H = 0.25  # no night is assumed more regular than a 15 min standard deviation
USUAL_LEVEL = 0.1  # "usually up by": 90 % of the predictive distribution
PRIOR_SLEEP_H = 8.0  # the visit rate's prior: one night of this many hours without a waking
_W, _S1, _S2, _W2 = range(4)
_NORMAL = NormalDist()


@overload
def in_night(clock_h: float) -> bool: ...
@overload
def in_night(clock_h: npt.NDArray[Any]) -> npt.NDArray[np.bool_]: ...
def in_night(clock_h: float | npt.NDArray[Any]) -> bool | npt.NDArray[np.bool_]:
    """Whether a clock hour (0-24; a number or an array of them) lies in the night window, 18:00-09:00."""
    return (clock_h >= NIGHT_FROM_H) | (clock_h < NIGHT_TO_H - 24.0)


def night_hours(local: datetime) -> tuple[int, float]:
    """(ordinal of the night's evening date, night hours) of a local time: before noon belongs to last evening."""
    hours = local.hour + local.minute / 60.0 + (local.second + local.microsecond / 1e6) / 3600.0
    if hours < 12.0:
        return local.toordinal() - 1, hours + 24.0
    return local.toordinal(), hours


def day_type_of(ordinal: int) -> int:
    """0 = Monday..Friday, 1 = Saturday, Sunday, of a date ordinal (ordinal 1 was a Monday)."""
    return 1 if (ordinal - 1) % 7 >= 5 else 0


def t_quantile(p: float, nu: float) -> float:
    """The Student-t quantile (Cornish-Fisher expansion to nu^-3; within about 2 % for nu >= 3)."""
    z = _NORMAL.inv_cdf(p)
    g1 = (z ** 3 + z) / 4.0
    g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96.0
    g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384.0
    return z + g1 / nu + g2 / nu ** 2 + g3 / nu ** 3


@dataclass(frozen=True)
class ClockFit:
    """A fitted clock time (night hours): mean, spread, the effective number of nights, and whether it pooled."""

    mean: float
    sd: float
    nights: float
    pooled: bool

    def upper(self, alpha: float) -> float:
        """The time one more night exceeds with probability ``alpha`` (prediction bound)."""
        return self.mean + self._k(alpha)

    def lower(self, alpha: float) -> float:
        """The time one more night falls before with probability ``alpha``."""
        return self.mean - self._k(alpha)

    def _k(self, alpha: float) -> float:
        return t_quantile(1.0 - alpha, self.nights - 1.0) * self.sd * math.sqrt(1.0 + 1.0 / self.nights)


@dataclass(frozen=True)
class NightView:
    """What the model says about the night a silence falls in (bounds at the rule's tail probability)."""

    day_type: int  # of the morning
    usual_wake: float  # 90 % of wake-ups by then
    mean_wake: float
    wake_bound: float  # a wake-up later than this has probability alpha
    latest_wake: float | None  # the latest wake-up of this day type in the learning window
    nights: float
    pooled: bool
    scale: float  # of the predictive Student-t: sd x sqrt(1 + 1/n)
    alpha: float  # the tail probability the bound is for
    visit_rate: float  # wakings per hour of sleep

    def quiet_until(self, start_h: float) -> float:
        """Night hours at which a silence begun at ``start_h`` becomes improbable: P(no waking since then) x
        P(not yet up) = alpha, with wakings a Poisson process at ``visit_rate`` (fixed point from the bound).
        """
        x = self.wake_bound
        for _ in range(8):
            level = min(0.5, self.alpha * math.exp(self.visit_rate * max(0.0, x - start_h)))
            x = self.mean_wake + t_quantile(1.0 - level, self.nights - 1.0) * self.scale
        return max(x, start_h)

    def survival(self, start_h: float, now_h: float) -> float:
        """P(a silence begun at ``start_h`` goes on past ``now_h``) under the same model."""
        tail = wake_tail(self, now_h) / max(wake_tail(self, start_h), 1e-12)
        return min(1.0, tail * math.exp(-self.visit_rate * max(0.0, now_h - start_h)))


class NightLog:
    """Wake-up moments per day type, the latest wake-up, and the night being observed."""

    __slots__ = ("bed", "latest", "pending", "sleep", "stats")

    def __init__(self) -> None:
        self.stats = np.zeros((2, 4), dtype=np.float64)  # per morning day type: W S1 S2 W2 of the wake-up
        self.bed = np.zeros((2, 4), dtype=np.float64)  # the same moments of the bedtime (the sleep's start)
        self.latest = np.zeros((2, 2), dtype=np.float64)  # per morning day type: wake night hours, epoch day
        self.sleep = np.zeros(2, dtype=np.float64)  # weighted visits, weighted hours of sleep
        # evening ordinal, wake-up so far (night hours), its epoch day, start of the sleep, visits in it
        self.pending = np.full(5, np.nan)

    # ---- learning

    def step(self, start_local: datetime, minutes: float, end_day: float, ref_day: float, tau: float) -> None:
        """One learnt quiet spell (local start, length, epoch day of its end): close the last night if its
        morning is over, then extend the current one.
        """
        ordinal, start_h = night_hours(start_local)
        at = ordinal * 24.0 + start_h
        p = self.pending
        if not math.isnan(p[0]) and at >= p[0] * 24.0 + NIGHT_TO_H:
            self._commit(ref_day, tau)
        if not NIGHT_FROM_H <= start_h < NIGHT_TO_H:
            return
        open_ = math.isnan(p[0])
        continues = not open_ and minutes >= CHAIN_SPELL_MIN and start_h - p[1] <= CHAIN_GAP_MIN / 60.0
        opens = minutes >= NIGHT_SPELL_MIN and (open_ or p[1] < WAKE_FROM_H)
        if continues:
            p[1:4] = (start_h + minutes / 60.0, end_day, p[3])
            p[4] += 1.0
        elif opens:
            p[:] = (ordinal, start_h + minutes / 60.0, end_day, start_h, 0.0)

    def _commit(self, ref_day: float, tau: float) -> None:
        ordinal, wake, wake_day, asleep, visits = (float(v) for v in self.pending)
        self.pending[:] = np.nan
        if not WAKE_FROM_H <= wake < WAKE_TO_H:
            return
        morning = day_type_of(int(ordinal) + 1)
        known = self.fit(morning)
        if known is not None and wake < known.mean - EARLY_SD * known.sd:
            return  # too early to tell from a visit; it cannot raise a false alarm, so it need not widen the bound
        weight = math.exp((wake_day - ref_day) / tau)
        for s, x in ((self.stats[morning], wake), (self.bed[morning], asleep)):
            s[_W] += weight
            s[_S1] += weight * x
            s[_S2] += weight * x * x
            s[_W2] += weight * weight
        self.sleep += (weight * visits, weight * (wake - asleep))
        if wake > self.latest[morning, 0] or wake_day - self.latest[morning, 1] > tau:
            self.latest[morning] = (wake, wake_day)

    def rescale(self, factor: float) -> None:
        """Follow the routine model's renormalisation of the growing weights."""
        for moments in (self.stats, self.bed):
            moments[..., :3] *= factor
            moments[..., 3] *= factor * factor
        self.sleep *= factor

    # ---- reading

    def fit(self, dtype: int) -> ClockFit | None:
        """The day type's own fit of the wake-up, else both day types pooled, else None (too few nights)."""
        return _fit(self.stats, dtype)

    def bed_fit(self, dtype: int) -> ClockFit | None:
        """The same fit of the bedtime (night hours at which the night's sleep began)."""
        return _fit(self.bed, dtype)

    def visit_rate(self) -> float:
        """Wakings (bathroom visits) per hour of sleep; the prior is one night of ``PRIOR_SLEEP_H`` without any."""
        return float(self.sleep[0]) / (float(self.sleep[1]) + PRIOR_SLEEP_H)

    def view(self, morning_type: int, alpha: float, now_day: float, tau: float) -> NightView | None:
        """The night's bounds at tail probability ``alpha``, or None while too few nights are known."""
        wake = self.fit(morning_type)
        if wake is None or wake.sd > MAX_SD_H:
            return None
        rows = (0, 1) if wake.pooled else (morning_type,)
        recent = [float(self.latest[d, 0]) for d in rows
                  if self.latest[d, 0] > 0 and now_day - float(self.latest[d, 1]) <= tau]
        return NightView(morning_type, wake.upper(USUAL_LEVEL), wake.mean, wake.upper(alpha),
                         max(recent) if recent else None, wake.nights, wake.pooled,
                         wake.sd * math.sqrt(1.0 + 1.0 / wake.nights), alpha, self.visit_rate())

    # ---- persistence

    def arrays(self) -> list[npt.NDArray[np.float64]]:
        """The arrays of the persisted image, in order."""
        return [self.stats, self.latest, self.sleep, self.pending, self.bed]

    SIZE_V2 = (8 + 4 + 2 + 5) * 8  # images of version 2 had no bedtime moments
    SIZE = SIZE_V2 + 8 * 8

    @classmethod
    def from_buffer(cls, raw: bytes) -> NightLog:
        """The log of ``arrays()`` written as bytes (``SIZE`` of them, or ``SIZE_V2``: no bedtimes learnt)."""
        values = np.frombuffer(raw, dtype=np.float64)
        log = cls()
        log.stats = values[:8].reshape(2, 4).copy()
        log.latest = values[8:12].reshape(2, 2).copy()
        log.sleep = values[12:14].copy()
        log.pending = values[14:19].copy()
        if values.size >= 27:
            log.bed = values[19:27].reshape(2, 4).copy()
        return log


def _fit(moments: npt.NDArray[np.float64], dtype: int) -> ClockFit | None:
    """A day type's own location-scale fit of a clock time, else both day types pooled, else None."""
    for pooled, s in ((False, moments[dtype]), (True, moments.sum(axis=0))):
        w, s1, s2, w2 = (float(v) for v in s)
        nights = w * w / w2 if w2 > 0 else 0.0
        if nights < MIN_NIGHTS:
            continue
        mean = s1 / w
        var = max(s2 / w - mean * mean, 0.0) * nights / (nights - 1.0)
        return ClockFit(mean, max(math.sqrt(var), SD_FLOOR_H), nights, pooled)
    return None


def night_threshold(view: NightView, start_h: float, hour_minutes: float, min_minutes: float,
                    max_minutes: float) -> float | None:
    """Minutes for a silence begun at ``start_h`` night hours, or None when the night model does not apply.

    The night model re-times only what the hour's own threshold (``hour_minutes``) already takes for sleep: a
    silence begun between ``NIGHT_FROM_H`` and the usual wake-up whose hour threshold reaches within ``REACH_H``
    of the usual wake-up raises when the night model makes it improbable (``NightView.quiet_until``: at least
    ``min_minutes``): earlier than the hour's threshold when that waits past the bound (a late bedtime), later
    by at most ``EXTEND_MAX_MIN`` when it would raise before it (a night a little longer than every night
    learnt). An evening pause (an hour threshold ending well before the morning) keeps the hour's threshold, so
    the delay for a fall in the evening stays what it was. From the usual wake-up to the bound the longer of the
    two applies.
    """
    if not NIGHT_FROM_H <= start_h < view.wake_bound:
        return None
    if start_h + hour_minutes / 60.0 < view.mean_wake - REACH_H:
        return None
    to_bound = (view.quiet_until(start_h) - start_h) * 60.0
    if start_h < view.mean_wake:
        return min(max(min(to_bound, hour_minutes + EXTEND_MAX_MIN), min_minutes), max_minutes)
    return min(max(to_bound, hour_minutes), max_minutes)


def wake_tail(view: NightView, x: float) -> float:
    """P(a wake-up later than ``x`` night hours) under the predictive Student-t (by bisection on its quantile)."""
    z = (x - view.mean_wake) / view.scale
    if z == 0:
        return 0.5
    lo, hi = 1e-12, 0.5  # tail probabilities; t_quantile(1 - p) falls as p grows
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        if t_quantile(1.0 - mid, view.nights - 1.0) > abs(z):
            lo = mid
        else:
            hi = mid
    tail = math.sqrt(lo * hi)
    return tail if z > 0 else 1.0 - tail


def clock_of(hours: float) -> str:
    """Night hours as a local clock time, "HH:MM"."""
    minutes = round(hours * 60.0) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
