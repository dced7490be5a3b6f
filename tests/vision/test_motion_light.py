"""The background model under changing light, and its cheaper operations against their plain definitions.

A drifting cloud shadow is a smooth gain over hundreds of pixels: followed, it leaves no foreground, while an
object inside or outside the shadow still does. Under steady light, following the light changes nothing.
"""

from __future__ import annotations

import cv2
import numpy as np

from vision.blobs import extract
from vision.motion import Mask, MotionModel, MotionParams, mask_image

_KERNEL = np.ones((3, 3), np.uint8)
H, W = 180, 320


def facade(rng: np.random.Generator) -> np.ndarray:
    """A textured wall with dark windows: edges everywhere, so a gain changes many pixels by many grey levels."""
    img = np.full((H, W), 150.0)
    for y in range(8, H - 16, 22):
        for x in range(6, W - 14, 26):
            img[y:y + 12, x:x + 14] = 55.0
    return img + rng.normal(0.0, 2.0, (H, W))


def shadow_gain(t: float) -> np.ndarray:
    """A cloud's shadow: a soft band, 70 px half-width, 35 % deep, drifting right at 70 px/s."""
    xs = np.arange(W, dtype=np.float64)
    return np.broadcast_to(1.0 - 0.35 * np.exp(-(((xs - 20.0 - 70.0 * t) / 70.0) ** 2)), (H, W))


def frames(n: int, *, shadow: bool, objects: bool, seed: int = 5) -> list[tuple[Mask, tuple[int, int] | None]]:
    """Frames at 20 fps with sensor noise; with ``objects`` a 5x5 dark object crosses the picture from frame 30
    (returned with its position).
    """
    rng = np.random.default_rng(seed)
    wall = facade(rng)
    out: list[tuple[Mask, tuple[int, int] | None]] = []
    for i in range(n):
        t = i / 20.0
        img = wall * (shadow_gain(t) if shadow else 1.0)
        pos = None
        if objects and i >= 30:
            pos = (20 + 4 * (i - 30), 40 + (i - 30))
            img = img.copy()
            img[pos[1] - 2:pos[1] + 3, pos[0] - 2:pos[0] + 3] = 15.0
        noisy = img + rng.normal(0.0, 1.5, (H, W))
        out.append((np.asarray(np.clip(np.round(noisy), 0, 255), dtype=np.uint8), pos))
    return out


class PlainModel:
    """The background model written out by its definition: the reference the optimised operations must match."""

    def __init__(self, params: MotionParams, allowed: Mask | None = None) -> None:
        self.p = params
        self.allowed = allowed
        self.bg: np.ndarray | None = None
        self.bg8: np.ndarray | None = None
        self.thr: np.ndarray | None = None
        self.n = 0
        self.level = 0.0

    def reset(self, gray: Mask) -> None:
        self.bg = gray.astype(np.float32)
        self.bg8 = gray.copy()
        spread = cv2.morphologyEx(self.bg8, cv2.MORPH_GRADIENT, _KERNEL)
        self.thr = cv2.convertScaleAbs(spread, alpha=1.0, beta=self.p.threshold)

    def apply(self, gray: Mask) -> Mask | None:
        if self.bg is None or self.bg8 is None or self.thr is None:
            self.reset(gray)
            return None
        g = self.p.grid
        change = float(cv2.mean(cv2.absdiff(gray[::g, ::g], self.bg8[::g, ::g]))[0])
        if change > max(self.p.jump_level, self.p.jump_ratio * self.level):
            self.reset(gray)
            return None
        self.level = change if self.n == 0 else 0.95 * self.level + 0.05 * change
        fg = cv2.compare(cv2.absdiff(gray, self.bg8), self.thr, cv2.CMP_GT)
        if self.allowed is not None:
            fg = cv2.bitwise_and(fg, self.allowed)
        if cv2.countNonZero(fg) > self.p.max_foreground * fg.size:
            self.reset(gray)
            return None
        self.n += 1
        if self.n % 2 == 0:
            cv2.accumulateWeighted(gray, self.bg, 2 * self.p.alpha, mask=cv2.bitwise_not(fg))
            cv2.accumulateWeighted(gray, self.bg, self.p.alpha / 3, mask=fg)
            self.bg8 = cv2.convertScaleAbs(self.bg)
            spread = cv2.morphologyEx(self.bg8, cv2.MORPH_GRADIENT, _KERNEL)
            self.thr = cv2.convertScaleAbs(spread, alpha=1.0, beta=self.p.threshold)
        return np.asarray(fg, dtype=np.uint8)


