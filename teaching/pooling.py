"""Three ways to pool grouped data, side by side in one table.

- complete pooling: one least-squares line for everybody, groups ignored;
- no pooling: a separate least-squares line for every group;
- partial pooling: the mixed model, whose group lines are the fixed effects plus
  each group's conditional mode (lme4's ``coef``).

Everything is built from numpy arrays (no formula parsing) and the per-group
least squares are done for all groups at once with ``np.bincount``, so a
200-group comparison costs little more than the mixed-model fit itself.

Extra fixed covariates (iris: ``Sepal.Width``) enter every fit. To draw a line
in the (covariate, response) plane they are held at their overall mean: every
``intercept`` in the table is the line's intercept at those means
(``PoolingResult.held_at_mean``), the raw coefficients are in
``PoolingResult.coefficients``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lmm_core import DataError, Design, LinearMixedModel, LmerFit, TermData, factor_codes, group_sums

RANDOM_KINDS = ("intercept", "slope", "both", "uncorrelated")
METHODS = ("complete", "none", "partial")
POPULATION = "(population)"
INTERCEPT = "(Intercept)"
# A covariate whose spread within a group is below this fraction of its overall
# spread counts as constant there: the group's own slope is not estimable.
CONSTANT_TOL = 1e-10
_R_NAME = re.compile(r"^((([A-Za-z]|[.][A-Za-z._])[A-Za-z0-9._]*)|[.])$")


# -- the data as arrays -----------------------------------------------------------
@dataclass
class GroupedData:
    """The complete rows of the used columns, as arrays. ``codes`` index ``levels``."""

    y: np.ndarray
    x: np.ndarray | None
    extras: np.ndarray  # (n, k): the extra fixed covariates
    codes: np.ndarray
    levels: list[str]
    counts: np.ndarray  # rows per group
    response: str
    group: str
    covariate: str | None
    extra_names: tuple[str, ...]
    dropped_rows: int
    rows: np.ndarray  # positions of the kept rows in the original frame

    @property
    def n_groups(self) -> int:
        return len(self.levels)

    @property
    def fixed_names(self) -> list[str]:
        return [INTERCEPT] + ([self.covariate] if self.covariate is not None else []) + list(self.extra_names)

    def design_matrix(self) -> np.ndarray:
        """[1, x, extras]: the fixed-effects matrix shared by all three methods."""
        cols = [np.ones_like(self.y)] + ([self.x] if self.x is not None else [])
        return np.column_stack(cols + [self.extras])

    def extra_means(self) -> np.ndarray:
        return self.extras.mean(axis=0) if self.extras.shape[1] else np.zeros(0)


def _numeric_column(frame: pd.DataFrame, name: str, role: str) -> np.ndarray:
    col = frame[name]
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        raise DataError(f"The {role} '{name}' must be a numeric column, but it has type {col.dtype}.")
    values = col.to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(values).any():
        raise DataError(f"The {role} '{name}' has infinite values. Replace or remove them.")
    return values


def prepare_groups(data: pd.DataFrame, response: str, group: str, covariate: str | None = None,
                   extra_covariates=()) -> GroupedData:
    """Check the columns, drop rows with a missing value in any of them, and code the groups."""
    if not isinstance(data, pd.DataFrame):
        raise DataError("The data must be a table (a pandas DataFrame).")
    extras = tuple(extra_covariates or ())
    used = [response, group] + ([covariate] if covariate is not None else []) + list(extras)
    missing = [c for c in used if c not in data.columns]
    if missing:
        known = ", ".join(map(str, data.columns))
        raise DataError(f"The data have no column(s) {', '.join(map(str, missing))}. Columns: {known}.")
    if len(set(used)) < len(used):
        raise DataError("Response, group, covariate and extra covariates must be different columns.")
    if data.columns[data.columns.isin(used)].duplicated().any():
        raise DataError("The data have two columns with the same name among those used; rename one.")
    numeric = {name: _numeric_column(data, name, role) for name, role in
               [(response, "response")] + ([(covariate, "covariate")] if covariate is not None else [])
               + [(e, "extra covariate") for e in extras]}
    keep = ~data[group].isna().to_numpy()
    for values in numeric.values():
        keep &= ~np.isnan(values)
    if not keep.any():
        raise DataError("No row has values in all the columns used.")
    all_kept = bool(keep.all())
    groups = data[group] if all_kept else data[group][keep]
    codes, levels = factor_codes(groups)
    pick = (lambda v: v) if all_kept else (lambda v: v[keep])
    return GroupedData(
        y=pick(numeric[response]),
        x=pick(numeric[covariate]) if covariate is not None else None,
        extras=np.column_stack([pick(numeric[e]) for e in extras]) if extras else np.zeros((int(keep.sum()), 0)),
        codes=codes, levels=levels, counts=np.bincount(codes, minlength=len(levels)),
        # names as text from here on (the engine and the formula want strings)
        response=str(response), group=str(group), covariate=None if covariate is None else str(covariate),
        extra_names=tuple(map(str, extras)),
        dropped_rows=int((~keep).sum()), rows=np.flatnonzero(keep),
    )


def group_labels(column: pd.Series) -> np.ndarray:
    """Each row's group as the text compare_pooling uses for it (None where missing)."""
    present = column.notna().to_numpy()
    labels = np.full(len(column), None, dtype=object)
    if present.any():
        codes, levels = factor_codes(column[present])
        labels[present] = np.asarray(levels, dtype=object)[codes]
    return labels


