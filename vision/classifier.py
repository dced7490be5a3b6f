"""Is a track a falling object? The track is explained by a falling body seen through the camera, and by the
things that are not falls, and the better explanation wins (``vision/physics.py``).

Before the models are fitted the track is cleaned of what the tracker, not the world, put into it: the part that
descends, without the stray blobs it took on the way, and it must have been seen in most of its frames (a
descent too short to be a fall is rejected before that costly cleaning, when the outcome is sure). With a
camera (``vision/geometry.py``, from the floor lines or a facade rectangle) the fall is a 3-D body under gravity and
drag, thrown out and sideways from the facade; without one, a parabola in the image, and the verdict says so.
A fall picked among many chains (a crowd of blobs) pays for the choice (``chance_chains``), and a release traced
back is judged with its uncertainty (``lowest_release``): a fall first seen late is not put above the roof.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from vision.camera_config import CameraConfig
from vision.floors import height_to_floor, row_to_height, x_to_column
from vision.geometry import PinholeCamera, camera_for, line_heights
from vision.physics import Explanation, FallFit, G, fit_fall, fit_image_fall, image_models
from vision.track_shape import core_fill, falling_span, follow_track
from vision.tracker import Track

WINDOW_OUT_M = 0.4  # a thrown object leaves a window about this far out from the facade plane
SPAN_TOLERANCE_PX = 3.0  # processing px a descent may climb back (box jitter) before it counts as ended


@dataclass(frozen=True)
class ClassifierParams:
    """The classifier's few numbers; each stands for a physical fact or for what the tracker can deliver."""

    min_points: int = 8
    min_fill: float = 0.7  # detections per frame spanned: rain and noise make sparse, jumpy tracks
    min_core_fill: float = 0.5  # ...and over the core of the descent, without a hover before or a rest after
    # the drop a fall must be seen to cover (m): that of a free fall's first second, 1/2 g (1 s)^2 = 4.9 m, 1.6
    # floors of 3 m; a shorter drop is too little to tell gravity from anything else
    min_drop_m: float = 0.5 * G
    min_span_uncal: float = 0.06  # share of the image height crossed, without calibration
    max_release_lookback_s: float = 3.0  # a fall first seen late (dark object on dark windows) is traced back
    max_stray_px: float = 10.0  # processing px (x sqrt of a gap in frames): further from the curve, a point is stray
    sigma_px: float = 0.8  # processing px: error of a blob's box centre for a point-like object
    sigma_size: float = 0.15  # ...plus this share of the blob's side (a tumbling object's box jitters with its size)
    max_cost_per_point: float = 3.0  # robust cost per point the fall may leave (noise alone gives ~1.5)
    min_evidence: float = 6.0  # BIC margin the fall must win by over the best other explanation


@dataclass(frozen=True)
class Verdict:
    """Outcome for one track; a falling verdict carries the release point and the model that explained it."""

    falling: bool
    reason: str
    score: float = 0.0
    origin: tuple[float, float] = (0.0, 0.0)  # full-resolution px
    floor: int | None = None
    column: int | None = None
    points: tuple[int, ...] = ()  # indices of the track's points the verdict is about (the fall, strays left out)
    model: str = "camera"  # "camera" (3-D fall through the fitted camera) or "uncalibrated" (image parabola)
    # the fall's BIC (charged for the chains the gate allowed) and the best other explanation's (falling verdicts)
    bic: tuple[float, float] = (0.0, 0.0)

    def wins_by(self, min_evidence: float) -> bool:
        """Whether this fall beats every other explanation by ``min_evidence`` in BIC: the classifier's own test,
        so a caller that asks for a wider margin (habitual motion) gets the verdict a second fit would give.
        """
        fall, rival = self.bic
        return self.falling and not _short_of(fall, rival, min_evidence)


@dataclass(frozen=True)
class _Points:
    """The cleaned track in full-resolution px, times from its first point, and each point's noise."""

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray


