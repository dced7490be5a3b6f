"""Where a silence began: the last sign before it, and how often a silence after that sign has been a long one.

Going to bed leaves a trace in most flats: the bedroom PIR, a bed mat pressed, a bedside lamp's switch. A silence
that begins after such a sign in the evening is likely the night; one that begins after the kitchen tap or the
sofa mat getting up is likely a pause, however late it is. The clock alone cannot tell the two apart (an evening
before bed and the night look the same to it), so the bedtime model (``alerts.inactivity.bedtime``) corrects
its "this may be the night" probability by what the last sign says.

Per resident, for the spells that begin in night hours (18:00-09:00), forgetting-weighted counts per *sign*
(kind and sensor name, hashed into ``SLOTS`` buckets with CRC-32, so the mapping survives restarts): how many
began after it, and how many of those lasted ``LONG_MIN`` or more (as long as the rule's default floor: the
spells the decision is about). Read as a Beta-binomial: P(long | sign) = (long + m q) / (begun + m), with q the
share of long spells after any sign and ``PRIOR_SPELLS`` = m pseudo-spells, and the sign's evidence as the
likelihood ratio odds(P(long | sign)) / odds(q). A sign never seen, or seen a few times, leaves the ratio near 1:
the model then says what it said without signs. The assumption: the sign shifts the odds of "the night" by the
same factor at every night hour.

The evidence is used one way only: a sign can say that a silence is less likely the night than the clock says
(the kitchen at 23:00), never more (the ratio is capped at 1). The clock's share already makes the rule wait for
the night wherever bedtimes are usual; a sign that often begins the night would lengthen that wait, whose cost is
a later alert for a fall, and on the tuning homes it did so without removing a false alarm
(docs/inactivity.md).
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import numpy.typing as npt

SLOTS = 64
LONG_MIN = 120.0
PRIOR_SPELLS = 2.0
MIN_RATIO = 0.02  # a few spells never make a sign certain


def sign_slot(kind: str, sensor: str | None, direction: str | None = None) -> int:
    """The bucket of one sign of life: kind (door / motion / water / access) and the sensor's name."""
    key = f"{kind}:{sensor or ''}:{direction or ''}"
    return zlib.crc32(key.encode("utf-8")) % SLOTS


class PlaceLog:
    """Forgetting-weighted counts of night spells per last sign: ``counts[slot] = (begun, long)``."""

    __slots__ = ("counts",)
    SIZE = SLOTS * 2 * 4

    def __init__(self) -> None:
        self.counts = np.zeros((SLOTS, 2), dtype=np.float32)

    def step(self, slot: int, minutes: float, weight: float) -> None:
        """One spell begun in night hours after the sign of ``slot``."""
        self.counts[slot, 0] += weight
        if minutes >= LONG_MIN:
            self.counts[slot, 1] += weight

    def add(self, slots: npt.NDArray[np.int64], minutes: npt.NDArray[np.float64],
            weights: npt.NDArray[np.float64]) -> None:
        """Many spells at once (the backfill): the same counts as ``step`` one by one."""
        acc = self.counts.astype(np.float64)
        np.add.at(acc[:, 0], slots, weights)
        np.add.at(acc[:, 1], slots, np.where(minutes >= LONG_MIN, weights, 0.0))
        self.counts = acc.astype(np.float32)

    def rescale(self, factor: float) -> None:
        """Follow the routine model's renormalisation of the growing weights."""
        self.counts *= np.float32(factor)

    def ratio(self, slot: int | None) -> float:
        """The likelihood ratio of "a long spell" that a silence begun after this sign carries, at most 1
        (1 = no news, or a sign that often begins the night: see the module's note).
        """
        if slot is None:
            return 1.0
        c = self.counts.astype(np.float64)
        begun, long_ = float(c[:, 0].sum()), float(c[:, 1].sum())
        if not 0.0 < long_ < begun:
            return 1.0  # no long spell yet, or only long ones: no sign tells them apart
        q = long_ / begun
        n, k = float(c[slot, 0]), float(c[slot, 1])
        r = (k + PRIOR_SPELLS * q) / (n + PRIOR_SPELLS)
        lr = (r / (1.0 - r)) / (q / (1.0 - q))
        if abs(lr - 1.0) < 1e-6:
            return 1.0  # one sign for everything (a single sensor) carries no news
        return min(max(lr, MIN_RATIO), 1.0)

    def to_bytes(self) -> bytes:
        """The counts as bytes (``SIZE`` of them)."""
        return self.counts.tobytes()

    @classmethod
    def from_buffer(cls, raw: bytes) -> PlaceLog:
        """The log of ``to_bytes``."""
        log = cls()
        log.counts = np.frombuffer(raw[:cls.SIZE], dtype=np.float32).reshape(SLOTS, 2).copy()
        return log


def shifted_share(share: float, ratio: float) -> float:
    """P(the night) after the last sign's evidence: the odds of ``share`` times the likelihood ratio."""
    if ratio == 1.0 or share <= 0.0:
        return share
    share = min(share, 1.0 - 1e-6)
    odds = share / (1.0 - share) * ratio
    return odds / (1.0 + odds) if math.isfinite(odds) else 1.0