def check_random(random: str, covariate: str | None) -> None:
    if random not in RANDOM_KINDS:
        raise DataError(f"random must be one of {', '.join(RANDOM_KINDS)}; got {random!r}.")
    if covariate is None and random != "intercept":
        raise DataError(f"random='{random}' needs a covariate; without one only random='intercept' is possible.")


def _centred_cross_products(X: np.ndarray, y: np.ndarray | None = None):
    """Means and centred cross products of X's non-intercept columns (and with y)."""
    cols = X[:, 1:]
    means = cols.mean(axis=0)
    centred = cols - means
    Cxy = centred.T @ (y - y.mean()) if y is not None else None
    return means, centred.T @ centred, Cxy


def check_full_rank(X: np.ndarray, names: list[str]) -> None:
    """Every fit shares X, so a collinear X is refused up front (lme4 would drop columns).

    Judged on the correlation matrix of the non-intercept columns: a (near) constant column
    or a (near) exact linear relation between columns makes it singular.
    """
    if X.shape[1] < 2:
        return
    means, C, _ = _centred_cross_products(X)
    d = np.diag(C) / X.shape[0]
    constant = d <= 1e-14 * (means**2 + d)
    if not constant.any():
        scale = 1.0 / np.sqrt(np.diag(C))
        constant = np.linalg.eigvalsh(C * np.outer(scale, scale))[:1] < 1e-10
    if constant.any():
        raise DataError(
            f"The columns {', '.join(names[1:])} are constant or collinear (with the intercept or each "
            "other), so their effects cannot be told apart. Drop one or pick another covariate."
        )


