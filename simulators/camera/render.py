"""Renders a scene frame by frame: facade, windows, sky, distractors, thrown objects, lens, exposure, noise, jitter."""

from __future__ import annotations

import math
from collections.abc import Iterator

import cv2
import numpy as np
from numpy.typing import NDArray

from simulators.camera import distractors
from simulators.camera.scene import FLOOR_M, Scene, Throw, flight

Image = NDArray[np.uint8]
JITTER = 6  # margin of the drawn facade around the picture: room for the camera to shake


class Renderer:
    """Draws the frames of one scene; cheap per frame (a copy, a few shapes, two noise adds) so eval runs fast."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.rng = np.random.default_rng(scene.seed + 1_000_003)
        self.cam = scene.camera
        self.base = self._base()
        self.paths = [self._path(th) for th in scene.throws]
        self.lens = self._lens_maps()
        h, w = scene.height, scene.width
        sigma = scene.noise_sigma
        self.noise = [np.clip(np.abs(self.rng.normal(0, sigma, (h, w, 3))), 0, 255).astype(np.uint8) for _ in range(4)]
        self.lights_on: set[int] = set()
        self._last: tuple[int, Image] | None = None

    def _poly(self, x0: float, x1: float, h0: float, h1: float) -> NDArray[np.int32]:
        xs = np.array([x0, x1, x1, x0])
        hs = np.array([h0, h0, h1, h1])
        col, row = self.cam.pinhole(xs, hs)
        return np.stack([col + JITTER, row + JITTER], axis=1).round().astype(np.int32)

    def _window(self, floor: int, column: int) -> NDArray[np.int32]:
        s = self.scene
        pitch = s.building_width / s.columns
        x = s.window_x(column)
        h0 = (floor - 1) * FLOOR_M + 0.9
        return self._poly(x - 0.3 * pitch, x + 0.3 * pitch, h0, h0 + 1.5)

    def _base(self) -> Image:
        s = self.scene
        h, w = s.height + 2 * JITTER, s.width + 2 * JITTER
        sky = np.linspace(235, 190, h, dtype=np.float32)[:, None]
        img = np.empty((h, w, 3), np.uint8)
        img[:, :, 0] = np.broadcast_to(sky, (h, w)).astype(np.uint8)
        img[:, :, 1] = np.broadcast_to(sky * 0.92, (h, w)).astype(np.uint8)
        img[:, :, 2] = np.broadcast_to(sky * 0.8, (h, w)).astype(np.uint8)
        ground = int(self.cam.row_of_height(0.0, lens=False)) + JITTER
        img[ground:] = (90, 95, 100)
        half = s.building_width / 2
        cv2.fillConvexPoly(img, self._poly(-half, half, 0, s.floors * FLOOR_M), (160, 170, 182))
        for floor in range(1, s.floors + 1):
            for column in range(s.columns):
                shade = int(self.rng.integers(45, 95))
                cv2.fillConvexPoly(img, self._window(floor, column), (shade, shade + 5, shade + 8))
        return img

    def _path(self, th: Throw) -> dict[int, tuple[float, float]]:
        """Pinhole image position of the object per frame: it is drawn there, and the lens warp moves it to where
        the ground truth (``trajectory``, through the lens) says it is.
        """
        out = {}
        for f, x, h, z in flight(self.scene, th):
            c, r = self.cam.pinhole(x, h, z)
            out[f] = (float(c), float(r))
        return out

    def _lens_maps(self) -> tuple[NDArray[np.int16], NDArray[np.uint16]] | None:
        """Fixed-point remap tables of the lens (computed once per scene), None for a rectilinear lens."""
        if not self.cam.distorted:
            return None
        h, w = self.scene.height, self.scene.width
        rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
        src_c, src_r = self.cam.undistort_px(cols, rows)
        m1, m2 = cv2.convertMaps(src_c.astype(np.float32), src_r.astype(np.float32), cv2.CV_16SC2)
        return np.asarray(m1, dtype=np.int16), np.asarray(m2, dtype=np.uint16)

    def frames(self) -> Iterator[tuple[int, Image]]:
        """Every frame of the scene, in order."""
        for i in range(self.scene.n_frames):
            yield i, self.frame(i)

    def jpegs(self, quality: int | None = None) -> Iterator[tuple[int, bytes]]:
        """Every frame as a JPEG, at ``quality`` or the scene's own."""
        quality = self.scene.quality if quality is None else quality
        for i, img in self.frames():
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if not ok:
                raise RuntimeError("JPEG encoding failed")
            yield i, buf.tobytes()

    def frame(self, i: int) -> Image:
        """Frame ``i``: what the camera saw at that frame's content time (a repeated frame repeats it exactly)."""
        s = self.scene
        if s.dup_every and i % s.dup_every == s.dup_every - 1 and self._last is not None and self._last[0] == i - 1:
            self._last = (i, self._last[1])
            return self._last[1]
        img = self._render(i, s.content_time(i))
        self._last = (i, img)
        return img

    def _render(self, i: int, t: float) -> Image:
        s = self.scene
        d = s.distractors
        for k, (tl, floor, column) in enumerate(d.get("lights", [])):
            if t >= tl and k not in self.lights_on:  # a light switched on stays on: change the base once
                self.lights_on.add(k)
                cv2.fillConvexPoly(self.base, self._window(floor, column), (150, 215, 245))
        amp = min(JITTER, max(s.jitter_px, distractors.shake_px(d, t)))
        dx, dy = (self.rng.integers(-amp, amp + 1, 2) if amp else (0, 0))
        img = self.base[JITTER:JITTER + s.height, JITTER:JITTER + s.width].copy()
        self._draw_distractors(img, t)
        distractors.draw(img, d, t)
        for path, th in zip(self.paths, s.throws, strict=True):
            if i in path:
                self._draw_object(img, path[i], th, t)
        if dx or dy:  # the camera moved, so everything in view moves: facade, distractors and objects alike
            img = self._shaken(img, int(dx), int(dy))
        if self.lens is not None:  # the optics bend the whole picture, before the sensor's gain and noise
            img = np.asarray(cv2.remap(img, self.lens[0], self.lens[1], cv2.INTER_LINEAR,
                                       borderMode=cv2.BORDER_REPLICATE), dtype=np.uint8)
        gain = (1 + 0.04 * math.sin(2 * math.pi * t / 20)) * math.prod(
            g for tj, g in d.get("exposure", []) if t >= tj)
        out: Image = distractors.shade(np.asarray(cv2.convertScaleAbs(img, alpha=gain), dtype=np.uint8), d, t)
        if s.night:  # infrared: grey, flat, and noisier
            grey = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)
            out = np.asarray(cv2.cvtColor(cv2.convertScaleAbs(grey, alpha=0.5, beta=40), cv2.COLOR_GRAY2BGR),
                             dtype=np.uint8)
            out = np.asarray(cv2.add(out, self.noise[(i + 1) % 4]), dtype=np.uint8)
        out = np.asarray(cv2.add(out, self.noise[i % 4]), dtype=np.uint8)
        return np.asarray(cv2.subtract(out, self.noise[(i + 2) % 4]), dtype=np.uint8)

    def _shaken(self, img: Image, dx: int, dy: int) -> Image:
        """The picture seen by a camera turned by (dx, dy) px: out(x) = img(x + d); the strip that comes into
        view at the edge is the facade (drawn with a margin for this), without the distractors beyond the picture.
        """
        h, w = self.scene.height, self.scene.width
        out = self.base[JITTER + dy:JITTER + dy + h, JITTER + dx:JITTER + dx + w].copy()
        out[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)] = \
            img[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)]
        return out

    @staticmethod
    def _draw_object(img: Image, at: tuple[float, float], th: Throw, t: float) -> None:
        """A round object as a disc; a tumbling one as an ellipse that turns and shows its ends and sides."""
        c, r = at
        rad = th.size_px / 2
        if th.size_px <= 3:
            x0, y0 = round(c - rad), round(r - rad)
            img[max(0, y0):y0 + th.size_px, max(0, x0):x0 + th.size_px] = th.color
        elif th.tumble_hz:
            turn = 2 * math.pi * th.tumble_hz * (t - th.t)
            minor = max(1, round(rad * (0.35 + 0.65 * abs(math.cos(turn)))))
            cv2.ellipse(img, (round(c), round(r)), (round(rad), minor), math.degrees(turn), 0, 360, th.color, -1,
                        cv2.LINE_AA)
        else:
            cv2.circle(img, (round(c), round(r)), round(rad), th.color, -1, cv2.LINE_AA)

    def _draw_distractors(self, img: Image, t: float) -> None:
        s, d = self.scene, self.scene.distractors
        for x, base_row, r, sway, hz in d.get("trees", []):
            off = sway * math.sin(2 * math.pi * hz * t)
            cv2.ellipse(img, (round(x + off), round(base_row - r)), (r, round(r * 1.3)), 0, 0, 360, (40, 95, 45), -1)
            cv2.ellipse(img, (round(x + 1.6 * off), round(base_row - 1.4 * r)), (r // 2, r // 2), 0, 0, 360,
                        (60, 130, 70), -1)
        for floor, column, cw, length, hz in d.get("cloth", []):
            win = self._window(floor, column) - JITTER
            x, y = int(win[:, 0].mean()), int(win[:, 1].max())
            flap = math.sin(2 * math.pi * hz * t)
            ln = round(length * (0.75 + 0.25 * flap))
            shift = round(3 * flap)
            half = cw // 2
            pts = np.array([[x - half, y], [x + half, y], [x + half + shift, y + ln], [x - half + shift, y + ln]])
            cv2.fillConvexPoly(img, pts.astype(np.int32), (50, 50, 200))
        for t0, x0, y0, vx, vy, amp, hz, size in d.get("birds", []):
            if t0 <= t <= t0 + 5:
                u = t - t0
                x, y = x0 + vx * u, y0 + vy * u + amp * math.sin(2 * math.pi * hz * u)
                wing = round(size * (0.6 + 0.4 * abs(math.sin(2 * math.pi * 3 * u))))
                cv2.ellipse(img, (round(x), round(y)), (wing, max(1, size // 3)), 0, 0, 360, (35, 35, 40), -1)
        for t0, dur, x0, y0, r in d.get("insects", []):
            if t0 <= t <= t0 + dur:
                u = t - t0
                x = x0 + 0.08 * s.width * math.sin(7.3 * u + x0) + 0.05 * s.width * math.sin(13.1 * u)
                y = y0 + 0.08 * s.height * math.cos(5.9 * u + y0) + 0.05 * s.height * math.sin(11.7 * u)
                cv2.circle(img, (round(x), round(y)), r, (25, 25, 25), -1, cv2.LINE_AA)
        n_rain = int(d.get("rain", 0))
        if n_rain:
            layer = np.zeros_like(img)
            xs = self.rng.integers(0, s.width, n_rain)
            ys = self.rng.integers(0, s.height, n_rain)
            lengths = self.rng.integers(8, 30, n_rain)
            for x, y, ln in zip(xs, ys, lengths, strict=True):
                cv2.line(layer, (int(x), int(y)), (int(x) + int(ln) // 6, int(y) + int(ln)), (38, 38, 38), 1)
            cv2.add(img, layer, dst=img)