def _jumpy(seq: list[Mask], *, flash: bool = True) -> list[Mask]:
    """The sequence with an exposure step at frame 50 and (with ``flash``) a third of the picture white at 70."""
    out = list(seq)
    for i in range(50, len(out)):
        out[i] = np.asarray(cv2.convertScaleAbs(out[i], alpha=1.25), dtype=np.uint8)
    if flash:
        lit = out[70].copy()
        lit[:, : W // 3] = 255
        out[70] = lit
    return out


def test_the_optimised_model_gives_the_plain_definitions_masks_and_background() -> None:
    seq = _jumpy([img for img, _ in frames(90, shadow=True, objects=True)])
    allowed = mask_image((H, W), [[(250, 0), (320, 0), (320, 60), (250, 60)]], scale=1)
    for mask in (None, allowed):
        params = MotionParams(follow_light=False)
        fast, plain = MotionModel(params, allowed=mask), PlainModel(params, allowed=mask)
        for img in seq:
            a, b = fast.apply(img), plain.apply(img)
            assert (a is None) == (b is None)
            if a is not None and b is not None:
                assert np.array_equal(a, b)
            assert np.array_equal(np.asarray(fast._bg), np.asarray(plain.bg))
            assert np.array_equal(np.asarray(fast._thr), np.asarray(plain.thr))


def test_steady_light_gives_the_same_masks_with_the_light_followed() -> None:
    plain, light = MotionModel(MotionParams(follow_light=False)), MotionModel(MotionParams(follow_light=True))
    active = 0
    for img, _ in frames(80, shadow=False, objects=True):
        a, b = plain.apply(img), light.apply(img)
        active += light.gain is not None
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert np.array_equal(a, b)
    assert active == 0


def test_a_drifting_shadow_leaves_no_foreground_when_the_light_is_followed() -> None:
    plain, light = MotionModel(MotionParams(follow_light=False)), MotionModel(MotionParams(follow_light=True))
    speckle_plain = speckle_light = 0
    for img, _ in frames(120, shadow=True, objects=False):
        a, b = plain.apply(img), light.apply(img)
        speckle_plain += 0 if a is None else cv2.countNonZero(a)
        speckle_light += 0 if b is None else cv2.countNonZero(b)
    assert speckle_plain > 2000  # the band the lagging background leaves behind the shadow's edge
    assert speckle_light < speckle_plain / 50


def test_an_object_in_and_out_of_the_shadow_is_still_foreground() -> None:
    light = MotionModel(MotionParams(follow_light=True))
    seen = gained = 0
    for img, pos in frames(100, shadow=True, objects=True):
        fg = light.apply(img)
        if fg is None or pos is None:
            continue
        gained += light.gain is not None
        blobs = extract(fg, max_area=400)
        near = np.hypot(blobs.xy[:, 0] - pos[0], blobs.xy[:, 1] - pos[1]) < 3 if len(blobs) else np.zeros(0, bool)
        seen += bool(near.any())
        # the object and at most a stray, no band of speckle; in the outer half cell (8 px) the field is held at
        # the last cell's gain, so a steep shadow edge leaving the picture may leave a few pixels there
        inner = (blobs.xy[:, 0] > 8) & (blobs.xy[:, 0] < W - 8) & (blobs.xy[:, 1] > 8) & (blobs.xy[:, 1] < H - 8)
        assert int(inner.sum()) <= 2
    assert gained > 30  # the shadow was being followed while the object crossed
    assert seen == 70  # every frame of the object's crossing


def test_an_exposure_jump_still_reseeds_with_the_light_followed() -> None:
    light = MotionModel(MotionParams(follow_light=True))
    seq = _jumpy([img for img, _ in frames(60, shadow=False, objects=False)], flash=False)
    results = [light.apply(img) for img in seq]
    assert results[0] is None
    assert results[50] is None
    assert light.global_changes == 1
    assert all(r is not None for i, r in enumerate(results) if i not in (0, 50))


def test_a_large_mover_along_the_pictures_edge_is_not_taken_for_a_change_of_light() -> None:
    plain, light = MotionModel(MotionParams(follow_light=False)), MotionModel(MotionParams(follow_light=True))
    for i, (img, _) in enumerate(frames(60, shadow=False, objects=False)):
        frame = img.copy()
        x = 10 + 6 * i
        frame[H - 18:H, x:x + 48] = 30  # a person or a car along the bottom edge, three cells wide
        a, b = plain.apply(frame), light.apply(frame)
        assert light.gain is None
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert np.array_equal(a, b)


def test_light_scales_the_texture_and_a_sheet_in_front_of_the_wall_does_not() -> None:
    rng = np.random.default_rng(9)
    wall = np.asarray(np.clip(facade(rng), 0, 255), dtype=np.uint8)
    model = MotionModel(MotionParams(follow_light=True))
    model.reset(wall)
    frame = wall.astype(np.float64)
    frame[10:170, 0:150] *= 1.3  # the sun comes out on the left: every grey level of the wall scales
    sheet = frame[10:170, 170:320]
    sheet[:] = 1.3 * float(wall[10:170, 170:320].mean())  # on the right, as bright a sheet hides the wall
    gain = model.light_gain(np.asarray(np.clip(np.round(frame), 0, 255), dtype=np.uint8))
    assert gain is not None
    lit, hidden = gain[3:8, 2:7], gain[3:8, 12:18]  # cells well inside each part (16 px cells)
    assert np.allclose(lit, 1.3, atol=0.03)
    assert np.allclose(hidden, 1.0, atol=0.01)  # not a change of light: left to the foreground
