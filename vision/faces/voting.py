"""One verdict per track from its best frames: the mean similarity decides, the frames must mostly agree.

A passage is named only when the track's mean distance passes the threshold, its runner-up is a margin farther, and
most frames pick the same resident on their own. Anything less is ``unknown``: a wrong name could reset the
not-out timer of a resident who has not gone out, while an unknown passage resets nobody's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from vision.faces.gallery import UNKNOWN, MatchParams, top_two

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class VoteParams:
    """How a track's frames are turned into one verdict."""

    match: MatchParams = field(default_factory=MatchParams)
    min_agree: float = 0.6  # share of frames whose own nearest resident is the winner
    min_frames: int = 1


@dataclass(frozen=True)
class Verdict:
    """A track's outcome: who (or unknown), how sure, and why."""

    person: str  # a resident id, or "unknown"
    candidate: str | None  # nearest resident even when not accepted (kept internal: never published as `person`)
    confidence: float
    distance: float
    runner_up: float
    agree: float
    frames: int
    reason: str  # matched, too_far, ambiguous, disagreement, too_few_frames, empty_gallery


def confidence(distance: float, agree: float, threshold: float) -> float:
    """In [0, 1]: the agreeing share of frames, scaled from 0.5 at the threshold to 1 at distance 0."""
    inside = float(np.clip((threshold - distance) / threshold, -1.0, 1.0))
    return round(float(np.clip(agree * (0.5 + 0.5 * inside), 0.0, 1.0)), 3)


def vote(similarity: F32, people: Sequence[str], params: VoteParams | None = None) -> Verdict:
    """The verdict of one track from its (K, P) similarities (K frames, P residents)."""
    p = params or VoteParams()
    k = int(similarity.shape[0])
    if similarity.shape[1] == 0:
        return Verdict(UNKNOWN, None, 0.0, 2.0, 2.0, 0.0, k, "empty_gallery")
    if k < max(1, p.min_frames):
        return Verdict(UNKNOWN, None, 0.0, 2.0, 2.0, 0.0, k, "too_few_frames")
    mean = similarity.mean(axis=0, keepdims=True).astype(np.float32)
    best, d1, d2 = top_two(mean)
    winner = int(best[0])
    agree = float(np.mean(np.argmax(similarity, axis=1) == winner))
    dist, runner = float(d1[0]), float(d2[0])
    conf = confidence(dist, agree, p.match.threshold)
    cand = people[winner]
    if dist > p.match.threshold:
        return Verdict(UNKNOWN, cand, conf, dist, runner, agree, k, "too_far")
    if runner - dist < p.match.margin:
        return Verdict(UNKNOWN, cand, conf, dist, runner, agree, k, "ambiguous")
    if agree < p.min_agree:
        return Verdict(UNKNOWN, cand, conf, dist, runner, agree, k, "disagreement")
    return Verdict(cand, cand, conf, dist, runner, agree, k, "matched")
