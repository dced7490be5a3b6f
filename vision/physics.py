"""Explanations of a track and how well each explains it: a falling body seen through the camera, or the things
that are not falls (flight at constant velocity, drift, two things the tracker went between, swaying, noise
around a point).

Every model is fitted by robust least squares in image pixels under one noise model: a detection's centre is off
by ``sigma`` px (Gaussian core, Cauchy tails, so a stray blob costs a bounded amount). A model's evidence is its
robust cost plus ``log n`` per parameter (BIC): the fall is believed when it explains the track about as well as
the noise allows and better than every other explanation.

The falling body: gravity, linear drag ``k`` (a grid of values, so the fit stays linear) and a 3-D state at the
first detection, position (x, height, distance out from the facade) and velocity. Projected through the pinhole
camera the image equations are linear in that state after multiplying out the depth, so each drag value is one
weighted linear solve, re-weighted a few times for the depth and the robust loss; all drag values at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vision.geometry import PinholeCamera

Array = NDArray[np.float64]
G = 9.81
DRAG = np.array([0.0, 0.08, 0.16, 0.3, 0.5, 0.8])  # 1/s; terminal speeds inf, 123, 61, 33, 20, 12 m/s
_PIN = 1e8  # weight that holds a speed at its bound (the inequality met as an equality)
CAUCHY = 2.0  # in units of sigma: beyond it a residual costs ever less extra (a stray, not the model)
OSC_HZ = np.array([0.3, 0.45, 0.6, 0.8, 1.0, 1.3, 1.7, 2.2, 3.0, 4.0])  # swaying foliage, cloth, flags


@dataclass(frozen=True)
class Explanation:
    """One model's fit: robust cost (sum over points, ~ chi-square), parameters, and its BIC."""

    name: str
    cost: float
    params: int
    n: int

    @property
    def bic(self) -> float:
        """Robust cost plus the parameters' price: fewer parameters win a tie."""
        return self.cost + self.params * float(np.log(max(self.n, 2)))


@dataclass(frozen=True)
class FallFit:
    """The best falling-body fit: drag, state at t = 0 (first point), residuals per point (px)."""

    explanation: Explanation
    drag: float
    p0: Array  # (3,) m: along the facade, height, out from the facade
    v0: Array  # (3,) m/s
    residual_px: Array  # (n,)
    vy_sigma: float = 0.0  # m/s: standard error of the vertical speed at the first point (the fit's covariance)
    # covariance of the distance out from the facade and the outward speed at the first point (m, m/s)
    out_cov: Array | None = None

    def position(self, t: Array) -> Array:
        """(n, 3) world positions at times ``t`` (s, may be before the first point)."""
        phi, psi = _basis(np.array([self.drag]), t)
        return np.asarray(self.p0 + self.v0 * phi[0][:, None] - np.outer(G * psi[0], [0.0, 1.0, 0.0]),
                          dtype=np.float64)

    def outside_since(self, lookback: float, steps: int = 61) -> float:
        """The earliest time, at most ``lookback`` seconds before the first point, since which the fitted path
        has not been surely behind the facade (2 standard errors of its distance out): no release lies inside
        the building, so a path traced back through the facade plane was released no earlier than where it
        crosses it (the first point itself when the fit puts even that behind the plane).
        """
        times = np.linspace(0.0, -lookback, steps)
        phi = _basis(np.array([self.drag]), times)[0][0]  # displacement per unit initial speed
        out = self.p0[2] + self.v0[2] * phi  # gravity does not move a body out from the facade
        if self.out_cov is not None:
            c = self.out_cov
            out = out + 2.0 * np.sqrt(np.maximum(c[0, 0] + 2.0 * phi * c[0, 1] + phi * phi * c[1, 1], 0.0))
        behind = np.flatnonzero(out < 0.0)
        return -lookback if behind.size == 0 else float(times[max(int(behind[0]) - 1, 0)])

    def apex_time(self, lookback: float) -> float:
        """When the vertical speed was zero (the release of a drop, the top of a toss), at most ``lookback``
        seconds before the first point and never after it.
        """
        k, vy = self.drag, float(self.v0[1])
        if k == 0:
            t_apex = vy / G
        else:
            arg = 1.0 + k * vy / G
            t_apex = float(np.log(arg)) / k if arg > 0 else -lookback
        return float(np.clip(t_apex, -lookback, 0.0))


