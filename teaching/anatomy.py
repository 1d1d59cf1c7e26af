"""Under the hood of a fit: the matrices, the criterion over θ, and where the random effects come from.

The model is y = Xβ + Zb + ε with b ~ N(0, Σθ) and ε ~ N(0, σ²I). lme4 (and this engine)
estimate everything from ONE criterion that depends only on θ, the relative covariance
factor (Σθ = σ² Λθ Λθᵀ). For any θ the best β, the conditional modes b and σ follow by
penalized least squares, so the criterion is a curve (one θ) or a surface (two θ) whose
minimum is the fit. This module makes each step inspectable:

- ``design_view``: readable subsets of X and Z with lme4's column names, and one row explained;
- ``fit_at_theta`` / ``theta_from_scales``: the whole fit at a θ of the student's choosing;
- ``criterion_curve`` / ``criterion_grid``: the REML criterion over θ;
- ``henderson_check``: the mixed-model equations solved densely, equal to the engine's answer;
- ``shrinkage_identity``: b̂_j = λ_j (ȳ_j − x̄_jᵀβ̂) (random intercept) or its matrix form;
- ``balance_comparison``: fixed effects vs ordinary least squares, balanced and unbalanced;
- ``spread_vs_variance``, ``correlation_vs_estimate``, ``zero_variance_check``: common misreadings;
- ``sd_profile``: lme4's profile-likelihood interval for a group SD (how little 3 groups say).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from lmm_core import DataError, LinearMixedModel, LmerFit, lmer, random_effect_covariance

from .predictions import thin_mask
from .shrinkage import intercept_shrinkage

INTERCEPT = "(Intercept)"


# -- the matrices ------------------------------------------------------------------------
def z_column_names(fit) -> list[str]:
    """Names of Z's columns in lme4's order: term by term, level by level, column by column."""
    return [f"{level} {name}" for t in fit.model.terms for level in t.levels for name in t.names]


def _dense_z(fit, rows: np.ndarray | None = None, levels: list[str] | None = None):
    """Columns of Z (all rows or ``rows``) in lme4's order, or only those of ``levels`` (in that order)."""
    cols, names = [], []
    for t in fit.model.terms:
        codes = t.codes if rows is None else t.codes[rows]
        Zt = t.Z if rows is None else t.Z[rows]
        for level in (t.levels if levels is None else levels):  # shown groups in the order given
            on = (codes == t.levels.index(level)).astype(float)
            for k, name in enumerate(t.names):
                cols.append(Zt[:, k] * on)
                names.append(f"{level} {name}")
    return np.column_stack(cols), names


@dataclass
class DesignView:
    """A readable slice of the model's matrices: ``X``/``Z`` (shown rows × columns, lme4 names),
    ``y`` and ``group`` of those rows; ``rows`` are their positions (0-based) in the data used."""

    X: pd.DataFrame
    Z: pd.DataFrame
    y: pd.Series
    group: pd.Series
    rows: np.ndarray
    n: int
    p: int
    q: int  # all columns of Z
    n_groups: int
    hidden_z_columns: int


def design_view(fit, first: str | None = None, max_groups: int = 3, rows_per_group: int = 10) -> DesignView:
    """X and Z restricted to a few groups (``first`` leads if given) and their first rows."""
    term = fit.model.terms[0]
    levels = list(term.levels)
    if first is not None and str(first) in levels:
        levels.remove(str(first))
        levels.insert(0, str(first))
    shown = levels[:max_groups]
    rows = np.concatenate([np.flatnonzero(term.codes == term.levels.index(lv))[:rows_per_group] for lv in shown])
    labels = [f"row {r + 1}" for r in rows]
    Z, z_names = _dense_z(fit, rows, shown)
    X = pd.DataFrame(fit.model.X[rows], index=labels, columns=fit.fixed_names)
    group = pd.Series([term.levels[c] for c in term.codes[rows]], index=labels, name=term.group)
    q = sum(t.n_levels * t.q for t in fit.model.terms)
    return DesignView(
        X=X, Z=pd.DataFrame(Z, index=labels, columns=z_names),
        y=pd.Series(fit.model.y[rows], index=labels, name=fit.design.response_name),
        group=group, rows=rows, n=fit.model.n, p=fit.model.p, q=q, n_groups=term.n_levels,
        hidden_z_columns=q - Z.shape[1],
    )


