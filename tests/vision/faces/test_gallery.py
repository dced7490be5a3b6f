"""Gallery matching on synthetic embeddings: threshold, margin, consent, and one product equal to the loop."""

from __future__ import annotations

import numpy as np
import pytest

from simulators.entrance import synthetic_embeddings
from vision.faces.embedder import normalise
from vision.faces.gallery import UNKNOWN, Enrolment, Gallery, MatchParams, naive_match


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    out: np.ndarray = normalise(rng.normal(0, 1, (n, 128)))
    return out


def _near(vec: np.ndarray, rng: np.random.Generator, distance: float) -> np.ndarray:
    """A unit vector at exactly ``distance`` (Euclidean) from unit ``vec``."""
    other = rng.normal(0, 1, 128)
    other -= other @ vec * vec
    other /= np.linalg.norm(other)
    cos = 1 - distance**2 / 2
    out: np.ndarray = (cos * vec + np.sqrt(1 - cos**2) * other).astype(np.float32)
    return out


def test_match_within_threshold_and_margin() -> None:
    rng = np.random.default_rng(1)
    a, b = _unit(rng, 2)
    gallery = Gallery([Enrolment("R1", a[None], True), Enrolment("R2", b[None], True)])
    probe = _near(a, rng, 0.2)
    [m] = gallery.match(probe, MatchParams(threshold=0.35, margin=0.08))
    assert (m.person, m.reason) == ("R1", "matched")
    assert m.distance == pytest.approx(0.2, abs=1e-4)
    assert m.runner_up > 1.0


def test_too_far_is_not_a_match() -> None:
    rng = np.random.default_rng(2)
    a, b = _unit(rng, 2)
    gallery = Gallery([Enrolment("R1", a[None], True), Enrolment("R2", b[None], True)])
    [m] = gallery.match(_near(a, rng, 0.4), MatchParams(threshold=0.35, margin=0.08))
    assert m.person is None
    assert (m.candidate, m.reason) == ("R1", "too_far")


def test_near_tie_is_ambiguous_even_inside_threshold() -> None:
    rng = np.random.default_rng(3)
    a = _unit(rng, 1)[0]
    twin = _near(a, rng, 0.05)  # two residents whose embeddings nearly coincide
    gallery = Gallery([Enrolment("R1", a[None], True), Enrolment("R2", twin[None], True)])
    [m] = gallery.match(_near(a, rng, 0.15), MatchParams(threshold=0.35, margin=0.08))
    assert m.person is None
    assert m.reason == "ambiguous"
    assert m.runner_up - m.distance < 0.08


def test_resident_without_consent_is_never_matched() -> None:
    rng = np.random.default_rng(4)
    a, b = _unit(rng, 2)
    gallery = Gallery([Enrolment("R1", a[None], False), Enrolment("R2", b[None], True)])
    assert gallery.people == ["R2"]
    [m] = gallery.match(a, MatchParams())  # the very embedding of the resident who did not consent
    assert m.person is None
    assert m.candidate == "R2"
    assert naive_match(a, [Enrolment("R1", a[None], False)], MatchParams())[0].reason == "empty_gallery"


def test_unknown_cannot_be_enrolled() -> None:
    with pytest.raises(ValueError, match="reserved"):
        Gallery([Enrolment(UNKNOWN, np.ones((1, 128), np.float32), True)])


def test_best_of_several_enrolment_photos_counts() -> None:
    rng = np.random.default_rng(5)
    a1, a2, b = _unit(rng, 3)
    gallery = Gallery([Enrolment("R1", np.stack([a1, a2]), True), Enrolment("R2", b[None], True)])
    [m] = gallery.match(_near(a2, rng, 0.1), MatchParams())
    assert m.person == "R1"
    assert m.distance == pytest.approx(0.1, abs=1e-4)


def test_one_product_gives_the_loops_answers() -> None:
    centres, samples = synthetic_embeddings(300, 3, seed=9)
    enrolments = [Enrolment(f"R{i}", samples[i], i % 7 != 0) for i in range(300)]
    gallery = Gallery(enrolments)
    rng = np.random.default_rng(9)
    probes = centres[rng.integers(0, 300, 40)] + rng.normal(0, 0.02, (40, 128)).astype(np.float32)
    fast = gallery.match(probes)
    slow = naive_match(probes, enrolments, MatchParams())
    assert [(m.person, m.candidate, m.reason) for m in fast] == [(m.person, m.candidate, m.reason) for m in slow]
    np.testing.assert_allclose([m.distance for m in fast], [m.distance for m in slow], atol=1e-4)
    assert sum(m.person is not None for m in fast) > 20  # most probes are consenting residents, found


def test_empty_gallery() -> None:
    [m] = Gallery([]).match(np.ones(128, np.float32))
    assert (m.person, m.reason) == (None, "empty_gallery")


def test_bad_params_are_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        MatchParams(threshold=0.0)
    with pytest.raises(ValueError, match="margin"):
        MatchParams(margin=-0.1)