# -- complete and no pooling -----------------------------------------------------
def complete_pooling(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Ordinary least squares on all rows, ignoring the groups (centred normal equations:
    X has full rank by now, and this avoids an SVD)."""
    if X.shape[1] == 1:
        return np.array([y.mean()])
    means, Cxx, Cxy = _centred_cross_products(X, y)
    slopes = np.linalg.solve(Cxx, Cxy)
    return np.concatenate([[y.mean() - means @ slopes], slopes])


@dataclass
class NoPooling:
    coef: np.ndarray  # (m, p) in the order of X's columns; NaN rows where not estimable
    estimable: np.ndarray  # (m,) bool
    rss: np.ndarray  # residual sum of squares per group (0 where not estimable)
    df: np.ndarray  # residual degrees of freedom per group


def _group_means(codes, counts, values: np.ndarray) -> np.ndarray:
    """Per-group means of the columns of ``values`` (n, k) -> (m, k)."""
    m = len(counts)
    return group_sums(codes, m, values) / np.maximum(counts, 1)[:, None]


def no_pooling(X: np.ndarray, y: np.ndarray, codes: np.ndarray, counts: np.ndarray) -> NoPooling:
    """Least squares within every group at once, on within-group centred columns.

    Centring splits each group's problem into its mean (the intercept) and a small
    (p-1) × (p-1) system for the other columns; with one covariate that system is a
    division. A group is not estimable when it has fewer rows than parameters or a
    column (nearly) constant within it.
    """
    m, p = len(counts), X.shape[1]
    Xc = X[:, 1:]
    means = _group_means(codes, counts, np.column_stack([y, Xc]))
    ybar, xbar = means[:, 0], means[:, 1:]
    dx = Xc - xbar[codes]
    dy = y - ybar[codes]
    k = p - 1
    estimable = counts >= p
    coef = np.full((m, p), np.nan)
    if k == 0:
        coef[:, 0] = ybar
    else:
        outer = (dx[:, :, None] * dx[:, None, :]).reshape(-1, k * k)
        Cxx = group_sums(codes, m, outer).reshape(m, k, k)
        Cxy = group_sums(codes, m, dx * dy[:, None])
        scale = np.maximum(Xc.var(axis=0), 1e-300)  # overall spread of each column
        if k == 1:
            spread = Cxx[:, 0, 0] / np.maximum(counts, 1) / scale[0]
            estimable &= spread > CONSTANT_TOL
            slopes = Cxy[estimable, 0:1] / Cxx[estimable, 0]
        else:
            unit = 1.0 / np.sqrt(scale)
            spread = np.linalg.eigvalsh(Cxx * np.outer(unit, unit) / np.maximum(counts, 1)[:, None, None])[:, 0]
            estimable &= spread > CONSTANT_TOL
            slopes = np.linalg.solve(Cxx[estimable], Cxy[estimable][:, :, None])[:, :, 0]
        coef[estimable, 1:] = slopes
        coef[estimable, 0] = ybar[estimable] - np.einsum("mk,mk->m", xbar[estimable], slopes)
    resid = y - np.einsum("np,np->n", X, np.nan_to_num(coef)[codes])
    rss = np.where(estimable, np.bincount(codes, resid**2, minlength=m), 0.0)
    df = np.where(estimable, counts - p, 0)
    return NoPooling(coef, estimable, rss, df)


# -- partial pooling: the mixed model ----------------------------------------------
def _r_name(name: str) -> str:
    return name if _R_NAME.match(name) else f"`{name}`"  # R's backquotes for odd names


def lme4_formula(g: GroupedData, random: str) -> str:
    """The lme4 formula of the mixed model that compare_pooling fits."""
    fixed = [_r_name(c) for c in g.fixed_names[1:]] or ["1"]
    grp, x = _r_name(g.group), _r_name(g.covariate) if g.covariate is not None else None
    random_part = {
        "intercept": f"(1 | {grp})",
        "slope": f"(0 + {x} | {grp})",
        "both": f"({x} | {grp})",
        "uncorrelated": f"(1 | {grp}) + (0 + {x} | {grp})",
    }[random]
    return f"{_r_name(g.response)} ~ {' + '.join(fixed)} + {random_part}"


def mixed_model_design(g: GroupedData, X: np.ndarray, random: str) -> Design:
    """The Design lme4 would build for ``lme4_formula(g, random)``, straight from the arrays."""
    ones, xcol = X[:, :1], X[:, 1:2]
    cov = g.covariate

    def term(Z, names, label):
        return TermData(Z=Z, codes=g.codes, levels=g.levels, names=names, group=g.group, label=label)

    terms = {
        "intercept": lambda: [term(ones, [INTERCEPT], f"1 | {g.group}")],
        "slope": lambda: [term(xcol, [cov], f"0 + {cov} | {g.group}")],
        "both": lambda: [term(X[:, :2], [INTERCEPT, cov], f"{cov} | {g.group}")],
        "uncorrelated": lambda: [term(ones, [INTERCEPT], f"1 | {g.group}"),
                                 term(xcol, [cov], f"0 + {cov} | {g.group}")],
    }[random]()
    return Design(y=g.y, X=X, fixed_names=g.fixed_names, terms=terms, response_name=g.response)


def moment_start(g: GroupedData, X: np.ndarray, complete: np.ndarray, none: NoPooling, random: str):
    """A θ to start the optimizer near the answer, from method-of-moments variance estimates.

    The spread of the groups' own estimates, minus the part their sampling noise
    explains, estimates the random-effect covariance Σ; θ is then chol(Σ/σ²) in
    lme4's order. Returns None (the default start) when there is too little to go on.
    """
    df = none.df.sum()
    if df <= 0:
        return None
    sigma2 = none.rss.sum() / df
    if not sigma2 > 0:
        return None
    if random == "intercept":
        resid = g.y - X @ complete
        rbar = np.bincount(g.codes, resid, minlength=g.n_groups) / g.counts
        tau2 = rbar.var(ddof=1) - sigma2 * np.mean(1.0 / g.counts)
        return np.array([math.sqrt(max(tau2 / sigma2, 1e-2))])
    ok = none.estimable
    if ok.sum() < 3:
        return None
    own = none.coef[ok, :2]
    n, x = g.counts[ok], g.x
    sx = np.bincount(g.codes, x, minlength=g.n_groups)[ok]
    sxx = np.bincount(g.codes, x * x, minlength=g.n_groups)[ok]
    det = n * sxx - sx * sx
    noise = sigma2 * np.array([[np.mean(sxx / det), -np.mean(sx / det)], [-np.mean(sx / det), np.mean(n / det)]])
    Sigma = np.cov(own, rowvar=False) - noise
    w, V = np.linalg.eigh(Sigma)
    floor = max(w.max() * 1e-2, 1e-4 * np.diag(noise).mean())  # keep Σ positive definite
    Sigma = (V * np.maximum(w, floor)) @ V.T / sigma2
    if not np.all(np.isfinite(Sigma)):
        return None
    if random == "slope":
        return np.sqrt(Sigma[1:2, 1])
    if random == "uncorrelated":
        return np.sqrt(np.diag(Sigma))
    L = np.linalg.cholesky(Sigma)
    return np.array([L[0, 0], L[1, 0], L[1, 1]])


# Positions of the diagonal entries of θ (bounded below by 0) for each kind of random effect.
_DIAGONAL = {"intercept": [0], "slope": [0], "both": [0, 2], "uncorrelated": [0, 1]}
MIN_START = 1e-2
SINGULAR_THETA = 1e-4  # lme4's isSingular() tolerance
BOUNDARY_PROBES = (0.01, 0.03, 0.1, 0.3, 1.0)  # θ values tried off a boundary optimum


def safe_start(start, random: str):
    """A warm start moved off the boundary: at a diagonal θ of exactly 0 the criterion's
    slope in that direction is 0 too, and a gradient optimizer would never leave it."""
    if start is None:
        return None
    theta = np.array(start, dtype=float).ravel()
    if theta.shape[0] != len(_DIAGONAL[random]) + (random == "both") or not np.all(np.isfinite(theta)):
        return None  # a start from another kind of model: use the default
    diag = _DIAGONAL[random]
    theta[diag] = np.maximum(np.abs(theta[diag]), MIN_START)
    return theta


def _best_start(model: LinearMixedModel, starts, random: str, reml: bool):
    """The start with the lowest criterion among the candidates (one evaluation each).

    A warm start from the previous slider position is not always closer than the moment
    guess from the new data (a new sample moves the optimum more than a small variance
    change does), so both are tried and the better one wins."""
    if starts is None or (isinstance(starts, np.ndarray) and starts.ndim == 1):
        return safe_start(starts, random)
    candidates = [s for s in (safe_start(s, random) for s in starts) if s is not None]
    if not candidates:
        return None
    return min(candidates, key=lambda theta: model.objective(theta, reml))


def fit_mixed_model(g: GroupedData, X: np.ndarray, random: str, reml: bool = True, start=None):
    """The mixed model's fit, checked for a false boundary optimum.

    Where a variance parameter θ is 0 the criterion's slope along it is 0 as well (it is
    symmetric in ±θ), so a gradient optimizer that lands there stops even when the optimum
    lies inside. When a fit ends on the boundary, a few small positive values of those θ
    are tried; if one is better, the optimizer restarts from it. A true boundary optimum
    costs only these few evaluations.
    """
    model = LinearMixedModel(mixed_model_design(g, X, random))
    best = model.optimize(reml, _best_start(model, start, random, reml))
    diag = np.asarray(_DIAGONAL[random])
    for _ in range(3):
        zero = diag[best.theta[diag] < SINGULAR_THETA]
        if not zero.size:
            break
        probes = []
        for value in BOUNDARY_PROBES:
            theta = best.theta.copy()
            theta[zero] = value
            probes.append((model.objective(theta, reml), value, theta))
        value, _, theta = min(probes, key=lambda p: p[:2])
        if not value < best.objective - 1e-9:
            break  # a true boundary optimum
        candidate = model.optimize(reml, theta)
        if not candidate.objective < best.objective - 1e-9:
            break
        best = candidate
    return LmerFit(model, best, reml)


# -- the comparison ---------------------------------------------------------------
@dataclass
class PoolingResult:
    """Every group's line under the three methods, and the mixed-model fit behind partial pooling.

    ``table``: one row per group and method (group-major, methods in the order complete,
    none, partial) with columns
      group, method, intercept, slope, n, estimable, shrinkage, shrinkage_fraction.
    ``intercept`` is the line's intercept with extra covariates at their mean; ``slope`` is
    NaN without a covariate. ``estimable`` says whether that method could estimate that group
    (always True for complete and partial pooling). ``shrinkage`` (on partial rows only, NaN on
    the others) is the distance the group moved from its own estimate to the mixed model's, in
    the (intercept, slope) plane (|Δ intercept| without a covariate); ``shrinkage_fraction``
    divides it by the distance from its own estimate to the population line (0 = not pulled
    at all, 1 = pulled all the way); both are NaN where no pooling is not estimable.

    ``lines``: columns group, method, x, y; two endpoints per group and method over the group's
    covariate range (non-estimable no-pooling lines left out) and the mixed model's population
    line over the whole range (group "(population)", method "population"). Empty without a
    covariate.

    ``coefficients``: method -> (groups, p) array of raw coefficients in ``fixed_names`` order.
    """

    table: pd.DataFrame
    lines: pd.DataFrame
    fit: object  # LmerFit
    population: dict[str, float]
    formula: str
    random: str
    reml: bool
    held_at_mean: dict[str, float]
    group_sizes: pd.Series
    dropped_rows: int
    coefficients: dict[str, np.ndarray]
    fixed_names: list[str]
    data: GroupedData

    @property
    def levels(self) -> list[str]:
        return self.data.levels

    @property
    def estimable(self) -> pd.Series:
        """Whether each group's own (no-pooling) line can be estimated."""
        return pd.Series(np.isfinite(self.coefficients["none"][:, 0]), index=self.data.levels, name="estimable")

    def method_lines(self, method: str, include_population: bool = True) -> pd.DataFrame:
        wanted = self.lines["method"] == method
        if include_population:
            wanted |= self.lines["method"] == "population"
        return self.lines[wanted].reset_index(drop=True)

    def predict(self, method: str, x=None, codes=None, extras=None) -> np.ndarray:
        """Each method's prediction for rows of known groups (codes), covariate x and extras.

        ``method`` may also be "population" (the mixed model's fixed effects). Missing
        extras are held at their mean.
        """
        n = len(codes) if codes is not None else len(np.atleast_1d(x))
        cols = [np.ones(n)]
        if self.data.covariate is not None:
            cols.append(np.broadcast_to(np.asarray(x, float), (n,)))
        k = len(self.data.extra_names)
        if k:
            e = np.broadcast_to(self.data.extra_means(), (n, k)) if extras is None else np.asarray(extras, float)
            cols.append(e.reshape(n, k))
        Xn = np.column_stack(cols)
        if method == "population":
            return Xn @ self.fit.beta
        return np.einsum("np,np->n", Xn, self.coefficients[method][np.asarray(codes)])