@dataclass
class RowParts:
    """One observation taken apart: fixed part Σ x·β, random part Σ z·b, fitted, y, residual.
    ``fixed_terms``/``random_terms``: (column name, value in the row, coefficient)."""

    row: int
    group: str
    fixed_terms: list[tuple[str, float, float]]
    random_terms: list[tuple[str, float, float]]
    fixed_part: float
    random_part: float
    fitted: float
    y: float

    @property
    def residual(self) -> float:
        return self.y - self.fitted


def explain_row(fit, row: int) -> RowParts:
    """What row ``row`` (0-based) of X and Z contributes: only its own group's columns of Z are non-zero."""
    if not 0 <= row < fit.model.n:
        raise DataError(f"There is no row {row + 1}: the data used have {fit.model.n} rows.")
    x = fit.model.X[row]
    fixed_terms = [(nm, float(v), float(b)) for nm, v, b in zip(fit.fixed_names, x, fit.beta)]
    random_terms = []
    for t, b in zip(fit.model.terms, fit.modes_by_term):
        j = t.codes[row]
        random_terms += [(f"{t.levels[j]} {nm}", float(t.Z[row, k]), float(b[j, k])) for k, nm in enumerate(t.names)]
    fixed_part = float(x @ fit.beta)
    random_part = float(sum(v * b for _, v, b in random_terms))
    return RowParts(row, fit.model.terms[0].levels[fit.model.terms[0].codes[row]], fixed_terms, random_terms,
                    fixed_part, random_part, float(fit.fitted_values[row]), float(fit.model.y[row]))


# -- θ in words: SD ratios and correlations ---------------------------------------------------
@dataclass
class ScaleParts:
    """The fit's θ in teaching form: per random column its SD relative to the residual SD
    (``ratios``, labelled by ``labels``), and per two-column term its correlation (``corrs``)."""

    labels: list[str]
    ratios: np.ndarray
    corr_labels: list[str]
    corrs: np.ndarray


def scale_parts(fit, theta=None) -> ScaleParts:
    """SD ratios and correlations at θ (the fit's θ by default)."""
    theta = fit.theta if theta is None else np.asarray(theta, float)
    labels, ratios, corr_labels, corrs = [], [], [], []
    for t, T in zip(fit.model.terms, fit.model.relative_factors(theta)):
        cov = T @ T.T
        sd = np.sqrt(np.diag(cov))
        labels += [f"{t.group}: {nm}" for nm in t.names]
        ratios += list(sd)
        if t.q == 2:
            corr_labels.append(f"{t.group}: {t.names[0]} and {t.names[1]}")
            corrs.append(cov[0, 1] / (sd[0] * sd[1]) if sd[0] > 0 and sd[1] > 0 else 0.0)
    return ScaleParts(labels, np.array(ratios), corr_labels, np.array(corrs))


def _term_block(ratios: np.ndarray, corr: float | None) -> np.ndarray:
    """Lower Cholesky factor of the relative covariance with these SD ratios (and correlation)."""
    if len(ratios) == 1:
        return np.array([[ratios[0]]])
    if len(ratios) != 2:
        raise DataError("SD ratios can be set by hand only for terms of one or two columns.")
    r1, r2 = ratios
    rho = float(np.clip(corr if corr is not None else 0.0, -1.0, 1.0))
    return np.array([[r1, 0.0], [rho * r2, r2 * math.sqrt(max(1.0 - rho * rho, 0.0))]])


def theta_from_scales(fit, ratios, corrs=None) -> np.ndarray:
    """θ (lme4's order) for these SD ratios (one per random column) and correlations (one per
    two-column term; None keeps the fitted correlation)."""
    ratios = np.asarray(ratios, float)
    fitted = scale_parts(fit)
    if ratios.shape != fitted.ratios.shape or np.any(ratios < 0) or not np.all(np.isfinite(ratios)):
        raise DataError(f"Give {len(fitted.ratios)} SD ratio(s), each 0 or more.")
    corrs = fitted.corrs if corrs is None else np.asarray(corrs, float)
    theta, start, c = [], 0, 0
    for t, (rows, cols) in zip(fit.model.terms, fit.model.patterns):
        corr = None
        if t.q == 2:
            corr = corrs[c]
            c += 1
        T = _term_block(ratios[start: start + t.q], corr)
        theta += list(T[rows, cols])
        start += t.q
    return np.array(theta)


