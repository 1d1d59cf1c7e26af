"""Repeat the lab's experiment: the same groups, new measurements, R times.

Why is "pulled towards the mean" a good trade? One simulated data set cannot show it: a
single estimate is just a number. Keep the groups (their true intercepts and slopes, their
sizes and covariate values) and draw only the measurement noise again, R times; refit no
pooling and the mixed model on every copy. Then, per group, the estimates scatter around the
truth, and per method

    bias      = mean over copies of (estimate − truth)      (no pooling: ≈ 0; partial: towards the mean)
    variance  = variance over copies of the estimate        (partial pooling: smaller)
    RMSE      = √(bias² + variance)                         (partial pooling: smaller, most for small groups)

Fast enough to move with a slider: the design (X, Z, the groups) is the same in every copy,
so the per-group cross products are computed once, the noise for all copies is drawn at
once, no pooling is solved for all copies in one batch, and each mixed-model refit starts
from the previous copy's θ. Given θ, every group's partial-pooling estimate follows in closed
form, β + A(I + SⱼA)⁻¹(Zⱼᵀyⱼ − Sⱼβ) with A = TTᵀ the relative covariance (σ² cancels), for all
groups at once.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from lmm_core import group_sums

from .pooling import fit_mixed_model, mixed_model_design, no_pooling, prepare_groups
from .simulate import SimulationSettings, simulate

MAX_REPEATS = 200
COEFFICIENTS = ("intercept", "slope")


@dataclass
class RepeatedExperiment:
    """``estimates``: long frame (rep, group, n, method "none" | "partial", coefficient, estimate,
    truth, error). ``by_group``: per group, method and coefficient: n, truth, mean, bias, variance,
    rmse. ``by_size``: the same averaged over groups of equal size (bias as the mean |bias|)."""

    settings: SimulationSettings
    random: str
    repeats: int
    estimates: pd.DataFrame
    by_group: pd.DataFrame
    by_size: pd.DataFrame
    failed: int  # copies whose mixed model could not be fitted (left out)


def _copies(settings: SimulationSettings, repeats: int):
    """The fixed groups and R noise draws: (grouped data, X, truth (m, 2), Y (n, R))."""
    sim = simulate(settings)
    g = prepare_groups(sim.data, "y", "group", "x")
    X = g.design_matrix()
    truth = sim.truth.loc[g.levels, list(COEFFICIENTS)].to_numpy()
    mean = truth[g.codes, 0] + truth[g.codes, 1] * g.x
    rng = np.random.default_rng([settings.seed, 7919])
    Y = mean[:, None] + settings.sd_residual * rng.standard_normal((repeats, len(mean))).T
    return g, X, truth, Y


def _T(theta: np.ndarray, random: str) -> np.ndarray:
    """Relative covariance factors T (R, q, q) from θ (R, k) in lme4's order."""
    R = theta.shape[0]
    if random in ("intercept", "slope"):
        return theta.reshape(R, 1, 1)
    T = np.zeros((R, 2, 2))
    if random == "both":
        T[:, 0, 0], T[:, 1, 0], T[:, 1, 1] = theta[:, 0], theta[:, 1], theta[:, 2]
    else:  # uncorrelated: two terms, a diagonal T
        T[:, 0, 0], T[:, 1, 1] = theta[:, 0], theta[:, 1]
    return T


@dataclass
class _Batch:
    """Cross products of the fixed design (the same in every copy) and of each copy's y."""

    S: np.ndarray  # (m, q, q)  Z_jᵀZ_j
    ZX: np.ndarray  # (m, q, p)  Z_jᵀX_j
    XX: np.ndarray  # (p, p)
    Zy: np.ndarray  # (R, m, q)
    Xy: np.ndarray  # (R, p)
    yy: np.ndarray  # (R,)
    n: int
    random: str


def _batch(g, X, Z, Y, random) -> _Batch:
    m, q, p, R = g.n_groups, Z.shape[1], X.shape[1], Y.shape[1]
    S = group_sums(g.codes, m, (Z[:, :, None] * Z[:, None, :]).reshape(-1, q * q)).reshape(m, q, q)
    ZX = group_sums(g.codes, m, (Z[:, :, None] * X[:, None, :]).reshape(-1, q * p)).reshape(m, q, p)
    Zy = group_sums(g.codes, m, (Z[:, :, None] * Y[:, None, :]).reshape(len(Y), -1)).reshape(m, q, R)
    return _Batch(S, ZX, X.T @ X, Zy.transpose(2, 0, 1), Y.T @ X, np.einsum("nr,nr->r", Y, Y), len(Y), random)


