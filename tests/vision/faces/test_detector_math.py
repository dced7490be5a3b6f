"""BlazeFace anchor layout, box decoding and NMS on synthetic network outputs (no model needed)."""

from __future__ import annotations

import numpy as np

from vision.faces.detector import MODELS, anchors, decode, iou_matrix, nms


def test_anchor_layouts_match_the_networks() -> None:
    for spec in MODELS.values():
        a = anchors(spec.size, spec.strides)
        assert a.shape == (896, 2)  # both networks output 896 boxes
        assert (a > 0).all()
        assert (a < 1).all()
    front = anchors(128, (8, 16, 16, 16))
    assert np.allclose(front[0], [0.5 / 16, 0.5 / 16])
    assert np.allclose(front[0], front[1])  # two anchors per cell on the fine grid
    assert np.allclose(front[512], [0.5 / 8, 0.5 / 8])
    assert np.allclose(front[512:518], front[512])  # six on the coarse grid (three layers merged)


def test_decode_places_a_box_relative_to_its_anchor() -> None:
    a = anchors(128, (8, 16, 16, 16))
    raw = np.zeros((1, 896, 16), np.float32)
    scores = np.full((1, 896, 1), -10.0, np.float32)
    i = 300
    raw[0, i, :4] = [6.4, -3.2, 32.0, 25.6]  # offsets and size in input pixels (128 px)
    raw[0, i, 4:6] = [1.28, 1.28]  # first keypoint
    scores[0, i, 0] = 4.0
    boxes, s, kp = decode(raw, scores, a, 128)
    cx, cy = a[i] + [0.05, -0.025]
    np.testing.assert_allclose(boxes[i], [cx - 0.125, cy - 0.1, cx + 0.125, cy + 0.1], atol=1e-6)
    np.testing.assert_allclose(kp[i, 0], a[i] + 0.01, atol=1e-6)
    assert s[i] > 0.98
    assert s[0] < 1e-4


def test_iou_matrix_values() -> None:
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    np.testing.assert_allclose(iou_matrix(a, b)[0], [1.0, 50 / 150, 0.0], atol=1e-6)


def test_nms_keeps_the_best_of_each_cluster() -> None:
    rng = np.random.default_rng(3)
    centres = np.array([[100, 100], [300, 120], [500, 400]], np.float32)
    boxes, scores, owner = [], [], []
    for k, (x, y) in enumerate(centres):
        for _ in range(8):
            jx, jy = rng.normal(0, 2, 2)
            boxes.append([x + jx - 40, y + jy - 40, x + jx + 40, y + jy + 40])
            scores.append(rng.uniform(0.5, 0.9))
            owner.append(k)
    boxes_a, scores_a = np.asarray(boxes, np.float32), np.asarray(scores, np.float32)
    keep = nms(boxes_a, scores_a, iou=0.3)
    assert sorted(owner[i] for i in keep) == [0, 1, 2]
    for i in keep:
        assert scores_a[i] == max(s for s, o in zip(scores_a, owner, strict=True) if o == owner[i])
    assert list(scores_a[keep]) == sorted(scores_a[keep], reverse=True)
    assert nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32)).size == 0
