"""The night as an event with a start and an end: a bedtime and a wake-up, each a learnt clock time.

A resident goes to bed at a variable time, and the silence after going to bed is the night whatever hour it
starts. So a silence begun in the evening or the night is, with some probability ``p``, the night's sleep, and
otherwise an ordinary pause that the hour's spells judge. ``p`` is the rate at which the night's spells begin at
that moment (a bedtime there, from the bedtime's predictive Student-t density, or the sleep resumed after a
bathroom visit: the visit rate x P(asleep then)) over the rate at which the resident's quiet spells of that hour
begin at all; it is 0 before the time by which 10 % of bedtimes have come (earlier is an evening pause, not
"gone to bed early"). As the night, the silence is improbable only once P(not up yet | not up at its start) x
P(no visit since its start) has fallen below alpha / p: the wake-up's predictive bound, which widens with the
spread of the wake-ups and with few nights. The rule raises when the silence is improbable both as a pause (the
hour's threshold) and as the night, so an evening silence consistent with "gone to bed early" waits for the
night's end, and a silence in the day, or one too early in the evening to be a bedtime, keeps the hour's
threshold. The rule uses this where the wake-ups spread too much for the regular night of
``alerts.inactivity.night`` (more than 1 h): households and irregular sleepers. Clock times are night hours
(``alerts.inactivity.night``). All closed form: a few dozen operations per reading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from alerts.inactivity.night import NIGHT_FROM_H, NIGHT_TO_H, USUAL_LEVEL, ClockFit, NightLog, t_quantile
from alerts.inactivity.place import shifted_share

_NORMAL = NormalDist()
_LEVEL_EPS = 1e-9


def t_cdf(x: float, nu: float) -> float:
    """The Student-t distribution function (the normal approximation of t x (1 - 1/(4 nu)) / sqrt(1 + t^2/(2 nu)),
    within about 0.01 for nu >= 4).
    """
    return _NORMAL.cdf(x * (1.0 - 1.0 / (4.0 * nu)) / math.sqrt(1.0 + x * x / (2.0 * nu)))


def t_pdf(x: float, nu: float) -> float:
    """The Student-t density."""
    log_c = math.lgamma((nu + 1.0) / 2.0) - math.lgamma(nu / 2.0) - 0.5 * math.log(nu * math.pi)
    return math.exp(log_c - (nu + 1.0) / 2.0 * math.log1p(x * x / nu))


@dataclass(frozen=True)
class Predictive:
    """The predictive Student-t of one more night's clock time: location, scale sd x sqrt(1 + 1/n), n - 1 d.f."""

    mean: float
    scale: float
    nu: float

    @classmethod
    def of(cls, fit: ClockFit) -> Predictive:
        """The predictive distribution of a fitted clock time."""
        return cls(fit.mean, fit.sd * math.sqrt(1.0 + 1.0 / fit.nights), fit.nights - 1.0)

    def cdf(self, x: float) -> float:
        """P(the clock time is before ``x``)."""
        return t_cdf((x - self.mean) / self.scale, self.nu)

    def pdf(self, x: float) -> float:
        """Density per hour at ``x``."""
        return t_pdf((x - self.mean) / self.scale, self.nu) / self.scale

    def at_tail(self, level: float) -> float:
        """The time exceeded with probability ``level``."""
        level = min(max(level, _LEVEL_EPS), 1.0 - _LEVEL_EPS)
        return self.mean + t_quantile(1.0 - level, self.nu) * self.scale


@dataclass(frozen=True)
class BedView:
    """What the model says about the night of one evening: bedtime, wake-up and the visit rate."""

    day_type: int  # of the morning
    bed: Predictive
    wake: Predictive
    pooled: bool  # one of the two fits pooled both day types
    usual_wake: float  # 90 % of wake-ups by then
    latest_wake: float | None  # the latest wake-up of this day type in the learning window
    visit_rate: float  # wakings per hour of sleep

    def night_share(self, start_h: float, spell_rate: float) -> float:
        """P(a quiet spell begun at ``start_h`` is the night's), given ``spell_rate`` spells per day per hour
        beginning then: (bedtimes + sleep resumed after a visit) per hour, over all spells per hour; 0 before the
        predictive time by which 10 % of bedtimes have come (``USUAL_LEVEL``).
        """
        if not NIGHT_FROM_H <= start_h < NIGHT_TO_H or start_h < self.bed.at_tail(1.0 - USUAL_LEVEL):
            return 0.0  # before 10 % of bedtimes have come: too early to be taken for "gone to bed early"
        asleep = self.bed.cdf(start_h) * (1.0 - self.wake.cdf(start_h))
        rate = self.bed.pdf(start_h) + self.visit_rate * asleep
        return rate / max(spell_rate, rate, 1e-12)

    def night_survival(self, start_h: float, now_h: float) -> float:
        """P(a night's silence begun at ``start_h`` goes on past ``now_h``): not up yet and no visit."""
        up_before = 1.0 - self.wake.cdf(start_h)
        tail = (1.0 - self.wake.cdf(now_h)) / max(up_before, 1e-12)
        return min(1.0, tail * math.exp(-self.visit_rate * max(0.0, now_h - start_h)))

    def quiet_until(self, start_h: float, level: float) -> float:
        """Night hours at which the night's survival from ``start_h`` falls to ``level`` (fixed point)."""
        up_before = 1.0 - self.wake.cdf(start_h)
        x = self.wake.mean
        for _ in range(8):
            x = self.wake.at_tail(level * up_before * math.exp(self.visit_rate * max(0.0, x - start_h)))
        return max(x, start_h)


def bed_view(log: NightLog, morning_type: int, now_day: float, tau: float) -> BedView | None:
    """The night's bedtime and wake-up for a morning's day type, or None while too few nights are known."""
    wake, bed = log.fit(morning_type), log.bed_fit(morning_type)
    if wake is None or bed is None:
        return None
    rows = (0, 1) if wake.pooled else (morning_type,)
    recent = [float(log.latest[d, 0]) for d in rows
              if log.latest[d, 0] > 0 and now_day - float(log.latest[d, 1]) <= tau]
    wake_t = Predictive.of(wake)
    return BedView(morning_type, Predictive.of(bed), wake_t, wake.pooled or bed.pooled,
                   wake_t.at_tail(USUAL_LEVEL), max(recent) if recent else None, log.visit_rate())


def bedtime_threshold(view: BedView, start_h: float, spell_rate: float, alpha: float, min_minutes: float,
                      max_minutes: float, sign_ratio: float = 1.0) -> tuple[float, float] | None:
    """(minutes, p) for a silence begun at ``start_h`` judged as possibly the night, or None when it cannot be
    the night at tail probability ``alpha`` (p <= alpha: then only the hour's threshold applies). ``sign_ratio``:
    the evidence of the sign that began the silence (``alerts.inactivity.place``), which shifts the odds of p.
    """
    share = shifted_share(view.night_share(start_h, spell_rate), sign_ratio)
    if share <= alpha:
        return None
    end = view.quiet_until(start_h, alpha / share)
    return min(max((end - start_h) * 60.0, min_minutes), max_minutes), share
