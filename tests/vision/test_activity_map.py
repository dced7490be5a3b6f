"""The activity map: rates per cell from foreground masks, the warm-up, the extra evidence a fall needs along busy
cells (none along quiet ones), its stored form, and the detector's use of it on a rendered fall.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulators.camera.render import Renderer
from tests.vision.helpers import one_throw_scene, track_from
from vision.activity_map import ActivityMap, ActivityParams
from vision.camera_config import CameraConfig
from vision.decode import GrayFrame, decode_gray
from vision.detector import Detector, LitteringEvent
from vision.tracker import Track

SHAPE = (64, 96)  # 4 x 6 cells of 16 px


def _mask(*cells: tuple[int, int]) -> np.ndarray:
    """Foreground filling the given (row, col) cells."""
    fg = np.zeros(SHAPE, np.uint8)
    for r, c in cells:
        fg[r * 16:(r + 1) * 16, c * 16:(c + 1) * 16] = 255
    return fg


def _watched(params: ActivityParams, frames: int, busy: tuple[int, int] = (1, 2), every: int = 1) -> ActivityMap:
    """A map that saw ``frames`` frames at 20 fps, with ``busy`` in the foreground every ``every``-th frame."""
    amap = ActivityMap(params)
    amap.fit(SHAPE, 1)
    for i in range(frames):
        amap.update(_mask(busy) if i % every == 0 else _mask(), i / 20.0)
    return amap


def test_rates_are_the_share_of_active_frames_from_the_first_minute() -> None:
    amap = _watched(ActivityParams(tau_h=6.0), 1201, busy=(1, 2), every=2)  # one minute, active every other frame
    rates = amap.rates()
    assert amap.grid == (4, 6)
    assert rates[1, 2] == pytest.approx(0.5, abs=0.01)  # the weights are normalised: no bias towards 0 when young
    assert float(np.delete(rates.ravel(), 1 * 6 + 2).max()) == 0.0
    assert amap.observed_s == pytest.approx(60.0)


def test_a_few_foreground_pixels_do_not_make_a_cell_active() -> None:
    amap = ActivityMap(ActivityParams())
    amap.fit(SHAPE, 1)
    speck = np.zeros(SHAPE, np.uint8)
    speck[20, 40] = 255  # one pixel of 256: noise, or a small object passing
    wide = _mask((0, 0))
    for i in range(100):
        amap.update(speck | wide, i / 20.0)
    assert amap.rates()[1, 2] == 0.0
    assert amap.rates()[0, 0] == pytest.approx(1.0)


def test_a_silence_or_a_restarted_clock_is_not_watched_time() -> None:
    amap = ActivityMap(ActivityParams())
    amap.fit(SHAPE, 1)
    for t in (0.0, 0.05, 0.10, 30.0, 30.05, 1.0, 1.05):  # a 30 s silence, then the worker's clock restarted
        amap.update(_mask((0, 0)), t)
    assert amap.observed_s == pytest.approx(0.20)  # 0-0.1, 30-30.05 and 1-1.05


def test_no_effect_while_cold_and_none_along_quiet_cells() -> None:
    params = ActivityParams(warmup_h=0.01)  # 36 s
    cold = _watched(params, 400)  # 20 s watched
    busy_x, busy_y = np.array([40.0, 41.0]), np.array([20.0, 24.0])  # inside cell (1, 2)
    assert not cold.warm
    assert cold.extra_evidence(busy_x, busy_y) == 0.0
    warm = _watched(params, 800)
    assert warm.warm
    quiet_x, quiet_y = np.array([80.0, 81.0, 82.0]), np.array([5.0, 30.0, 60.0])  # the column that never moved
    assert warm.extra_evidence(quiet_x, quiet_y) == 0.0
    assert warm.extra_evidence(busy_x, busy_y) == pytest.approx(2 * math.log(1.0 / 0.02), rel=1e-4)  # one cell


def test_the_extra_evidence_counts_each_busy_cell_the_track_passes_once() -> None:
    amap = ActivityMap(ActivityParams(warmup_h=0.0))
    amap.fit(SHAPE, 1)
    for i in range(200):
        amap.update(_mask((0, 2), (1, 2), (2, 2)), i / 20.0)  # a tree three cells tall in column 2
    per_cell = 2 * math.log(1.0 / 0.02)  # a cell that moves in every frame, on a still picture: 7.8
    down = amap.extra_evidence(np.full(10, 40.0), np.linspace(2.0, 62.0, 10))  # through all four rows
    assert down == pytest.approx(3 * per_cell, rel=1e-3)  # three busy cells, the fourth is still
    lingering = amap.extra_evidence(np.full(10, 40.0), np.linspace(18.0, 30.0, 10))  # ten points in one cell
    assert lingering == pytest.approx(per_cell, rel=1e-3)
    assert amap.extra_evidence(np.full(10, 40.0), np.full(10, 60.0)) == 0.0


def test_motion_everywhere_is_the_usual_rate_not_a_nuisance_zone() -> None:
    amap = ActivityMap(ActivityParams(warmup_h=0.0))
    amap.fit(SHAPE, 1)
    rain = np.zeros(SHAPE, np.uint8)
    rain[::8, ::8] = 255  # 4 px of every cell: active in every frame it falls
    for i in range(200):
        amap.update(rain if i % 4 == 0 else np.zeros_like(rain), i / 20.0)  # rain in a quarter of the frames
    assert ActivityMap.usual_rate(amap.rates()) == pytest.approx(0.25, abs=0.01)
    assert amap.extra_evidence(np.array([40.0, 41.0]), np.array([20.0, 24.0])) == 0.0


def test_a_new_frame_size_starts_over_and_the_same_keeps_what_was_learnt() -> None:
    amap = _watched(ActivityParams(), 100)
    amap.fit(SHAPE, 1)
    assert amap.rates()[1, 2] == pytest.approx(1.0)
    amap.fit((128, 192), 1)
    assert amap.grid == (8, 12)
    assert amap.observed_s == 0.0
    assert float(amap.rates().max()) == 0.0


def test_stored_bytes_round_trip_and_bad_bytes_are_refused() -> None:
    amap = _watched(ActivityParams(), 300, every=3)
    amap.scale = 2
    back = ActivityMap.from_bytes(amap.to_bytes())
    assert back.shape == SHAPE
    assert back.scale == 2
    assert back.observed_s == amap.observed_s
    np.testing.assert_allclose(back.rates(), amap.rates(), atol=1e-6)
    assert back.cell_px_full() == pytest.approx(32.0)
    data = amap.to_bytes()
    with pytest.raises(ValueError, match="shorter than its header"):
        ActivityMap.from_bytes(data[:10])
    with pytest.raises(ValueError, match="not a version 1"):
        ActivityMap.from_bytes(b"XXXX" + data[4:])
    with pytest.raises(ValueError, match="bytes of cells"):
        ActivityMap.from_bytes(data[:-4])
    bad = bytearray(data)
    bad[-4:] = np.array([7.0], ">f4").tobytes()
    with pytest.raises(ValueError, match="outside 0-1"):
        ActivityMap.from_bytes(bytes(bad))
    with pytest.raises(ValueError, match="nothing to store"):
        ActivityMap().to_bytes()


# the detector on one rendered fall ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fall() -> tuple[CameraConfig, list[GrayFrame]]:
    scene = one_throw_scene(640, 360, floor=12, seconds=4.0)
    frames = [decode_gray(data, 1) for _, data in Renderer(scene).jpegs()]
    return CameraConfig.model_validate(scene.camera_json("cam")), frames


def _detect(cfg: CameraConfig, frames: list[GrayFrame], amap: ActivityMap | None) -> tuple[list[LitteringEvent],
                                                                                             Detector]:
    det = Detector(cfg)
    if amap is not None:
        det.activity = amap
    events: list[LitteringEvent] = []
    for i, gray in enumerate(frames):
        events += det.feed(gray, i, i / 20.0, 1)
    return events + det.finish(), det


def _learnt(shape: tuple[int, int], busy_cols: slice, params: ActivityParams) -> ActivityMap:
    """A warm map whose cells in ``busy_cols`` (pixel columns) moved in every frame for ten seconds."""
    amap = ActivityMap(params)
    amap.fit(shape, 1)
    fg = np.zeros(shape, np.uint8)
    fg[:, busy_cols] = 255
    for i in range(201):
        amap.update(fg, i / 20.0)
    return amap


def test_a_fall_through_quiet_cells_is_reported_exactly_as_without_a_map(
        fall: tuple[CameraConfig, list[GrayFrame]]) -> None:
    cfg, frames = fall
    plain, _ = _detect(cfg, frames, None)
    assert len(plain) == 1
    x = round(plain[0].track[0][1])
    shape = frames[0].shape
    away = slice(0, 96) if x > 200 else slice(shape[1] - 96, shape[1])  # a busy tree far from the fall
    mapped, det = _detect(cfg, frames, _learnt(shape, away, ActivityParams(warmup_h=0.0)))
    assert det.activity.warm
    assert [e.to_json() for e in mapped] == [e.to_json() for e in plain]
    assert "habitual_motion" not in det.stats.rejected


def test_a_fall_through_busy_cells_needs_the_extra_margin(fall: tuple[CameraConfig, list[GrayFrame]]) -> None:
    cfg, frames = fall
    plain, _ = _detect(cfg, frames, None)
    x = round(plain[0].track[0][1])
    shape = frames[0].shape
    # each cell that moves in every frame asks for 2 ln 50 = 7.8 more, ~95 for the dozen this fall crosses: it wins
    # by far more and is still reported through the busiest cells (they are not blacked out)
    kept, _ = _detect(cfg, frames, _learnt(shape, slice(max(0, x - 48), x + 48), ActivityParams(warmup_h=0.0)))
    assert [e.to_json() for e in kept] == [e.to_json() for e in plain]


def _weak_fall(accel: float) -> Track:
    """14 points of a descent with a small acceleration: a fit that wins by a modest margin, as foliage can give."""
    rng = np.random.default_rng(3)
    t = np.arange(14) / 20.0
    ys = 40 + 30 * t + 0.5 * accel * t * t + rng.normal(0, 0.5, 14)
    xs = 100 + rng.normal(0, 0.5, 14)
    return track_from(list(zip(t.tolist(), xs.tolist(), ys.tolist(), strict=True)))


@pytest.mark.parametrize(("rate", "accel", "reported"), [
    (0.0, 115.0, True),  # quiet cells: a margin of ~12 passes the base 6
    (0.02, 115.0, True),  # no busier than ordinary (q = 0.02 above a still picture): nothing more asked
    (0.1, 115.0, False),  # habitual motion: 2 ln 5 = 3.2 more for each of the 4 cells it crosses: rejected
    (0.1, 300.0, True),  # ...unless the fit is clearly better (a margin of ~59 against 6 + 6 cells x 3.2)
])
def test_the_margin_a_fall_needs_rises_with_the_activity_along_it(rate: float, accel: float, reported: bool) -> None:
    det = Detector(CameraConfig.model_validate({"id": "cam"}))
    det.feed(np.full((360, 640), 120, np.uint8), 0, 0.0, 1)  # the frame size: uncalibrated, image-space model
    amap = ActivityMap(ActivityParams(warmup_h=0.0))
    amap.fit((360, 640), 1)
    fg = np.zeros((360, 640), np.uint8)
    fg[:, 64:144] = 255  # the column the track runs down
    for i in range(201):
        amap.update(fg if i % 100 < rate * 100 else np.zeros_like(fg), i / 20.0)
    det.activity = amap
    events = det._judge([_weak_fall(accel)])
    assert len(events) == int(reported)
    assert det.stats.rejected.get("habitual_motion", 0) == int(not reported)