def rho(e2: Array) -> Array:
    """Cauchy loss of squared normalised residuals: e^2 near zero, logarithmic for strays."""
    return np.asarray(CAUCHY**2 * np.log1p(e2 / CAUCHY**2), dtype=np.float64)


def _irls_weights(e2: Array) -> Array:
    return np.asarray(1.0 / (1.0 + e2 / CAUCHY**2), dtype=np.float64)


def _basis(k: Array, t: Array) -> tuple[Array, Array]:
    """(K, n) phi = displacement per unit initial velocity, psi = fall per unit g, under linear drag k."""
    kk = np.maximum(k, 1e-9)[:, None]
    e = np.exp(-kk * t[None, :])
    phi = np.where(k[:, None] > 0, (1.0 - e) / kk, t[None, :])
    psi = np.where(k[:, None] > 0, (t[None, :] - phi) / kk, 0.5 * t[None, :] ** 2)
    return np.asarray(phi, dtype=np.float64), np.asarray(psi, dtype=np.float64)


@dataclass(frozen=True)
class FallPrior:
    """What a release from a window allows: the object starts near the facade and moves sideways slowly."""

    z0_m: float = 0.5  # out from the facade at the first detection
    z0_sigma_m: float = 1.5
    horizontal_sigma_mps: float = 2.5  # sideways and outward speed (throws reach ~3 m/s)
    max_up_mps: float = 3.0  # a drop or a throw: at first sight the object rises no faster than a throw


def fit_fall(cam: PinholeCamera, t: Array, col: Array, row: Array, sigma: Array,
             prior: FallPrior | None = None, iterations: int = 5) -> FallFit:
    """Robust least-squares falling body through ``cam`` for image points (full-resolution px) at times ``t``."""
    pr = prior or FallPrior()
    n, k = len(t), DRAG
    rot, centre, f = cam.R, cam.C, cam.f
    a = np.concatenate([(col - cam.cx)[:, None] * rot[2] - f * rot[0],
                        (row - cam.cy)[:, None] * rot[2] - f * rot[1]])  # (2n, 3): a . (p - C) = 0
    phi, psi = _basis(k, t)
    phi2, psi2 = np.tile(phi, 2), np.tile(psi, 2)  # (K, 2n), rows match ``a``
    m = np.concatenate([np.broadcast_to(a, (len(k), 2 * n, 3)), a[None] * phi2[..., None]], axis=2)  # (K, 2n, 6)
    rhs = (a @ centre)[None, :] + G * psi2 * a[None, :, 1]
    prior_m = np.zeros((4, 6))
    prior_m[0, 2] = 1.0 / pr.z0_sigma_m
    prior_m[1, 3] = prior_m[2, 5] = 1.0 / pr.horizontal_sigma_mps
    prior_m[3, 4] = 1e-3  # a whisper on the vertical speed: keeps a degenerate track solvable
    prior_rhs = np.array([pr.z0_m / pr.z0_sigma_m, 0.0, 0.0, 0.0])
    row_w = np.full((len(k), 2 * n), 1.0 / (max(cam.distance, 1.0) * float(np.median(sigma))))
    for _ in range(iterations):
        mw = m * row_w[..., None]
        mwt = mw.transpose(0, 2, 1)  # batched matmul: less per-call overhead than einsum at these sizes
        lhs = mwt @ mw + (prior_m.T @ prior_m)[None]
        r_side = (mwt @ (rhs * row_w)[..., None])[..., 0] + (prior_m.T @ prior_rhs)[None]
        u = np.linalg.solve(lhs, r_side[..., None])[..., 0]  # (K, 6)
        rising = u[:, 4] > pr.max_up_mps
        if rising.any():  # no release rises that fast: hold the upward speed at the bound, solve again
            u = _solve_held(lhs, r_side, rising, pr.max_up_mps)
        pts = u[:, None, :3] + u[:, None, 3:] * phi[..., None] - G * psi[..., None] * np.array([0.0, 1.0, 0.0])
        pc = (pts - centre) @ rot.T  # (K, n, 3)
        depth = np.maximum(pc[..., 2], 0.1)
        res = np.stack([cam.cx + f * pc[..., 0] / depth - col, cam.cy + f * pc[..., 1] / depth - row], axis=-1)
        e2 = (res**2).sum(axis=-1) / sigma**2  # (K, n)
        w = np.sqrt(_irls_weights(e2)) / (depth * sigma)
        row_w = np.concatenate([w, w], axis=1)
    prior_cost = ((u @ prior_m.T - prior_rhs) ** 2).sum(axis=1)
    behind = (pc[..., 2] <= 0.1).sum(axis=1) * 1e3  # a fit that puts the object behind the camera is no fit
    costs = rho(e2).sum(axis=1) + prior_cost + behind
    best = int(np.argmin(costs))
    expl = Explanation("fall", float(costs[best]), 7, n)
    # the normal matrix is the inverse covariance of the state (residuals in units of sigma)
    cov = np.linalg.inv(lhs[best])
    vy_var = float(cov[4, 4])
    return FallFit(expl, float(k[best]), u[best, :3].copy(), u[best, 3:].copy(), np.sqrt(e2[best]) * sigma,
                   float(np.sqrt(max(vy_var, 0.0))), np.asarray(cov[np.ix_([2, 5], [2, 5])], dtype=np.float64))


