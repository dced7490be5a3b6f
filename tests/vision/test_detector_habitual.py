"""The habitual-motion check reads the wider margin off the first verdict instead of fitting the track again: for
every falling verdict and every margin asked, ``Verdict.wins_by`` says what a second ``classify`` with the raised
``min_evidence`` said, exactly at the boundary too.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.vision.test_classifier_shortcuts import CALIBRATED, UNCALIBRATED, _random_tracks
from vision.camera_config import CameraConfig
from vision.classifier import ClassifierParams, classify


@pytest.mark.parametrize("cfg", [UNCALIBRATED, CALIBRATED], ids=["uncalibrated", "calibrated"])
def test_the_first_verdicts_margin_gives_the_verdict_of_a_second_fit(cfg: CameraConfig) -> None:
    p = ClassifierParams()
    tracks = _random_tracks(np.random.default_rng(21), 300)
    verdicts = [(tr, classify(tr, cfg, 2, 720, p, image_width=1280)) for tr in tracks]
    falls = [(tr, v) for tr, v in verdicts if v.falling]
    assert len(falls) >= 10  # enough falls, with margins of a few to hundreds
    outcomes = set()
    for tr, v in falls:
        margin = v.bic[1] - v.bic[0]
        assert margin >= p.min_evidence
        for extra in (0.0, 0.5, 3.2, 7.8, 40.0, margin - p.min_evidence, np.nextafter(margin - p.min_evidence, 0.0),
                      np.nextafter(margin - p.min_evidence, np.inf)):
            strict = classify(tr, cfg, 2, 720, replace(p, min_evidence=p.min_evidence + float(extra)),
                              image_width=1280)
            assert v.wins_by(p.min_evidence + float(extra)) == strict.falling
            outcomes.add(strict.falling)
    assert outcomes == {True, False}  # both sides of the margin were asked


def test_a_rejected_track_wins_by_no_margin() -> None:
    tracks = _random_tracks(np.random.default_rng(5), 40)
    rejected = [v for v in (classify(tr, UNCALIBRATED, 2, 720, image_width=1280) for tr in tracks) if not v.falling]
    assert rejected
    assert not any(v.wins_by(0.0) for v in rejected)