def _factor_parts(theta: np.ndarray, random: str):
    """(a, b, c) of T = [[a, 0], [b, c]] per copy, as (R, 1) columns (q = 1: a only)."""
    col = lambda i: theta[:, i:i + 1]  # noqa: E731
    if random in ("intercept", "slope"):
        return col(0), None, None
    if random == "both":
        return col(0), col(1), col(2)
    return col(0), np.zeros_like(col(0)), col(1)


def _reml(theta: np.ndarray, b: _Batch, want_beta: bool = False):
    """The profiled REML criterion (lme4's) of every copy at its own θ: (R,) values, all
    copies and groups at once. Penalized least squares on the per-group cross products,
    with the q × q (q ≤ 2) Cholesky factors of TᵀSⱼT + I written out, so every step is an
    elementwise operation on (copies × groups) arrays."""
    a, bb, c = _factor_parts(theta, b.random)
    S, ZX, Zy = b.S, b.ZX, b.Zy
    if bb is None:  # q = 1
        l00 = np.sqrt(a * a * S[None, :, 0, 0] + 1.0)  # (R, m)
        RZX = [(a / l00)[..., None] * ZX[None, :, 0, :]]  # (R, m, p)
        cu = [a * Zy[..., 0] / l00]
        logdetL = 2.0 * np.log(l00).sum(axis=1)
    else:
        s00, s01, s11 = S[None, :, 0, 0], S[None, :, 0, 1], S[None, :, 1, 1]
        t00 = a * s00 + bb * s01  # (TᵀS) row 0
        t01 = a * s01 + bb * s11
        m00 = t00 * a + t01 * bb + 1.0
        m01 = t01 * c
        m11 = c * s11 * c + 1.0
        l00 = np.sqrt(m00)
        l10 = m01 / l00
        l11 = np.sqrt(np.maximum(m11 - l10 * l10, 1e-300))
        v0 = a[..., None] * ZX[None, :, 0, :] + bb[..., None] * ZX[None, :, 1, :]  # Tᵀ ZᵀX, (R, m, p)
        v1 = c[..., None] * ZX[None, :, 1, :]
        w0 = v0 / l00[..., None]
        RZX = [w0, (v1 - l10[..., None] * w0) / l11[..., None]]
        y0 = a * Zy[..., 0] + bb * Zy[..., 1]
        y1 = c * Zy[..., 1]
        u0 = y0 / l00
        cu = [u0, (y1 - l10 * u0) / l11]
        logdetL = 2.0 * (np.log(l00) + np.log(l11)).sum(axis=1)
    XtVX = b.XX - sum(np.matmul(r.transpose(0, 2, 1), r) for r in RZX)  # (R, p, p)
    rhs = b.Xy - sum(np.einsum("rmp,rm->rp", r, u) for r, u in zip(RZX, cu))
    RX = np.linalg.cholesky(XtVX)
    beta = np.linalg.solve(XtVX, rhs[..., None])[..., 0]
    r2 = b.yy - sum((u * u).sum(axis=1) for u in cu) - np.einsum("rp,rp->r", rhs, beta)
    p = b.XX.shape[0]
    logdetRX = 2.0 * np.log(np.einsum("rpp->rp", RX)).sum(axis=1)
    dof = b.n - p
    value = logdetL + logdetRX + dof * (1.0 + np.log(2.0 * np.pi * np.maximum(r2, 1e-300) / dof))
    return (value, beta) if want_beta else value


def _diagonal(random: str) -> list[int]:
    return {"intercept": [0], "slope": [0], "both": [0, 2], "uncorrelated": [0, 1]}[random]


def _fit_all(b: _Batch, theta0: np.ndarray, R: int):
    """θ for every copy: L-BFGS-B on the sum of the copies' criteria (it separates, so its
    optimum is every copy's own optimum), with a forward-difference gradient that perturbs one
    θ coordinate of all copies at once."""
    from scipy.optimize import minimize

    k = theta0.size
    lower = np.full(k, -np.inf)
    lower[_diagonal(b.random)] = 0.0
    x0 = np.tile(np.maximum(theta0, lower + 1e-3 * (lower == 0)), R)
    h = 1e-6

    def f(x):
        th = x.reshape(R, k)
        v = _reml(th, b)
        grad = np.empty_like(th)
        for i in range(k):
            step = th.copy()
            # a backward step where a forward one would leave the allowed region is never needed:
            # the bound is 0 below, and we always step upwards
            step[:, i] += h
            grad[:, i] = (_reml(step, b) - v) / h
        return float(v.sum()), grad.ravel()

    with np.errstate(all="ignore"):
        res = minimize(f, x0, jac=True, method="L-BFGS-B", bounds=[(lo if np.isfinite(lo) else None, None)
                                                                    for lo in np.tile(lower, R)],
                       options={"maxiter": 500, "ftol": 1e-12, "gtol": 1e-6 * R})
    theta = res.x.reshape(R, k)
    theta[:, _diagonal(b.random)] = np.maximum(theta[:, _diagonal(b.random)], 0.0)
    return theta