def fit_at_theta(fit, theta) -> LmerFit:
    """The complete fit with θ held at ``theta``: β̂(θ), σ̂(θ), conditional modes and criterion."""
    theta = np.asarray(theta, float)
    if theta.shape != fit.theta.shape:
        raise DataError(f"θ must have {fit.theta.size} entries for this model.")
    if np.any(theta < fit.model.lower):
        raise DataError("The diagonal entries of θ (relative standard deviations) cannot be negative.")
    return fit.model.fit_at(theta, fit.reml, note="θ set by hand")


# -- the criterion over θ ----------------------------------------------------------------------
def _upper(estimate: float, chosen: float | None, factor: float = 3.0) -> float:
    top = max(factor * estimate, 0.5 if estimate <= 0 else 0.0)
    return max(top, 1.05 * chosen) if chosen is not None else top


def criterion_curve(fit, upto: float | None = None, n_points: int = 201) -> pd.DataFrame:
    """For a model with one variance parameter: the criterion over the SD ratio θ from 0 to ``upto``
    (3 × the estimate by default). Columns ratio, criterion, sigma (σ̂(θ)) and group_sd (θ·σ̂(θ))."""
    if fit.theta.size != 1:
        raise DataError("A criterion curve needs a model with one variance parameter; use criterion_grid.")
    top = upto if upto is not None else _upper(float(fit.theta[0]), None)
    ratio = np.linspace(0.0, top, n_points)
    ratio = np.union1d(ratio, fit.theta)  # the minimum itself is on the curve
    crit = np.array([fit.model.objective([r], fit.reml) for r in ratio])
    sigma = np.array([_sigma_at(fit.model, [r], fit.reml) for r in ratio])
    return pd.DataFrame({"ratio": ratio, "criterion": crit, "sigma": sigma, "group_sd": ratio * sigma})


def criterion_grid(fit, corr: float | None = None, upto=None, n_points: int = 41):
    """For a model with two SD ratios: the criterion on a grid (x = first ratio, y = second),
    the correlation held at ``corr`` (the fitted one by default). Returns (x, y, z[y, x])."""
    parts = scale_parts(fit)
    if parts.ratios.size != 2:
        raise DataError("A criterion grid needs a model with two random-effect standard deviations.")
    tops = upto if upto is not None else [_upper(r, None) for r in parts.ratios]
    xs, ys = (np.linspace(0.0, top, n_points) for top in tops)
    corrs = None if corr is None else [corr]
    z = np.array([[fit.model.objective(theta_from_scales(fit, [x, y], corrs), fit.reml) for x in xs] for y in ys])
    return xs, ys, z


def _sigma_at(model: LinearMixedModel, theta, reml: bool) -> float:
    _, Lxy, _ = model.profiled(np.asarray(theta, float), reml)
    r2 = Lxy[model.p, model.p] ** 2
    return math.sqrt(r2 / (model.n - model.p if reml else model.n))


# -- Henderson's mixed-model equations -------------------------------------------------------
@dataclass
class HendersonCheck:
    """The mixed-model equations solved as one dense system: ``beta`` and ``b`` (Z's column
    order), their largest differences from the engine's answer, and the system's size."""

    beta: np.ndarray
    b: np.ndarray
    beta_difference: float
    b_difference: float
    size: int
    form: str  # "classic" (with Σ⁻¹) or "relative" (with Λθ, for a singular Σ)


def _lambda_matrix(fit) -> np.ndarray:
    """Λθ for all terms, block diagonal, in Z's column order (level-major within a term)."""
    blocks = [np.kron(np.eye(t.n_levels), T) for t, T in zip(fit.model.terms, fit.relative_factors())]
    size = sum(b.shape[0] for b in blocks)
    out, start = np.zeros((size, size)), 0
    for b in blocks:
        k = b.shape[0]
        out[start: start + k, start: start + k] = b
        start += k
    return out


