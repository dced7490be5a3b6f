"""The activity map's cells are whole ``cell_px`` squares from the top left corner: on a frame that divides into
cells the rates are those of the plain area resize of the whole mask, on one that does not the strip past the last
whole cell is left out, points there count in the cell beside it, and a map stored with another grid starts over.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from vision.activity_map import ActivityMap, ActivityParams


def _masks(shape: tuple[int, int], frames: int, seed: int) -> list[np.ndarray]:
    """Foreground masks with specks, blobs and bands, as a background model gives them."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(frames):
        fg = np.where(rng.random(shape) < rng.uniform(0.0, 0.01), 255, 0).astype(np.uint8)
        for _ in range(int(rng.integers(0, 4))):
            y, x = int(rng.integers(0, shape[0])), int(rng.integers(0, shape[1]))
            fg[y:y + int(rng.integers(1, 30)), x:x + int(rng.integers(1, 30))] = 255
        out.append(fg)
    return out


def _reference_rates(masks: list[np.ndarray], grid: tuple[int, int], params: ActivityParams) -> np.ndarray:
    """The earlier update, spelt out: an area resize of the whole mask to the grid, then the same accumulate."""
    rows, cols = grid
    rates = np.zeros(grid, np.float32)
    for i, fg in enumerate(masks[1:], start=1):
        dt = i / 20.0 - (i - 1) / 20.0
        share = cv2.resize(fg, (cols, rows), interpolation=cv2.INTER_AREA)
        active = (share > params.min_share * 255.0).astype(np.float32)
        cv2.accumulateWeighted(active, rates, 1.0 - math.exp(-dt / (params.tau_h * 3600.0)))
    return rates


def _learn(shape: tuple[int, int], masks: list[np.ndarray], params: ActivityParams) -> ActivityMap:
    amap = ActivityMap(params)
    amap.fit(shape, 2)
    for i, fg in enumerate(masks):
        amap.update(fg, i / 20.0)
    return amap


def test_a_frame_of_whole_cells_learns_exactly_what_the_plain_resize_learnt() -> None:
    params = ActivityParams()
    shape = (352, 640)  # 22 x 40 cells of 16 px
    masks = _masks(shape, 60, seed=1)
    amap = _learn(shape, masks, params)
    assert amap.grid == (22, 40)
    np.testing.assert_array_equal(amap._rates, _reference_rates(masks, (22, 40), params))


def test_on_a_frame_of_part_cells_every_cell_is_exactly_cell_px_and_the_strip_is_left_out() -> None:
    params = ActivityParams()
    shape = (360, 648)  # 22.5 x 40.5 cells: 720p at half scale, widened by half a cell
    masks = _masks(shape, 60, seed=2)
    for fg in masks:
        fg[352:, :] = 255  # the strip below the last whole row moves in every frame
        fg[:, 640:] = 255  # ...and the one right of the last whole column
    amap = _learn(shape, masks, params)
    assert amap.grid == (22, 40)
    assert amap.cell_px_full() == 32.0  # 16 processing px at half scale, exactly
    cropped = [fg[:352, :640] for fg in masks]
    np.testing.assert_array_equal(amap._rates, _reference_rates(cropped, (22, 40), params))
    # a cell is active from 2 foreground pixels of its 256, wherever the frame ends
    counts = np.stack([fg[:352, :640].reshape(22, 16, 40, 16).astype(bool).sum(axis=(1, 3)) for fg in cropped])
    warm = ActivityMap(ActivityParams(warmup_h=0.0))
    warm.fit(shape, 2)
    for i, fg in enumerate(masks):
        warm.update(fg, i / 20.0)
    share = (counts[1:] >= 2).mean(axis=0)
    np.testing.assert_allclose(warm.rates(), share, atol=1e-4)


def test_points_past_the_last_whole_cell_count_in_the_cell_beside_it() -> None:
    shape = (360, 648)
    amap = ActivityMap(ActivityParams(warmup_h=0.0))
    amap.fit(shape, 1)
    fg = np.zeros(shape, np.uint8)
    fg[336:352, 624:640] = 255  # the bottom right whole cell, (21, 39), moves in every frame
    for i in range(200):
        amap.update(fg, i / 20.0)
    in_cell = amap.extra_evidence(np.array([630.0]), np.array([340.0]))
    assert in_cell == pytest.approx(2 * math.log(1.0 / 0.02), rel=1e-3)
    assert amap.extra_evidence(np.array([646.0]), np.array([358.0])) == in_cell  # in the strip: same cell
    assert amap.extra_evidence(np.array([610.0]), np.array([340.0])) == 0.0  # the quiet cell to its left


def test_a_stored_map_with_an_earlier_grid_starts_over_and_one_of_whole_cells_is_kept() -> None:
    shape = (540, 960)  # 1080p at half scale: 33.75 rows of cells, which an earlier grid rounded to 34
    amap = ActivityMap(ActivityParams(warmup_h=0.0))
    amap.fit(shape, 2)
    fg = np.zeros(shape, np.uint8)
    fg[:64, :64] = 255
    for i in range(100):
        amap.update(fg, i / 20.0)
    assert amap.grid == (33, 60)
    kept = ActivityMap.from_bytes(amap.to_bytes())
    kept.fit(shape, 2)
    assert kept.observed_s == amap.observed_s
    np.testing.assert_array_equal(kept.rates(), amap.rates())
    earlier = ActivityMap.from_bytes(amap.to_bytes())
    earlier._rates = np.ones((34, 60), np.float32) * 0.5  # as a map of the earlier rounded grid was stored
    earlier.fit(shape, 2)
    assert earlier.grid == (33, 60)
    assert earlier.observed_s == 0.0
    assert float(earlier.rates().max()) == 0.0