def _line_parts(coef: np.ndarray, has_x: bool, extra_means: np.ndarray):
    """Intercept (extras at their mean) and slope of lines with raw coefficients ``coef`` (.., p)."""
    start = 2 if has_x else 1
    intercept = coef[..., 0] + coef[..., start:] @ extra_means
    slope = coef[..., 1] if has_x else np.full_like(intercept, np.nan)
    return intercept, slope


def _shrinkage(own, partial, population):
    """Distance moved from the own estimate to partial pooling, and its fraction of the way."""
    moved = np.sqrt(np.nansum((partial - own) ** 2, axis=1))
    gap = np.sqrt(np.nansum((population - own) ** 2, axis=1))
    unknown = ~np.isfinite(own[:, 0])
    moved[unknown] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(gap > 0, moved / gap, np.nan)
    return moved, fraction


def _text(values) -> pd.Series:
    """A column of Python strings kept as object dtype: pandas' string inference costs more
    than the rest of a small table."""
    return pd.Series(values, dtype=object)


def _group_ranges(g: GroupedData):
    lo = np.full(g.n_groups, np.inf)
    hi = np.full(g.n_groups, -np.inf)
    np.minimum.at(lo, g.codes, g.x)
    np.maximum.at(hi, g.codes, g.x)
    return lo, hi