def classify(track: Track, cfg: CameraConfig, scale: int, image_height: int,
             params: ClassifierParams | None = None, *, camera: PinholeCamera | None = None,
             image_width: int | None = None) -> Verdict:
    """Decide on one finished track (processing px at 1/``scale``); without ``camera`` one is fitted from ``cfg``
    for an image of ``image_width`` (16:9 assumed when not given) by ``image_height``.
    """
    p = params or ClassifierParams()
    cam = camera
    if cam is None and (cfg.facade_rect is not None or cfg.calibrated):  # else there is no camera to fit
        cam = _camera(cfg, image_width or round(image_height * 16 / 9), image_height)
    cleaned = _clean(track, cfg, scale, p, _SpanCheck(cfg, cam is not None, image_height, p))
    if isinstance(cleaned, str):
        return Verdict(False, cleaned)
    idx, pts = cleaned
    trials = chance_chains(track, idx)
    verdict = (_physical(cfg, cam, pts, p, trials) if cam is not None
               else _image_space(cfg, pts, image_height, p, trials))
    return replace(verdict, points=tuple(idx.tolist()))


@dataclass(frozen=True)
class _SpanCheck:
    """The drop a fall must cover (``too_few_floors`` with a camera, ``short_span`` without), tested on the raw
    descent before the costly cleaning: the cleaned track keeps the first point and ends no lower than the
    descent's lowest point, so a descent that falls short now cannot pass later.
    """

    cfg: CameraConfig
    physical: bool
    image_height: int
    p: ClassifierParams

    def reason(self, top: float, bottom: float) -> str | None:
        """The reason a drop from row ``top`` to at most row ``bottom`` (full-resolution px) is too short."""
        if not self.physical:
            return "short_span" if bottom - top < self.p.min_span_uncal * self.image_height else None
        if not self.cfg.calibrated:
            return None  # the drop is measured in metres up the facade, which need floor lines
        h = row_to_height(self.cfg, np.array([top, bottom]))
        # heights interpolated piecewise may differ from the cleaned track's by rounding: a hair of slack
        return "too_few_floors" if float(h[0] - h[1]) < self.p.min_drop_m - 1e-9 else None


def _too_short(ys: np.ndarray, times: np.ndarray, a: int, b: int, scale: int, check: _SpanCheck) -> str | None:
    """The verdict of a descent ys[a:b] too short to be a fall, when it is sure to be that one.

    Only when the cleaned track cannot end as ``not_descending`` (which the fragment joiner treats differently):
    its last point is at least the fifth of the descent, which never climbs more than ``SPAN_TOLERANCE_PX`` above
    its lowest point so far, so it ends below its first point when the first five reach lower than that, and
    every later time is after the first.
    """
    head = ys[a:a + min(5, b - a)]
    if float(head.max()) - SPAN_TOLERANCE_PX - float(ys[a]) <= 1e-6 or float(times[a + 1:b].min()) <= times[a]:
        return None
    return check.reason(float(ys[a]) * scale, float(ys[a:b].max()) * scale)


def _clean(track: Track, cfg: CameraConfig, scale: int, p: ClassifierParams,
           check: _SpanCheck) -> tuple[np.ndarray, _Points] | str:
    """The indices and points of the track's fall, or the reason there is none to judge."""
    if len(track) < p.min_points:
        return "short"
    seen = track.seen_frames()  # hidden stretches between joined pieces taken out, for how often it was seen
    xs, ys = np.asarray(track.xs), np.asarray(track.ys)
    all_times = np.asarray(track.times)
    a, b = falling_span(ys, SPAN_TOLERANCE_PX, seen, p.min_fill)
    if b - a < p.min_points:
        return "not_descending"
    early = _too_short(ys, all_times, a, b, scale, check)
    if early is not None:
        return early
    idx = np.arange(a, b)
    # the tracker may have taken a stray blob here and there, or run on after the object (landed, hidden) onto
    # others; follow the object's own curve, unless that leaves too little (a track that began on something else)
    kept = idx[follow_track(track, a, b, p.max_stray_px)]
    if len(kept) >= p.min_points:
        idx = kept
    if len(idx) / (seen[idx[-1]] - seen[idx[0]] + 1) < p.min_fill:
        return "sparse"
    y = ys[idx] * scale
    if float(y[-1] - y[0]) <= 0:
        return "not_descending"
    if core_fill(seen[idx], y) < p.min_core_fill:
        return "sparse"
    times = all_times[idx]
    side = np.sqrt(np.asarray(track.areas, dtype=np.float64)[idx])
    pts = _Points(times - times[0], xs[idx] * scale, ys[idx] * scale, scale * (p.sigma_px + p.sigma_size * side))
    if float(pts.t[-1]) <= 0:
        return "not_descending"
    return idx, pts


