"""The entrance simulator: seeded synthetic galleries, a cast that never uses a doubtful face, honest truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulators.entrance import demo_cast, load_sources, make_entrance_scene, synthetic_embeddings
from vision.faces.embedder import cosine_to_distance


def test_synthetic_embeddings_are_seeded_and_spread_like_faces() -> None:
    c1, s1 = synthetic_embeddings(400, 3, seed=5)
    c2, _ = synthetic_embeddings(400, 3, seed=5)
    np.testing.assert_array_equal(c1, c2)
    np.testing.assert_allclose(np.linalg.norm(s1, axis=2), 1.0, atol=1e-5)
    d = cosine_to_distance(c1 @ c1.T)[np.triu_indices(400, 1)]
    assert 0.55 < float(np.median(d)) < 0.75
    genuine = cosine_to_distance(np.einsum("rkd,rd->rk", s1, c1))
    assert float(genuine.max()) < float(d.min())


def test_demo_cast_never_walks_a_doubtful_face() -> None:
    sources = load_sources()
    assert len(sources) == 25
    enrol, walk = demo_cast(sources)
    assert all(not s.excluded for s, _ in walk)
    # the person with three photos walks with the one not used to enrol them
    [(walker, _)] = [(s, r) for s, r in walk if r == "R-A"]
    assert walker not in enrol["R-A"]
    assert len(enrol["R-A"]) == 2
    doubtful = next(s for s in sources if s.excluded)
    with pytest.raises(ValueError, match="never used"):
        make_entrance_scene("c", "g", "in", [(doubtful, None)], folder=Path("/nonexistent"))


def test_scene_truth_and_frames(face_photos: Path) -> None:
    _, walk = demo_cast(load_sources())
    scene = make_entrance_scene("cam", "north", "in", walk[:2], seed=3, folder=face_photos)
    truth = scene.truth()
    assert [t["enrolled"] for t in truth] == [True, False]
    assert truth[0]["t_end"] < truth[1]["t_start"]  # one walker at a time
    frames = list(scene.frames())
    assert len(frames) == scene.n_frames
    t0, frame = frames[0]
    assert t0 == 0.0
    assert frame.shape == (720, 1280, 3)
    assert frame.dtype == np.uint8
    mid = int((truth[0]["t_start"] + truth[0]["t_end"]) / 2 * scene.fps)
    assert np.abs(frames[mid][1].astype(int) - frames[0][1].astype(int)).mean() > 1.0  # someone is there