def _lines(g: GroupedData, parts: dict[str, tuple[np.ndarray, np.ndarray]], population) -> pd.DataFrame:
    if g.x is None:
        return pd.DataFrame({"group": _text([]), "method": _text([]), "x": [], "y": []})
    lo, hi = _group_ranges(g)
    ends = np.column_stack([lo, hi]).ravel()
    levels = np.repeat(np.asarray(g.levels, dtype=object), 2)
    groups, methods, xs, ys = [], [], [], []
    for method, (intercept, slope) in parts.items():
        y = np.repeat(intercept, 2) + np.repeat(slope, 2) * ends
        ok = np.isfinite(y)
        groups.append(levels[ok])
        methods.append(np.full(ok.sum(), method, dtype=object))
        xs.append(ends[ok])
        ys.append(y[ok])
    span = np.array([g.x.min(), g.x.max()])
    groups.append(np.array([POPULATION] * 2, dtype=object))
    methods.append(np.array(["population"] * 2, dtype=object))
    xs.append(span)
    ys.append(population["intercept"] + population["slope"] * span)
    return pd.DataFrame({"group": _text(np.concatenate(groups)), "method": _text(np.concatenate(methods)),
                         "x": np.concatenate(xs), "y": np.concatenate(ys)})


def compare_pooling(data: pd.DataFrame, response: str, group: str, covariate: str | None = None,
                    random: str = "both", reml: bool = True, start=None, extra_covariates=()) -> PoolingResult:
    """Complete, no and partial pooling of ``response`` by ``group`` (optionally on ``covariate``).

    ``random``: "intercept", "slope" (random slope, fixed intercept: ``(0 + x | g)``), "both"
    (correlated) or "uncorrelated". ``start`` is a θ to warm-start the mixed model from (e.g.
    the previous fit's ``fit.theta``); it competes with a method-of-moments guess from the data,
    and the optimizer starts from whichever has the lower criterion. Raises
    DataError (an LmmError) for data that cannot support the model.
    """
    check_random(random, covariate)
    g = prepare_groups(data, response, group, covariate, extra_covariates)
    X = g.design_matrix()
    check_full_rank(X, g.fixed_names)
    if g.n_groups < 2:
        raise DataError(f"The grouping column '{group}' has only {g.n_groups} group: pooling needs at least 2.")
    complete = complete_pooling(X, g.y)
    none = no_pooling(X, g.y, g.codes, g.counts)
    with np.errstate(all="ignore"):
        try:
            guess = moment_start(g, X, complete, none, random)
        except np.linalg.LinAlgError:
            guess = None
    fit = fit_mixed_model(g, X, random, reml, [guess] if start is None else [start, guess])
    partial = fit.coef[g.group][g.fixed_names].to_numpy()

    has_x, means = g.x is not None, g.extra_means()
    coefficients = {"complete": np.tile(complete, (g.n_groups, 1)), "none": none.coef, "partial": partial}
    parts = {method: _line_parts(c, has_x, means) for method, c in coefficients.items()}
    pop_intercept, pop_slope = _line_parts(fit.beta, has_x, means)
    population = {"intercept": float(pop_intercept), "slope": float(pop_slope)}

    stack = {m: np.column_stack(parts[m]) if has_x else parts[m][0][:, None] for m in METHODS}
    pop = np.array([population["intercept"], population["slope"]][: 2 if has_x else 1])
    moved, fraction = _shrinkage(stack["none"], stack["partial"], pop[None, :])
    m = g.n_groups
    nan = np.full(m, np.nan)
    table = pd.DataFrame({
        "group": _text(np.repeat(np.asarray(g.levels, dtype=object), 3)),
        "method": _text(np.tile(np.asarray(METHODS, dtype=object), m)),
        "intercept": np.column_stack([parts[k][0] for k in METHODS]).ravel(),
        "slope": np.column_stack([parts[k][1] for k in METHODS]).ravel(),
        "n": np.repeat(g.counts, 3),
        "estimable": np.column_stack([np.ones(m, bool), none.estimable, np.ones(m, bool)]).ravel(),
        "shrinkage": np.column_stack([nan, nan, moved]).ravel(),
        "shrinkage_fraction": np.column_stack([nan, nan, fraction]).ravel(),
    })
    return PoolingResult(
        table=table, lines=_lines(g, parts, population), fit=fit, population=population,
        formula=lme4_formula(g, random), random=random, reml=bool(reml),
        held_at_mean=dict(zip(g.extra_names, map(float, means))),
        group_sizes=pd.Series(g.counts, index=pd.Index(g.levels, dtype=object, name=g.group), name="n"),
        dropped_rows=g.dropped_rows, coefficients=coefficients, fixed_names=g.fixed_names, data=g,
    )


# -- output -------------------------------------------------------------------------
def _plain(value):
    """A JSON-ready scalar: NaN becomes None, numpy types become Python ones."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    return value if math.isfinite(value) else None


def pool_table_json(result: PoolingResult) -> list[dict]:
    """The table as a list of plain dicts (all groups × 3 methods); NaN -> None."""
    t = result.table
    columns = [t[c].to_numpy() for c in ("group", "method", "intercept", "slope", "n", "estimable", "shrinkage")]
    has_x = result.data.covariate is not None
    return [
        {"group": str(gr), "method": str(me), "intercept": _plain(ic), "slope": _plain(sl) if has_x else None,
         "n": int(n), "estimable": bool(es), "shrinkage": _plain(sh)}
        for gr, me, ic, sl, n, es, sh in zip(*columns)
    ]