def chance_chains(track: Track, idx: np.ndarray) -> float:
    """The log of the number of chains the tracker's gate allowed through the points ``idx``: the product of the
    blobs each gate held. In a crowd (snow, leaves) some chain through unrelated blobs fits a fall by chance, and
    the more chains there were to pick from, the likelier; 0 for a track that never had a choice, or whose counts
    were not kept (a track joined from pieces).
    """
    if len(track.gated) != len(track):
        return 0.0
    held = np.maximum(np.asarray(track.gated, dtype=np.float64)[idx], 1.0)
    return float(np.log(held).sum())


def _charged(fall: Explanation, trials: float) -> Explanation:
    """The fall's evidence after the look-elsewhere effect: the best of N chances fits as well as one chance
    fitting N times better, so its cost (a chi-square, -2 log likelihood) is charged 2 log N.
    """
    return replace(fall, cost=fall.cost + 2.0 * trials)


@lru_cache(maxsize=64)
def _camera_cached(cfg_json: str, width: int, height: int) -> PinholeCamera | None:
    return camera_for(CameraConfig.model_validate(json.loads(cfg_json)), width, height)


def _camera(cfg: CameraConfig, width: int, height: int) -> PinholeCamera | None:
    """The camera the calibration gives, fitted once per configuration and image size."""
    try:
        return _camera_cached(cfg.model_dump_json(), width, height)
    except ValueError:
        return None


def _unphysical(fall: Explanation, p: ClassifierParams) -> bool:
    """Whether no fall through this camera passes near enough to the points: tested before the other
    explanations are fitted (the hops alone cost a fit per possible break), which cannot change this outcome.
    """
    return fall.cost > p.max_cost_per_point * fall.n


def _verdict_from_evidence(fall: Explanation, others: list[Explanation], p: ClassifierParams) -> str | None:
    """None when the fall explains the track well and better than every other explanation; else the reason."""
    if _unphysical(fall, p):
        return "not_physical"
    best = min(others, key=lambda e: e.bic)
    if _short_of(fall.bic, best.bic, p.min_evidence):
        return best.name  # "flight", "drift", "hop", "sway" or "noise" explains it as well or better
    return None


def _short_of(fall_bic: float, rival_bic: float, min_evidence: float) -> bool:
    """Whether the fall fails to win by ``min_evidence``: one expression for every margin asked."""
    return fall_bic + min_evidence > rival_bic


def _bics(fall: Explanation, others: list[Explanation]) -> tuple[float, float]:
    return fall.bic, min(e.bic for e in others)


def _score(fall: Explanation, others: list[Explanation]) -> float:
    """0.5 at the decision margin, towards 1 as the evidence over the next explanation grows."""
    margin = min(e.bic for e in others) - fall.bic
    return round(float(1.0 / (1.0 + np.exp(-margin / 20.0))), 3)


def _physical(cfg: CameraConfig, cam: PinholeCamera, pts: _Points, p: ClassifierParams, trials: float) -> Verdict:
    h = row_to_height(cfg, pts.y)
    if float(h[0] - h[-1]) < p.min_drop_m:
        return Verdict(False, "too_few_floors")
    fit = fit_fall(cam, pts.t, pts.x, pts.y, pts.sigma)
    fall = _charged(fit.explanation, trials)
    if _unphysical(fall, p):
        return Verdict(False, "not_physical")
    others = image_models(pts.t, pts.x, pts.y, pts.sigma)
    reason = _verdict_from_evidence(fall, others, p)
    if reason is not None:
        return Verdict(False, reason)
    # the release is where the fitted path was at its apex, seen in the image (the fit pins the picture down far
    # better than the depth along the ray), and it happened at a window: on the facade, never behind it
    t_rel = max(fit.apex_time(p.max_release_lookback_s), fit.outside_since(p.max_release_lookback_s))
    col, row, height = _on_facade(cam, fit, t_rel)
    top = float(line_heights(cfg)[-1])
    if height > top + cfg.floor_height_m:
        if lowest_release(cam, fit) > top + cfg.floor_height_m:
            return Verdict(False, "above_roof")
        # first seen late: the release is uncertain and may be on the building; the likeliest point of the
        # fitted path that is, is the highest one below the top floor line
        col, row, height = _highest_on_building(cam, fit, t_rel, top)
    floor = 1 + int(np.floor(height / cfg.floor_height_m))
    return Verdict(True, "falling", _score(fall, others), (col, row), floor, x_to_column(cfg, col),
                   bic=_bics(fall, others))