def henderson_check(fit) -> HendersonCheck:
    """Solve [X'X X'Z; Z'X Z'Z + σ²Σ⁻¹] [β; b] = [X'y; Z'y] (or, for a singular Σ, the same system
    in u = Λθ⁻¹b) and compare with fixef and ranef."""
    X, y = fit.model.X, fit.model.y
    Z, _ = _dense_z(fit)
    Lam = _lambda_matrix(fit)
    p, q = X.shape[1], Z.shape[1]
    singular = np.any(np.abs(np.diag(Lam)) < 1e-10)
    if not singular:
        G_rel_inv = np.linalg.inv(Lam @ Lam.T)  # σ² Σ⁻¹ = (Λ Λᵀ)⁻¹
        lhs = np.block([[X.T @ X, X.T @ Z], [Z.T @ X, Z.T @ Z + G_rel_inv]])
        sol = np.linalg.solve(lhs, np.concatenate([X.T @ y, Z.T @ y]))
        beta, b = sol[:p], sol[p:]
    else:
        ZL = Z @ Lam
        lhs = np.block([[X.T @ X, X.T @ ZL], [ZL.T @ X, ZL.T @ ZL + np.eye(q)]])
        sol = np.linalg.solve(lhs, np.concatenate([X.T @ y, ZL.T @ y]))
        beta, b = sol[:p], Lam @ sol[p:]
    engine_b = np.concatenate([bb.ravel() for bb in fit.modes_by_term])
    return HendersonCheck(beta, b, float(np.max(np.abs(beta - fit.beta))), float(np.max(np.abs(b - engine_b))),
                          p + q, "relative" if singular else "classic")


# -- from the variance estimates to one group's random effect ---------------------------------
@dataclass
class GroupIdentity:
    """The conditional mode of one group recomputed by hand.

    kind "intercept": b̂ = λ (ȳ − x̄ᵀβ̂) with λ = τ²/(τ² + σ²/n) (scalars filled in);
    kind "matrix":    b̂ = Σ (σ² I + S Σ)⁻¹ Zⱼᵀ rⱼ with S = ZⱼᵀZⱼ and rⱼ = yⱼ − Xⱼβ̂.
    ``by_hand`` and ``engine`` are the two answers (one entry per random column ``names``)."""

    group: str
    kind: str
    names: list[str]
    n: int
    sigma2: float
    by_hand: np.ndarray
    engine: np.ndarray
    tau2: float = float("nan")
    lam: float = float("nan")
    ybar: float = float("nan")
    xbar_beta: float = float("nan")
    Sigma: np.ndarray | None = None
    S: np.ndarray | None = None
    Zr: np.ndarray | None = None


def _one_factor(fit):
    terms = fit.model.terms
    if any(t.group != terms[0].group or not np.array_equal(t.codes, terms[0].codes) for t in terms[1:]):
        raise DataError("This step needs all random effects to share one grouping factor.")
    return terms


def shrinkage_identity(fit, group) -> GroupIdentity:
    """Recompute group ``group``'s conditional modes from σ², Σ, β̂ and its own data."""
    terms = _one_factor(fit)
    levels = list(terms[0].levels)
    if str(group) not in levels:
        raise DataError(f"There is no group '{group}' in the data.")
    j = levels.index(str(group))
    names = [nm for t in terms for nm in t.names]
    engine = np.concatenate([b[j] for b in fit.modes_by_term])
    sigma2 = fit.sigma**2
    if len(terms) == 1 and terms[0].names == [INTERCEPT] and np.all(terms[0].Z == 1.0):
        row = intercept_shrinkage(fit).table.iloc[j]
        return GroupIdentity(str(group), "intercept", names, int(row["n"]), sigma2,
                             np.array([row["conditional_mode"]]), engine, tau2=float(fit.varcorr[0].cov[0, 0]),
                             lam=float(row["lambda"]), ybar=float(row["ybar"]), xbar_beta=float(row["xbar_beta"]))
    mine = terms[0].codes == j
    Zj = np.column_stack([t.Z[mine] for t in terms])
    r = fit.model.y[mine] - fit.model.X[mine] @ fit.beta
    Sigma = random_effect_covariance(fit, terms[0].group)
    S = Zj.T @ Zj
    by_hand = Sigma @ np.linalg.solve(sigma2 * np.eye(len(names)) + S @ Sigma, Zj.T @ r)
    return GroupIdentity(str(group), "matrix", names, int(mine.sum()), sigma2, by_hand, engine,
                         Sigma=Sigma, S=S, Zr=Zj.T @ r)