def repeat_experiment(settings: SimulationSettings, repeats: int = 100, random: str = "both",
                      start=None, progress=None, chunk: int = 100) -> RepeatedExperiment:
    """Refit no pooling and the mixed model on ``repeats`` noise draws of the same groups.

    The mixed model is refitted for ``chunk`` copies at a time (batched REML, started from
    the fit of the data set itself or from ``start``); ``progress(done, total)`` is called
    after each chunk (for a progress bar)."""
    repeats = int(max(2, min(repeats, MAX_REPEATS)))
    g, X, truth, Y = _copies(settings, repeats)
    m = g.n_groups
    design = mixed_model_design(g, X, random)
    Z = np.column_stack([t.Z for t in design.terms])
    names = [n for t in design.terms for n in t.names]
    cols = [0 if n == "(Intercept)" else 1 for n in names]
    # no pooling for all copies: matched to the random part, one batch per copy (cheap sums)
    own = np.stack([no_pooling(X, Y[:, r], g.codes, g.counts, random).coef[:, :2] for r in range(repeats)])
    if start is None:
        start = fit_mixed_model(replace(g, y=Y[:, 0]), X, random).theta
    theta0 = np.asarray(start, float)
    mixed = np.empty((repeats, m, 2))
    for lo in range(0, repeats, chunk):
        hi = min(lo + chunk, repeats)
        b = _batch(g, X, Z, Y[:, lo:hi], random)
        theta = _fit_all(b, theta0, hi - lo)
        _, beta = _reml(theta, b, want_beta=True)
        T = _T(theta, random)
        A = np.einsum("rab,rcb->rac", T, T)  # T Tᵀ: the random effects' covariance / σ²
        q = A.shape[1]
        G = np.einsum("rab,rmbc->rmac", A, np.linalg.inv(np.eye(q) + np.einsum("mab,rbc->rmac", b.S, A)))
        resid = b.Zy - np.einsum("mqp,rp->rmq", b.ZX, beta)
        beta_z = beta[:, cols]
        est = beta_z[:, None, :] + np.einsum("rmab,rmb->rma", G, resid)
        coef = np.repeat(beta[:, None, :2], m, axis=1)
        coef[:, :, cols] = est
        mixed[lo:hi] = coef
        if progress is not None:
            progress(hi, repeats)
    return _summarise(settings, random, repeats, g, truth, own, mixed, 0)


def _summarise(settings, random, repeats, g, truth, own, mixed, failed) -> RepeatedExperiment:
    m = g.n_groups
    frames = []
    for method, values in (("none", own), ("partial", mixed)):
        for k, coefficient in enumerate(COEFFICIENTS):
            est = values[:, :, k]
            frames.append(pd.DataFrame({
                "rep": np.repeat(np.arange(repeats), m), "group": np.tile(np.asarray(g.levels, object), repeats),
                "n": np.tile(g.counts, repeats), "method": method, "coefficient": coefficient,
                "estimate": est.ravel(), "truth": np.tile(truth[:, k], repeats),
            }))
    estimates = pd.concat(frames, ignore_index=True)
    estimates["error"] = estimates["estimate"] - estimates["truth"]
    estimates["sq_error"] = estimates["error"] ** 2
    ok = estimates.dropna(subset=["estimate"])
    grouped = ok.groupby(["method", "coefficient", "group"], sort=False)
    by_group = grouped.agg(n=("n", "first"), truth=("truth", "first"), mean=("estimate", "mean"),
                           bias=("error", "mean"), variance=("estimate", "var"),
                           mse=("sq_error", "mean")).reset_index()
    by_group["rmse"] = np.sqrt(by_group["mse"])
    by_group["abs_bias"] = by_group["bias"].abs()
    by_size = by_group.groupby(["method", "coefficient", "n"], sort=True).agg(
        groups=("group", "size"), abs_bias=("abs_bias", "mean"), variance=("variance", "mean"),
        mse=("mse", "mean")).reset_index()
    by_size["rmse"] = np.sqrt(by_size["mse"])
    return RepeatedExperiment(settings, random, repeats, estimates, by_group, by_size, failed)


def summary(exp: RepeatedExperiment, coefficient: str = "slope") -> pd.DataFrame:
    """Per method, over all groups: mean |bias|, mean variance and RMSE of ``coefficient``."""
    d = exp.by_group[exp.by_group["coefficient"] == coefficient]
    out = d.groupby("method").agg(abs_bias=("abs_bias", "mean"), variance=("variance", "mean"),
                                  mse=("mse", "mean"))
    out["rmse"] = np.sqrt(out["mse"])
    return out.reindex(["none", "partial"])
