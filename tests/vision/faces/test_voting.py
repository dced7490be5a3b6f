"""One verdict per track: mean similarity, margin, agreement; anything doubtful is "unknown"."""

from __future__ import annotations

import numpy as np

from vision.faces.gallery import UNKNOWN, MatchParams
from vision.faces.voting import VoteParams, confidence, vote

PEOPLE = ["R1", "R2", "R3"]


def _sims(distances: list[list[float]]) -> np.ndarray:
    """Similarity rows from Euclidean distances between unit vectors."""
    d = np.asarray(distances, dtype=np.float32)
    return (1 - d**2 / 2).astype(np.float32)


def test_agreeing_frames_name_the_resident() -> None:
    v = vote(_sims([[0.2, 0.7, 0.8], [0.25, 0.7, 0.8], [0.3, 0.6, 0.9]]), PEOPLE)
    assert (v.person, v.reason, v.frames) == ("R1", "matched", 3)
    assert v.agree == 1.0
    assert 0.5 < v.confidence <= 1.0


def test_one_bad_frame_does_not_flip_the_vote() -> None:
    v = vote(_sims([[0.2, 0.6, 0.8], [0.22, 0.6, 0.8], [0.5, 0.45, 0.8]]), PEOPLE)
    assert v.person == "R1"
    assert v.agree == 2 / 3


def test_frames_that_disagree_give_unknown() -> None:
    v = vote(_sims([[0.2, 0.5, 0.8], [0.5, 0.2, 0.8], [0.3, 0.33, 0.8]]), PEOPLE,
             VoteParams(MatchParams(threshold=0.5, margin=0.0), min_agree=0.8))
    assert v.person == UNKNOWN
    assert v.reason == "disagreement"


def test_close_runner_up_gives_unknown() -> None:
    v = vote(_sims([[0.25, 0.3, 0.8], [0.26, 0.3, 0.8]]), PEOPLE)
    assert (v.person, v.reason) == (UNKNOWN, "ambiguous")
    assert v.candidate == "R1"  # kept for diagnosis, never published as the person


def test_far_face_gives_unknown() -> None:
    v = vote(_sims([[0.5, 0.8, 0.9]]), PEOPLE)
    assert (v.person, v.reason) == (UNKNOWN, "too_far")


def test_no_frames_or_no_gallery_give_unknown() -> None:
    assert vote(np.zeros((0, 3), np.float32), PEOPLE).reason == "too_few_frames"
    assert vote(np.zeros((2, 0), np.float32), []).reason == "empty_gallery"


def test_confidence_scale() -> None:
    assert confidence(0.0, 1.0, 0.35) == 1.0
    assert confidence(0.35, 1.0, 0.35) == 0.5
    assert confidence(0.0, 0.5, 0.35) == 0.5
    assert confidence(2.0, 1.0, 0.35) == 0.0
