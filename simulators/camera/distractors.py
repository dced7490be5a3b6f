"""The world's distractors beyond the classic ones: foliage in front of the facade, birds that land and take off,
snow, curtains, reflections, cloud shadows and shake. Parameters are drawn from the scene's generator; each kind
draws itself onto a frame at time ``t`` with a few OpenCV calls.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

Image = NDArray[np.uint8]


def draw_params(rng: np.random.Generator, width: int, height: int, duration: float, kinds: tuple[str, ...],
                facade_rows: tuple[float, float]) -> dict[str, Any]:
    """Parameters of the new kinds in ``kinds``; ``facade_rows`` is the (top, bottom) of the facade in the image."""
    out: dict[str, Any] = {}
    top, bottom = facade_rows
    late = max(0.1, duration - 3.0)
    if "foliage" in kinds:  # crowns right in front of the facade, each with leaf clusters that sway on their own
        crowns = []
        for _ in range(int(rng.integers(1, 3))):
            r = float(rng.uniform(0.08, 0.2) * height)
            cx, cy = float(rng.uniform(0, width)), float(rng.uniform(top + 0.3 * (bottom - top), bottom))
            n = int(rng.integers(15, 50))
            leaves = np.column_stack([rng.uniform(-r, r, n), rng.uniform(-0.8 * r, 0.8 * r, n),
                                      rng.integers(2, 9, n), rng.uniform(2, 14, n), rng.uniform(0.3, 2.5, n),
                                      rng.uniform(0, 2 * math.pi, n), rng.uniform(-1, 1, n)])
            crowns.append((cx, cy, r, leaves, float(rng.uniform(0.05, 0.3)), bool(rng.random() < 0.5)))
        out["foliage"] = crowns
    if "snow" in kinds:  # (x0, y0, px/s down, sway px, sway Hz, size) per flake
        n = int(rng.integers(60, 300)) * width * height // (1920 * 1080)
        out["snow"] = np.column_stack([rng.uniform(0, width, n), rng.uniform(0, height, n),
                                       rng.uniform(0.03, 0.12, n) * height, rng.uniform(3, 20, n),
                                       rng.uniform(0.2, 1.0, n), rng.integers(1, 4, n)])
    if "perch" in kinds:  # (t arrive, x ledge, y ledge, side, sit s, size): glide in, sit, drop off and fly away
        out["perch"] = [(float(rng.uniform(0, late)), float(rng.uniform(0.1, 0.9) * width),
                         float(rng.uniform(top, bottom)), float(rng.choice([-1.0, 1.0])), float(rng.uniform(0.8, 2.5)),
                         int(rng.integers(4, 12))) for _ in range(int(rng.integers(1, 4)))]
    if "curtains" in kinds:  # (t0, x, y, w, h, seconds, shade): a curtain drawn across a window
        out["curtains"] = [(float(rng.uniform(0, late)), float(rng.uniform(0, width)), float(rng.uniform(top, bottom)),
                            int(rng.integers(10, 40)), int(rng.integers(12, 40)), float(rng.uniform(0.7, 2.5)),
                            int(rng.integers(120, 230))) for _ in range(int(rng.integers(1, 4)))]
    if "reflections" in kinds:  # (t0, x0, y, px/s, size, seconds): a glint sliding along a band of windows
        out["reflections"] = [(float(rng.uniform(0, late)), float(rng.uniform(0, width)),
                               float(rng.uniform(top, bottom)), float(rng.choice([-1.0, 1.0]) * rng.uniform(10, 120)),
                               int(rng.integers(3, 10)),
                               float(rng.uniform(1, 4))) for _ in range(int(rng.integers(1, 3)))]
    if "shadows" in kinds:  # (x0, px/s, half-width px, depth): a cloud's shadow crossing
        out["shadows"] = [(float(rng.uniform(-0.5, 1.0) * width), float(rng.uniform(-1, 1) * 0.15 * width),
                           float(rng.uniform(0.15, 0.5) * width), float(rng.uniform(0.15, 0.4)))]
    if "shake" in kinds:  # (t0, seconds, amplitude px): wind or a passing lorry shakes the pole
        out["shake"] = [(float(rng.uniform(0, late)), float(rng.uniform(0.3, 1.5)), int(rng.integers(2, 6)))
                        for _ in range(int(rng.integers(1, 3)))]
    return out


def shake_px(d: dict[str, Any], t: float) -> int:
    """Shake amplitude (px) at time ``t``: 0 outside a shake."""
    return max((a for t0, dur, a in d.get("shake", []) if t0 <= t <= t0 + dur), default=0)


def draw(img: Image, d: dict[str, Any], t: float) -> None:
    """Draw every new kind present in ``d`` onto ``img`` (BGR) at time ``t``."""
    for cx, cy, r, leaves, gust_hz, sunlit in d.get("foliage", []):
        _foliage(img, cx, cy, r, leaves, gust_hz, sunlit, t)
    if "snow" in d:
        _snow(img, d["snow"], t)
    for item in d.get("perch", []):
        _perch(img, item, t)
    for t0, x, y, w, h, dur, shade in d.get("curtains", []):
        if t >= t0:
            cover = min(1.0, (t - t0) / dur)
            corner = (round(x + w * cover), round(y + h))
            cv2.rectangle(img, (round(x), round(y)), corner, (shade, shade, shade - 20), -1)
    for t0, x0, y, v, size, dur in d.get("reflections", []):
        if t0 <= t <= t0 + dur:
            glow = int(255 * math.sin(math.pi * (t - t0) / dur))
            cv2.circle(img, (round(x0 + v * (t - t0)), round(y)), size, (glow, glow, glow), -1, cv2.LINE_AA)


def shade(img: Image, d: dict[str, Any], t: float) -> Image:
    """The frame under any cloud shadow: a soft band of lower gain drifting across the picture."""
    if "shadows" not in d:
        return img
    xs = np.arange(img.shape[1], dtype=np.float32)
    gain = np.ones_like(xs)
    for x0, v, half, depth in d["shadows"]:
        gain *= 1.0 - depth * np.exp(-(((xs - x0 - v * t) / half) ** 2))
    row = np.round(gain * 255).astype(np.uint8)[None, :]
    full = cv2.resize(cv2.cvtColor(row, cv2.COLOR_GRAY2BGR), (img.shape[1], img.shape[0]),
                      interpolation=cv2.INTER_NEAREST)
    return np.asarray(cv2.multiply(img, full, scale=1 / 255), dtype=np.uint8)


def _foliage(img: Image, cx: float, cy: float, r: float, leaves: NDArray[np.float64], gust_hz: float,
             sunlit: bool, t: float) -> None:
    gust = 0.6 + 0.4 * math.sin(2 * math.pi * gust_hz * t)
    base = 1.5 * gust * math.sin(2 * math.pi * 0.4 * t)
    cv2.ellipse(img, (round(cx + base), round(cy)), (round(r), round(0.8 * r)), 0, 0, 360, (35, 80, 40), -1)
    phase = 2 * math.pi * leaves[:, 4] * t + leaves[:, 5]
    swing = leaves[:, 3] * gust * np.sin(phase)
    xs = cx + base + leaves[:, 0] + swing * leaves[:, 6]
    ys = cy + leaves[:, 1] + swing * np.sqrt(1 - leaves[:, 6] ** 2)  # each cluster swings along its own line
    colour = (90, 170, 110) if sunlit else (20, 50, 25)
    for x, y, s in zip(xs.tolist(), ys.tolist(), leaves[:, 2].tolist(), strict=True):
        cv2.ellipse(img, (round(x), round(y)), (round(s), max(1, round(0.6 * s))), 30, 0, 360, colour, -1)


def _snow(img: Image, flakes: NDArray[np.float64], t: float) -> None:
    h, w = img.shape[:2]
    ys = (flakes[:, 1] + flakes[:, 2] * t) % h
    xs = (flakes[:, 0] + flakes[:, 3] * np.sin(2 * math.pi * flakes[:, 4] * t + flakes[:, 0])) % w
    for x, y, s in zip(xs.tolist(), ys.tolist(), flakes[:, 5].tolist(), strict=True):
        cv2.circle(img, (round(x), round(y)), round(s), (235, 235, 235), -1)


def _perch(img: Image, item: tuple[float, float, float, float, float, int], t: float) -> None:
    t0, x, y, side, sit, size = item
    u = t - t0
    if u < 0 or u > 1.5 + sit + 2.0:
        return
    if u < 1.5:  # gliding in and slowing down to land
        k = 1.0 - u / 1.5
        px, py = x + side * 250.0 * k * k, y - 80.0 * k * k
    elif u < 1.5 + sit:
        px, py = x, y
    else:  # drops off the ledge, gathering speed, then levels out and flies away
        v = u - 1.5 - sit
        px = x - side * 120.0 * v * v
        py = y + 0.5 * 300.0 * min(v, 0.4) ** 2 + 120.0 * max(0.0, v - 0.4) - 90.0 * max(0.0, v - 0.8) ** 2
    wing = round(size * (0.6 + 0.4 * abs(math.sin(2 * math.pi * 4 * u)))) if not 1.5 <= u < 1.5 + sit else size // 2
    cv2.ellipse(img, (round(px), round(py)), (max(1, wing), max(1, size // 3)), 0, 0, 360, (40, 38, 36), -1)