# -- balanced and unbalanced data: fixed effects vs one ordinary regression --------------------
def ols_coefficients(fit) -> pd.Series:
    """The ordinary least-squares fit of y on the same X (random effects ignored)."""
    coef, *_ = np.linalg.lstsq(fit.model.X, fit.model.y, rcond=None)
    return pd.Series(coef, index=fit.fixed_names, name="OLS")


def same_design_in_every_group(fit) -> bool:
    """True when every group has the same rows of X (as a set): the balanced case."""
    term = fit.model.terms[0]
    patterns = set()
    for j in range(term.n_levels):
        rows = fit.model.X[term.codes == j]
        patterns.add(tuple(map(tuple, np.round(rows[np.lexsort(rows.T[::-1])], 12))))
    return len(patterns) == 1


def unbalance(data: pd.DataFrame, group: str, covariate: str, every: int = 2, keep_fraction: float = 0.4):
    """Every ``every``-th group keeps only its first ``keep_fraction`` of rows (by covariate, at least 2):
    a drop-out pattern that makes the groups unequal. Returns (thinned data, thinned groups)."""
    levels = [str(v) for v in pd.unique(data[group].dropna())]
    try:
        levels = sorted(levels, key=float)
    except ValueError:
        levels = sorted(levels)
    chosen = levels[every - 1:: every]
    size = int(data[group].astype(str).value_counts().min())
    keep = max(2, int(round(keep_fraction * size)))
    return data[thin_mask(data, group, covariate, keep, groups=chosen)], chosen


@dataclass
class BalanceComparison:
    """``table``: per fixed effect, the mixed model's estimate, OLS's and their difference."""

    table: pd.DataFrame
    balanced: bool
    n_rows: int
    fit: object


def balance_comparison(fit) -> BalanceComparison:
    ols = ols_coefficients(fit)
    table = pd.DataFrame({"Mixed model": fit.fixef, "One regression (OLS)": ols})
    table["Difference"] = table["Mixed model"] - table["One regression (OLS)"]
    return BalanceComparison(table, same_design_in_every_group(fit), fit.model.n, fit)


def unbalanced_fit(formula: str, data: pd.DataFrame, group: str, covariate: str):
    """The model refitted on ``unbalance``d data; returns (fit, thinned group labels)."""
    thinned, chosen = unbalance(data, group, covariate)
    return lmer(formula, thinned), chosen


# -- common misreadings --------------------------------------------------------------------
def spread_vs_variance(fit) -> pd.DataFrame:
    """Per random column: the estimated SD, the SD of the conditional modes across groups, the mean
    conditional variance, and √(var of modes + mean conditional variance), which comes back close
    to the estimate: the modes are shrunk, so their spread understates the variance component."""
    rows = []
    modes = fit.ranef
    for (group, names, condvar), vc in zip(fit.ranef_condvar(), fit.varcorr):
        for i, name in enumerate(names):
            b = modes[group][name].to_numpy()
            var_modes = float(np.mean(b**2))  # about 0 mean; the model's variance is about 0
            mean_cv = float(np.mean(condvar[:, i, i]))
            rows.append({"Group": vc.group, "Name": name, "Estimated SD": float(vc.sd[i]),
                         "SD of the modes": float(np.std(b, ddof=1)),
                         "Mean conditional variance": mean_cv,
                         "Modes + conditional variance": math.sqrt(var_modes + mean_cv)})
    return pd.DataFrame(rows)


def correlation_vs_estimate(fit) -> pd.DataFrame:
    """Per two-column term: the estimated correlation and the correlation of the conditional modes."""
    rows = []
    for vc in fit.varcorr:
        if len(vc.terms) != 2:
            continue
        modes = fit.ranef[vc.factor][vc.terms].to_numpy()
        r = float(np.corrcoef(modes.T)[0, 1]) if np.all(modes.std(axis=0) > 0) else float("nan")
        rows.append({"Group": vc.group, "Terms": f"{vc.terms[0]} and {vc.terms[1]}",
                     "Estimated correlation": float(vc.corr[0, 1]), "Correlation of the modes": r})
    return pd.DataFrame(rows)


@dataclass
class ZeroVarianceCheck:
    """The fit with every variance set to 0: its fixed effects equal OLS and every mode is 0."""

    beta_at_zero: pd.Series
    ols: pd.Series
    largest_mode: float
    singular_terms: list[str]


