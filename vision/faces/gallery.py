"""The gallery: every consenting resident's normalised embeddings, matched against faces in one matrix product.

A match needs the best resident within the distance threshold and the second-best resident farther by at least a
margin: dlib's embedder separates some populations (East Asian faces among them) poorly at its usual 0.6, so a
near tie is reported as ambiguous instead of guessed. Residents without consent never enter the gallery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vision.faces.embedder import cosine_to_distance, normalise

F32 = npt.NDArray[np.float32]
UNKNOWN = "unknown"  # the person id of a passage nobody was matched to; never a resident id

# Calibrated by `estatewatch bench faces` (identity-separation eval): distances are Euclidean between unit vectors.
DEFAULT_THRESHOLD = 0.35
DEFAULT_MARGIN = 0.08


@dataclass(frozen=True)
class MatchParams:
    """``threshold``: the largest distance accepted; ``margin``: how much nearer the best must be than the runner-up."""

    threshold: float = DEFAULT_THRESHOLD
    margin: float = DEFAULT_MARGIN

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 2.0:
            raise ValueError("threshold is a distance between unit vectors: 0 < threshold < 2")
        if self.margin < 0.0:
            raise ValueError("margin must be >= 0")


@dataclass(frozen=True)
class Enrolment:
    """What the gallery is built from: one resident's embeddings and whether they gave separate consent."""

    person: str
    embeddings: F32
    consent: bool


@dataclass(frozen=True)
class Match:
    """The outcome for one face: ``person`` is None unless the best match passed threshold and margin."""

    person: str | None
    candidate: str | None  # the nearest resident, even when not accepted
    distance: float  # to the nearest resident (2.0 with an empty gallery)
    runner_up: float  # to the second-nearest resident (2.0 when there is none)
    reason: str  # matched, too_far, ambiguous, empty_gallery


class Gallery:
    """All consenting residents' embeddings in one (K x P, D) matrix: slot k of every resident, then slot k + 1.

    Residents with fewer than K embeddings repeat their last one. The per-resident best is then the element-wise
    maximum of K contiguous (Q, P) slices of one product, instead of a segmented reduce.
    """

    def __init__(self, enrolments: Sequence[Enrolment], dim: int = 128) -> None:
        people: list[str] = []
        blocks: list[F32] = []
        for e in enrolments:
            if not e.consent:
                continue  # no consent, no row: such a resident can never be matched
            if e.person == UNKNOWN:
                raise ValueError(f"{UNKNOWN!r} is reserved for unmatched passages and cannot be enrolled")
            rows = np.asarray(e.embeddings, dtype=np.float32).reshape(-1, dim)
            if rows.shape[0] == 0:
                continue
            people.append(e.person)
            blocks.append(normalise(rows))
        if len(set(people)) != len(people):
            raise ValueError("each resident must appear once in the gallery (give all their embeddings together)")
        self.people = people
        self.dim = dim
        self.per_resident = max((b.shape[0] for b in blocks), default=1)
        k = self.per_resident
        slots = [np.stack([b[min(s, b.shape[0] - 1)] for b in blocks]) for s in range(k)] if blocks else []
        self.matrix: F32 = np.concatenate(slots) if slots else np.zeros((0, dim), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.people)

    def similarities(self, queries: npt.ArrayLike) -> F32:
        """(Q, P) cosine similarity of each query to each resident's nearest enrolled embedding: one product."""
        q = normalise(np.asarray(queries, dtype=np.float32).reshape(-1, self.dim))
        if not self.people:
            return np.zeros((q.shape[0], 0), dtype=np.float32)
        per_row = q @ self.matrix.T
        p = len(self.people)
        out: F32 = per_row[:, :p]
        for s in range(1, self.per_resident):
            np.maximum(out, per_row[:, s * p : (s + 1) * p], out=out)
        return np.ascontiguousarray(out)

    def match(self, queries: npt.ArrayLike, params: MatchParams | None = None) -> list[Match]:
        """Best and second-best resident for each query, accepted only within threshold and margin."""
        return decide(self.similarities(queries), self.people, params or MatchParams())


def top_two(similarity: F32) -> tuple[npt.NDArray[np.intp], F32, F32]:
    """Per row: index of the best column, its distance, and the second-best column's distance (2.0 if none)."""
    n, p = similarity.shape
    if p == 0:
        full = np.full(n, 2.0, dtype=np.float32)
        return np.full(n, -1, dtype=np.intp), full, full.copy()
    best = np.argmax(similarity, axis=1)
    best_sim = similarity[np.arange(n), best]
    # with one resident the runner-up is "nobody": as far as opposite vectors
    second_sim = np.full(n, -1.0, dtype=np.float32) if p == 1 else np.partition(similarity, p - 2, axis=1)[:, p - 2]
    return best.astype(np.intp), cosine_to_distance(best_sim), cosine_to_distance(second_sim)


def decide(similarity: F32, people: Sequence[str], params: MatchParams) -> list[Match]:
    """Threshold and margin applied to a (Q, P) similarity matrix."""
    best, d1, d2 = top_two(similarity)
    out: list[Match] = []
    for i in range(similarity.shape[0]):
        if best[i] < 0:
            out.append(Match(None, None, 2.0, 2.0, "empty_gallery"))
            continue
        cand = people[int(best[i])]
        dist, runner = float(d1[i]), float(d2[i])
        if dist > params.threshold:
            out.append(Match(None, cand, dist, runner, "too_far"))
        elif runner - dist < params.margin:
            out.append(Match(None, cand, dist, runner, "ambiguous"))
        else:
            out.append(Match(cand, cand, dist, runner, "matched"))
    return out


def naive_match(queries: npt.ArrayLike, enrolments: Sequence[Enrolment], params: MatchParams) -> list[Match]:
    """The baseline the bench compares against: one Python comparison per query and resident embedding."""
    q = normalise(np.asarray(queries, dtype=np.float32).reshape(-1, 128))
    residents = [(e.person, list(normalise(e.embeddings))) for e in enrolments if e.consent]
    out: list[Match] = []
    for vec in q:
        scores: dict[str, float] = {}
        for person, rows in residents:
            for row in rows:
                d = float(np.linalg.norm(vec - row))
                scores[person] = min(d, scores.get(person, 2.0))
        ranked = sorted(scores.items(), key=lambda kv: kv[1])
        if not ranked:
            out.append(Match(None, None, 2.0, 2.0, "empty_gallery"))
            continue
        cand, dist = ranked[0]
        runner = ranked[1][1] if len(ranked) > 1 else 2.0
        if dist > params.threshold:
            out.append(Match(None, cand, dist, runner, "too_far"))
        elif runner - dist < params.margin:
            out.append(Match(None, cand, dist, runner, "ambiguous"))
        else:
            out.append(Match(cand, cand, dist, runner, "matched"))
    return out