def _solve_held(lhs: Array, r_side: Array, held: NDArray[np.bool_], up_mps: float) -> Array:
    """Batched normal equations (K, 6, 6) with the upward speed (state entry 4) of the ``held`` drag values kept
    at ``up_mps``: the least-squares state on the edge of what a release allows.
    """
    lhs, r_side = lhs.copy(), r_side.copy()
    lhs[held, 4, 4] += _PIN
    r_side[held, 4] += _PIN * up_mps
    return np.asarray(np.linalg.solve(lhs, r_side[..., None])[..., 0], dtype=np.float64)


def _robust_linear(basis: Array, values: Array, sigma: Array, iterations: int = 4) -> tuple[Array, Array]:
    """Batched robust linear fits: ``basis`` (B, n, p), ``values`` (n, 2) for x and y sharing weights; returns
    squared normalised 2-D residuals (B, n) and coefficients (B, p, 2).
    """
    # batched matmul rather than einsum: at these sizes (a few dozen points, up to 4 terms) it is the per-call
    # overhead that counts, and matmul's is a third of einsum's (the hop fits: half the time)
    w = np.ones(basis.shape[:2]) / sigma
    e2 = np.zeros(basis.shape[:2])
    coef = np.zeros((basis.shape[0], basis.shape[2], 2))
    ridge = 1e-9 * np.eye(basis.shape[2])
    for _ in range(iterations):
        bw = basis * w[..., None]
        bwt = bw.transpose(0, 2, 1)
        coef = np.asarray(np.linalg.solve(bwt @ bw + ridge, bwt @ (values[None] * w[..., None])), dtype=np.float64)
        res = basis @ coef - values[None]
        e2 = (res**2).sum(axis=-1) / sigma**2
        w = np.sqrt(_irls_weights(e2)) / sigma
    return e2, coef


def _robust_drift(t: Array, col: Array, row: Array, sigma: Array, iterations: int = 4) -> Array:
    """Squared normalised residuals (n,) of a robust fit with the height falling at one steady speed and the
    column wandering freely (a cubic), both sharing the robust weights.
    """
    ts = t / max(float(t[-1] - t[0]), 1e-6)  # unit span keeps the cubic well conditioned
    bases = (np.stack([np.ones_like(ts), ts, ts * ts, ts**3], axis=1), np.stack([np.ones_like(ts), ts], axis=1))
    w = 1.0 / sigma
    e2 = np.zeros_like(t)
    for _ in range(iterations):
        e2 = np.zeros_like(t)
        for basis, values in zip(bases, (col, row), strict=True):
            bw = basis * w[:, None]
            coef = np.linalg.solve(bw.T @ bw + 1e-9 * np.eye(basis.shape[1]), bw.T @ (values * w))
            e2 = e2 + ((basis @ coef - values) / sigma) ** 2
        w = np.sqrt(_irls_weights(e2)) / sigma
    return e2