def _on_facade(cam: PinholeCamera, fit: FallFit, t: float) -> tuple[float, float, float]:
    """Image point of the fitted path at time ``t`` and the height of the window there (m)."""
    col, row = (float(v) for v in cam.project(fit.position(np.array([t])))[0])
    return col, row, float(cam.on_facade(col, row, WINDOW_OUT_M)[1])


def lowest_release(cam: PinholeCamera, fit: FallFit) -> float:
    """The lowest release height (m) the fit allows: at first sight the object falls at its fitted vertical
    speed, at least 2 standard errors slower; from rest no body gains that speed in less of a drop than in free
    fall (drag only slows the gain). A fall first seen late, near its terminal speed, has its release traced back
    far above its true one (the time since release is all but unknown there), and only this bound is firm.
    """
    height = _on_facade(cam, fit, 0.0)[2]
    speed = max(0.0, -float(fit.v0[1]) - 2.0 * fit.vy_sigma)
    return height + speed * speed / (2.0 * G)


def _highest_on_building(cam: PinholeCamera, fit: FallFit, t_rel: float,
                         top: float) -> tuple[float, float, float]:
    """The image point and window height of the earliest point of the fitted path, between ``t_rel`` and the
    first sight, that lies below the top floor line ``top`` (m): the highest release on the building the path
    allows; the first point itself when none does.
    """
    times = np.linspace(t_rel, 0.0, 61)
    pix = cam.project(fit.position(times))
    heights = cam.facade_points(pix, WINDOW_OUT_M)[:, 1]  # the window heights the pixels' rays reach
    below = np.flatnonzero(heights < top)
    i = int(below[0]) if below.size else len(times) - 1
    return float(pix[i, 0]), float(pix[i, 1]), float(heights[i])


def _image_space(cfg: CameraConfig, pts: _Points, image_height: int, p: ClassifierParams,
                 trials: float) -> Verdict:
    if float(pts.y[-1] - pts.y[0]) < p.min_span_uncal * image_height:
        return Verdict(False, "short_span")
    fit, coef = fit_image_fall(pts.t, pts.x, pts.y, pts.sigma)
    fall = _charged(fit, trials)
    if float(coef[2, 1] + coef[3, 1] * pts.t[-1] / 2) <= 0:
        return Verdict(False, "not_accelerating")  # a fall only gains speed downwards in the image
    if _unphysical(fall, p):
        return Verdict(False, "not_physical")
    others = image_models(pts.t, pts.x, pts.y, pts.sigma)
    reason = _verdict_from_evidence(fall, others, p)
    if reason is not None:
        return Verdict(False, reason)
    vy, ay = float(coef[1, 1]), float(coef[2, 1])
    t_rel = float(np.clip(-vy / ay, -p.max_release_lookback_s, 0.0))
    basis = np.array([1.0, t_rel, 0.5 * t_rel * t_rel, 0.0])  # before the first point: the parabola alone
    ox, oy = float(basis @ coef[:, 0]), min(float(basis @ coef[:, 1]), float(pts.y[0]))
    floor = height_to_floor(cfg, float(row_to_height(cfg, oy)[0])) if cfg.calibrated else None
    return Verdict(True, "falling", _score(fall, others), (ox, oy), floor, x_to_column(cfg, ox),
                   model="floor_lines" if cfg.calibrated else "uncalibrated", bic=_bics(fall, others))
