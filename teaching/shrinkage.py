"""Why the mixed model's group estimates move towards the population: the formulas.

Random intercept, per group j (the textbook identity, exact for lme4's conditional modes):

    λ_j = τ² / (τ² + σ²/n_j),     b̂_j = λ_j (ȳ_j − x̄_jᵀβ̂)

Random intercept and slope (or any random terms of one grouping factor), per group j
with random-effect columns Z_j, S_j = Z_jᵀZ_j and prior covariance Σ:

    own estimate      β̂_j = S_j⁻¹ Z_jᵀ y_j            (sampling covariance σ² S_j⁻¹)
    compromise        (Σ⁻¹ + S_j/σ²)⁻¹ (S_j/σ² β̂_j + Σ⁻¹ β)
                    = β + Σ (σ² I + S_j Σ)⁻¹ Z_jᵀ (y_j − Z_j β)

The second form needs neither Σ⁻¹ (a singular fit is fine) nor β̂_j (a group too small
for its own line still gets a compromise). When the fixed part has columns beyond the
random ones (e.g. iris's Sepal.Width) y_j is first adjusted for them: y_j − X_j,other β_other.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lmm_core import DataError, group_sums, random_effect_covariance

INTERCEPT = "(Intercept)"
ESTIMABLE_TOL = 1e-10  # smallest eigenvalue of a group's scaled S_j for its own estimate to exist


def _fit_of(source):
    """An LmerFit, from a fit or from anything holding one in ``.fit`` (a PoolingResult)."""
    fit = getattr(source, "fit", source)
    if not hasattr(fit, "model") or not hasattr(fit, "varcorr"):
        raise DataError("Expected a mixed-model fit (LmerFit) or a pooling result.")
    return fit


def _one_factor_terms(fit):
    terms = fit.model.terms
    first = terms[0]
    if any(t.group != first.group or not np.array_equal(t.codes, first.codes) for t in terms[1:]):
        raise DataError("Shrinkage formulas here need all random effects to share one grouping factor.")
    return terms


# -- random intercept: λ ---------------------------------------------------------------
@dataclass
class InterceptShrinkage:
    """Per group (``table``): n, lambda, ybar, xbar_beta (mean fixed-effect prediction),
    raw_deviation = ybar − xbar_beta, and conditional_mode = lambda · raw_deviation."""

    table: pd.DataFrame
    tau2: float  # random-intercept variance
    sigma2: float  # residual variance

    @property
    def lambdas(self) -> np.ndarray:
        return self.table["lambda"].to_numpy()


def intercept_shrinkage(source) -> InterceptShrinkage:
    """λ_j and b̂_j = λ_j (ȳ_j − x̄_jᵀβ̂) for a random-intercept-only fit (``(1 | g)``)."""
    fit = _fit_of(source)
    terms = fit.model.terms
    if len(terms) != 1 or terms[0].names != [INTERCEPT] or not np.all(terms[0].Z == 1.0):
        raise DataError("intercept_shrinkage needs a model whose only random effect is a random intercept (1 | g).")
    term = terms[0]
    m = term.n_levels
    n = np.bincount(term.codes, minlength=m).astype(float)
    ybar = np.bincount(term.codes, fit.model.y, minlength=m) / n
    xbar_beta = np.bincount(term.codes, fit.model.X @ fit.beta, minlength=m) / n
    tau2, sigma2 = float(fit.varcorr[0].cov[0, 0]), fit.sigma**2
    lam = n * tau2 / (n * tau2 + sigma2)
    raw = ybar - xbar_beta
    table = pd.DataFrame({"group": term.levels, "n": n.astype(int), "lambda": lam, "ybar": ybar,
                          "xbar_beta": xbar_beta, "raw_deviation": raw, "conditional_mode": lam * raw})
    return InterceptShrinkage(table, tau2, sigma2)


# -- any random terms of one factor: the precision-weighted compromise -------------------
@dataclass
class MatrixShrinkage:
    """Per group j (arrays over groups in ``levels`` order, q = number of random columns):

    own_estimate (m, q)    the group's own least-squares estimate β̂_j (NaN where not estimable)
    own_cov (m, q, q)      its sampling covariance σ² S_j⁻¹ (NaN where not estimable)
    compromise (m, q)      the mixed model's estimate (equals lme4's coef for these columns)
    weight (m, q, q)       W_j, the matrix weight on the own estimate:
                           compromise = W_j β̂_j + (I − W_j) population
    posterior_cov (m,q,q)  conditional covariance of the group's coefficients given β̂, θ
    prior_cov (q, q)       Σ, the random-effect covariance; population (q,) the fixed part β
    """

    levels: list[str]
    names: list[str]
    n: np.ndarray
    estimable: np.ndarray
    own_estimate: np.ndarray
    own_cov: np.ndarray
    compromise: np.ndarray
    weight: np.ndarray
    posterior_cov: np.ndarray
    prior_cov: np.ndarray
    population: np.ndarray
    sigma2: float

    def table(self) -> pd.DataFrame:
        """One row per group: n, estimable, own_<name> and partial_<name> for each random column."""
        out = {"group": self.levels, "n": self.n, "estimable": self.estimable}
        out.update({f"own_{name}": self.own_estimate[:, k] for k, name in enumerate(self.names)})
        out.update({f"partial_{name}": self.compromise[:, k] for k, name in enumerate(self.names)})
        return pd.DataFrame(out)


def matrix_shrinkage(source) -> MatrixShrinkage:
    """Own estimate, its sampling covariance, Σ and the precision-weighted compromise, per group."""
    fit = _fit_of(source)
    terms = _one_factor_terms(fit)
    codes, levels, m = terms[0].codes, terms[0].levels, terms[0].n_levels
    Z = np.column_stack([t.Z for t in terms])
    names = [name for t in terms for name in t.names]
    q = Z.shape[1]
    fixed = fit.fixed_names
    # Fixed effects of the random columns (0 for a random effect without a fixed one) and the rest.
    beta_z = np.array([fit.beta[fixed.index(nm)] if nm in fixed else 0.0 for nm in names])
    other = [i for i, nm in enumerate(fixed) if nm not in names]
    y = fit.model.y - fit.model.X[:, other] @ fit.beta[other]

    S = group_sums(codes, m, (Z[:, :, None] * Z[:, None, :]).reshape(-1, q * q)).reshape(m, q, q)
    Zy = group_sums(codes, m, Z * y[:, None])
    n = np.bincount(codes, minlength=m)
    sigma2 = fit.sigma**2
    Sigma = random_effect_covariance(fit)

    # The group's own estimate exists where S_j is (numerically) invertible.
    unit = 1.0 / np.maximum(np.sqrt((Z**2).mean(axis=0)), 1e-300)
    scaled = S * np.outer(unit, unit) / np.maximum(n, 1)[:, None, None]
    estimable = (n >= q) & (np.linalg.eigvalsh(scaled)[:, 0] > ESTIMABLE_TOL)
    own = np.full((m, q), np.nan)
    own_cov = np.full((m, q, q), np.nan)
    if estimable.any():
        S_inv = np.linalg.inv(S[estimable])
        own[estimable] = np.einsum("mab,mb->ma", S_inv, Zy[estimable])
        own_cov[estimable] = sigma2 * S_inv

    # G_j = Σ (σ² I + S_j Σ)⁻¹ = (Σ⁻¹ + S_j/σ²)⁻¹ / σ², without inverting Σ (it may be singular).
    G = Sigma @ np.linalg.inv(sigma2 * np.eye(q) + S @ Sigma)
    weight = G @ S
    compromise = beta_z + np.einsum("mab,mb->ma", G, Zy - np.einsum("mab,b->ma", S, beta_z))
    posterior_cov = sigma2 * G  # = (Σ⁻¹ + S_j/σ²)⁻¹ = (I − W_j) Σ
    return MatrixShrinkage(
        levels=list(levels), names=names, n=n, estimable=estimable, own_estimate=own, own_cov=own_cov,
        compromise=compromise, weight=weight, posterior_cov=posterior_cov, prior_cov=Sigma,
        population=beta_z, sigma2=sigma2,
    )


# -- summaries and drawing -----------------------------------------------------------------
def mean_shrinkage_factor(source) -> pd.Series:
    """Per random column: the mean over groups of 1 − (conditional variance / prior variance).

    This is the weight a group's own data get (the "reliability"): for a random intercept
    it equals the mean of λ_j exactly. Near 1: groups keep their own estimates (little
    shrinkage); near 0: every group is pulled onto the population line. A column whose prior
    variance is 0 (a singular fit) counts as fully pulled (0).
    """
    fit = _fit_of(source)
    values, names = [], []
    for (_, term_names, condvar), vc in zip(fit.ranef_condvar(), fit.varcorr):
        prior = np.diag(vc.cov)
        post = np.einsum("mii->mi", condvar)
        with np.errstate(invalid="ignore", divide="ignore"):
            own_weight = np.where(prior > 0, 1.0 - post / prior, 0.0)
        values.extend(own_weight.mean(axis=0))
        names.extend(term_names)
    return pd.Series(values, index=names, name="mean_shrinkage_factor")


def pull_by_group(source) -> pd.DataFrame:
    """Per group (rows) and random coefficient (columns): the share of the way the mixed model
    pulls the group from its own data towards the population value, 1 − (conditional
    variance / prior variance).

    For a random intercept this is exactly 1 − λⱼ = (σ²/nⱼ) / (τ² + σ²/nⱼ). It depends only on
    how much the group's data say (its size, its covariate values) and on the variances, not on
    where its own estimate happens to lie, so it is defined even for a group with a single
    observation. A coefficient with prior variance 0 (a singular fit) is pulled all the way (1).
    Uses the first grouping factor's terms (the teaching models have one).
    """
    levels, names, values, group = pull_values(source)
    return pd.DataFrame(values, index=pd.Index(levels, name=group, dtype=str), columns=names)


def pull_values(source) -> tuple[list[str], list[str], np.ndarray, str]:
    """``pull_by_group`` as arrays: (the groups as text, the random coefficients' names, the
    pulls (groups × coefficients), the grouping factor's name)."""
    fit = _fit_of(source)
    group = fit.varcorr[0].group
    columns, names = [], []
    for (factor, term_names, condvar), vc in zip(fit.ranef_condvar(), fit.varcorr):
        if factor != group:
            continue
        prior = np.diag(vc.cov)
        post = np.einsum("mii->mi", condvar)
        with np.errstate(invalid="ignore", divide="ignore"):
            columns.append(np.where(prior > 0, post / prior, 1.0))
        names.extend(term_names)
    values = np.column_stack(columns) if columns else np.zeros((0, 0))
    term = next(t for t in fit.model.terms if t.group == group)  # the levels ranef is indexed by
    return [str(v) for v in term.levels], names, values, group


def ellipse_rings(center, cov, levels=(0.5, 0.8, 0.95), n_points: int = 100) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Points on the contours of a bivariate normal holding ``levels`` of its probability, as
    (level, xs, ys) per contour in increasing order of level (what a figure draws; ``ellipse``
    gives the same points as a table).

    The contour at probability p is where the squared Mahalanobis distance equals the
    chi-square (2 df) quantile, −2 log(1 − p). Each curve is closed (its last point repeats
    its first). No contours when the centre or the covariance is not finite.
    """
    center = np.asarray(center, float).reshape(2)
    cov = np.asarray(cov, float).reshape(2, 2)
    for p in levels:
        if not 0 < p < 1:
            raise DataError(f"Ellipse levels must be probabilities between 0 and 1; got {p}.")
    if not (np.all(np.isfinite(center)) and np.all(np.isfinite(cov))):
        return []
    w, V = np.linalg.eigh((cov + cov.T) / 2)
    root = V * np.sqrt(np.maximum(w, 0.0))  # root @ rootᵀ = cov, also for a singular cov
    t = np.linspace(0.0, 2.0 * math.pi, n_points)
    circle = root @ np.stack([np.cos(t), np.sin(t)])
    rings = []
    for p in sorted(set(levels)):
        pts = center[:, None] + math.sqrt(-2.0 * math.log1p(-p)) * circle
        rings.append((p, pts[0], pts[1]))
    return rings


def ellipse(center, cov, levels=(0.5, 0.8, 0.95), n_points: int = 100) -> pd.DataFrame:
    """The points of ``ellipse_rings`` as a table: columns level, x, y (rows in the order of
    ``levels``); empty when the centre or the covariance is not finite."""
    center = np.asarray(center, float).reshape(2)
    cov = np.asarray(cov, float).reshape(2, 2)
    if not (np.all(np.isfinite(center)) and np.all(np.isfinite(cov))):
        return pd.DataFrame({"level": [], "x": [], "y": []})
    rings = {p: (x, y) for p, x, y in ellipse_rings(center, cov, levels, n_points)}
    frames = [pd.DataFrame({"level": p, "x": rings[p][0], "y": rings[p][1]}) for p in levels]
    return pd.concat(frames, ignore_index=True)