def zero_variance_check(fit) -> ZeroVarianceCheck:
    at_zero = fit_at_theta(fit, np.zeros_like(fit.theta))
    largest = max(float(np.max(np.abs(b))) for b in at_zero.modes_by_term)
    singular = [f"{vc.group}: {nm}" for vc in fit.varcorr for nm, sd in zip(vc.terms, vc.sd) if sd < 1e-4 * fit.sigma]
    return ZeroVarianceCheck(at_zero.fixef, ols_coefficients(fit), largest, singular)


# -- how uncertain is a group SD? A profile-likelihood interval ---------------------------------
@dataclass
class SdProfile:
    """The ML deviance profiled over the group SD s (σ re-optimised at each s), as lme4's
    ``confint()`` does even for a REML fit: ``curve`` has columns sd, change (deviance − its
    minimum) and sigma; ``lower``/``upper`` bound the ``level`` interval: they are the engine's
    ``fit.confint(method="profile")`` row ``parameter`` (lme4's ``confint(fit)``, e.g.
    ``sd_(Intercept)|Subject``), the points where the curve crosses ``cutoff`` (the χ²₁ quantile,
    ζ² in lme4's terms); ``estimate`` is the ML estimate at the curve's minimum."""

    curve: pd.DataFrame
    estimate: float
    lower: float
    upper: float
    cutoff: float
    level: float
    n_groups: int
    parameter: str = ""


def _criterion_with_sigma(model: LinearMixedModel, theta, sigma: float, reml: bool) -> float:
    """The criterion at (θ, σ) without profiling σ out: the profiled value's σ̂ swapped for σ."""
    value, Lxy, _ = model.profiled(np.asarray(theta, float), reml)
    r2 = Lxy[model.p, model.p] ** 2
    dof = model.n - model.p if reml else model.n
    base = value - dof * (1.0 + math.log(2.0 * math.pi * r2 / dof))
    return base + dof * math.log(2.0 * math.pi * sigma**2) + r2 / sigma**2


def _profile_at(ml_fit, sd: float) -> tuple[float, float]:
    """min over σ of the deviance with the group SD held at ``sd``; returns (value, σ)."""
    model = ml_fit.model
    if sd <= 0:
        return model.objective([0.0], False), _sigma_at(model, [0.0], False)
    s0 = math.log(ml_fit.sigma)
    res = optimize.minimize_scalar(
        lambda ls: _criterion_with_sigma(model, [sd / math.exp(ls)], math.exp(ls), False),
        bracket=(s0 - 0.5, s0 + 0.5), tol=1e-10)
    return float(res.fun), float(math.exp(res.x))


def ml_refit(fit) -> LmerFit:
    """The same model fitted by maximum likelihood (the fit itself if it already is)."""
    if not fit.reml:
        return fit
    return LmerFit(fit.model, fit.model.optimize(False, start=fit.theta), False)


def sd_profile(fit, level: float = 0.95, n_points: int = 61) -> SdProfile:
    """Profile-likelihood interval for the SD of a model with one variance parameter (e.g. (1 | g))."""
    if fit.theta.size != 1:
        raise DataError("The SD profile is computed for models with one variance parameter, e.g. (1 | g).")
    ml = ml_refit(fit)
    estimate = float(ml.varcorr[0].sd[0])
    cutoff = float(stats.chi2.ppf(level, 1))
    # the interval is the engine's confint() (lme4's): the number a student checks in R
    interval = fit.confint(method="profile", level=level, parm=0)
    parameter = str(interval.index[0])
    lower, upper = (float(v) for v in interval.iloc[0])
    top = upper if math.isfinite(upper) else 3.0 * max(estimate, ml.sigma)  # the curve's extent
    sds = np.union1d(np.linspace(0.0, 1.15 * top, n_points), [v for v in (estimate, lower, upper) if math.isfinite(v)])
    values = [_profile_at(ml, s) for s in sds]
    curve = pd.DataFrame({"sd": sds, "change": [v - ml.objective for v, _ in values],
                          "sigma": [s for _, s in values]})
    return SdProfile(curve, estimate, lower, upper, cutoff, level, ml.model.terms[0].n_levels, parameter)