def image_models(t: Array, col: Array, row: Array, sigma: Array) -> list[Explanation]:
    """The other explanations, in image pixels: a still thing in noise, flight at constant velocity, drift
    (sinking at a steady speed while wandering sideways: snow, a leaf, an insect, anything already at its
    terminal speed, which no release from a window a moment ago can be), two things the tracker went between
    (``_hops``), and swaying about a fixed point (only with a full sway period inside the track, or any slow
    curve would pass).
    """
    n = len(t)
    xy = np.stack([col, row], axis=1)
    ones = np.ones(n)
    still = np.stack([ones], axis=1)[None]
    line = np.stack([ones, t], axis=1)[None]
    e_still, _ = _robust_linear(still, xy, sigma)
    e_line, _ = _robust_linear(line, xy, sigma)
    out = [Explanation("noise", float(rho(e_still[0]).sum()), 2, n),
           Explanation("flight", float(rho(e_line[0]).sum()), 4, n),
           Explanation("drift", float(rho(_robust_drift(t, col, row, sigma)).sum()), 6, n)]
    out += _hops(t, xy, sigma)
    span = float(t[-1] - t[0]) if n > 1 else 0.0
    hz = OSC_HZ[OSC_HZ * span >= 1.0]
    if hz.size:
        wt = 2 * np.pi * hz[:, None] * t[None, :]
        osc = np.stack([np.broadcast_to(ones, wt.shape), np.sin(wt), np.cos(wt)], axis=2)
        e_osc, _ = _robust_linear(osc, xy, sigma)
        out.append(Explanation("sway", float(rho(e_osc).sum(axis=1).min()), 7, n))
    return out


def _hops(t: Array, xy: Array, sigma: Array) -> list[Explanation]:
    """Two things, not one: the tracker went from one thing to another at some point of the track (a tree's
    crown to the next blob, one snowflake to another). Either both are still (two levels, 4 parameters), or
    both move at one velocity and the second is displaced from the first (two flakes in the same wind, 6); the
    break between them is where it fits best. A falling body is neither: it gains speed, so no one velocity on
    both sides fits it, and a body hidden for a while reappears where its motion carried it.
    """
    n = len(t)
    if n < 3:
        return []
    # the break is the best of n - 1 places, so it is charged as a choice among them (2 ln (n - 1), as a fall
    # picked among many chains is, vision/classifier.py), not as one more parameter
    chosen = 2.0 * float(np.log(n - 1))
    after = (np.arange(n)[None, :] >= np.arange(1, n)[:, None]).astype(np.float64)  # (n - 1 breaks, n)
    ones = np.ones_like(after)
    levels = np.stack([1.0 - after, after], axis=2)
    moving = np.stack([ones, np.broadcast_to(t, after.shape), after], axis=2)
    e_levels, _ = _robust_linear(levels, xy, sigma)
    e_moving, _ = _robust_linear(moving, xy, sigma)
    return [Explanation("hop", float(rho(e_levels).sum(axis=1).min()) + chosen, 4, n),
            Explanation("hop", float(rho(e_moving).sum(axis=1).min()) + chosen, 6, n)]


def fit_image_fall(t: Array, col: Array, row: Array, sigma: Array) -> tuple[Explanation, Array]:
    """Without a camera: a parabola in the image with a jerk term, as floors grow down the picture and drag
    slows the gain (perspective bends sideways drift, so x gets the same); returns its explanation and the
    coefficients (4, 2): position, velocity, acceleration and jerk at the first point, for x and y.
    """
    basis = np.stack([np.ones_like(t), t, 0.5 * t * t, t**3 / 6.0], axis=1)[None]
    e2, coef = _robust_linear(basis, np.stack([col, row], axis=1), sigma)
    return Explanation("fall", float(rho(e2[0]).sum()), 8, len(t)), coef[0]
