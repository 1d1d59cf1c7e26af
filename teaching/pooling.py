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
from dataclasses import dataclass, field

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


def separate_regressions(X: np.ndarray, y: np.ndarray, codes: np.ndarray, counts: np.ndarray) -> NoPooling:
    """A separate least-squares regression on all of X's columns within every group at once, on
    within-group centred columns (the no pooling of a model whose every coefficient varies).

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



# -- no pooling matched to the mixed model's random part (the one definition) ----------------
# Which of X's first two columns (intercept, covariate) vary from group to group.
VARYING = {"intercept": (0,), "slope": (1,), "both": (0, 1), "uncorrelated": (0, 1)}


def varying_columns(random: str) -> tuple[int, ...]:
    """Positions in X of the coefficients that no pooling estimates per group for ``random``."""
    return VARYING[random]


def no_pooling_meaning(random: str, covariate: str | None, group: str, extras=(), response: str = "y",
                       group_column: str | None = None) -> str:
    """One sentence: what "no pooling" estimates for the mixed model with random part ``random``.

    The textbook rule: no pooling is the fixed-effects model that lets exactly the mixed
    model's random coefficients differ by group (each group's own value, nothing shared about
    them) and keeps every other coefficient common to all groups."""
    shared_extra = f"; the effect of {', '.join(extras)} is shared" if extras else ""
    if random == "intercept":
        if covariate is None:
            return f"No pooling here means: each {group}'s own mean{shared_extra}."
        return (f"No pooling here means: each {group} gets its own intercept, and one slope for "
                f"{covariate} is shared by all (the regression {response} ~ {covariate} + {group_column or group}, "
                f"with {group_column or group} as a factor){shared_extra}.")
    if random == "slope":
        return (f"No pooling here means: each {group} gets its own slope for {covariate}, and one "
                f"intercept is shared by all{shared_extra}.")
    if extras:
        return (f"No pooling here means: each {group} gets its own intercept and its own slope for "
                f"{covariate}, and one effect of {', '.join(extras)} is shared by all.")
    return (f"No pooling here means: each {group} gets its own intercept and its own slope for "
            f"{covariate} (a separate regression per {group}).")


def _within_fit(V: np.ndarray, W: np.ndarray, codes: np.ndarray, counts: np.ndarray):
    """Per group j, least squares of every column of W on the columns of V (rows of group j).

    Returns (coefficients (m, q, k), residuals (n, k), estimable (m,)). A group is estimable
    when it has at least q rows and its V_jᵀV_j is not (nearly) singular relative to V's scale."""
    m, q = len(counts), V.shape[1]
    G = group_sums(codes, m, (V[:, :, None] * V[:, None, :]).reshape(-1, q * q)).reshape(m, q, q)
    VW = group_sums(codes, m, (V[:, :, None] * W[:, None, :]).reshape(-1, q * W.shape[1]))
    VW = VW.reshape(m, q, W.shape[1])
    unit = 1.0 / np.maximum(np.sqrt((V**2).mean(axis=0)), 1e-300)
    scaled = G * np.outer(unit, unit) / np.maximum(counts, 1)[:, None, None]
    estimable = counts >= q
    if q == 1:
        estimable &= scaled[:, 0, 0] > CONSTANT_TOL
    else:
        estimable &= np.linalg.eigvalsh(scaled)[:, 0] > CONSTANT_TOL
    coef = np.zeros((m, q, W.shape[1]))
    if estimable.any():
        coef[estimable] = np.linalg.solve(G[estimable], VW[estimable])
    resid = W - np.einsum("nq,nqk->nk", V, coef[codes])
    resid[~estimable[codes]] = 0.0  # a group fitted exactly (or not at all) says nothing about the rest
    return coef, resid, estimable


def no_pooling(X: np.ndarray, y: np.ndarray, codes: np.ndarray, counts: np.ndarray,
               random: str = "both") -> NoPooling:
    """No pooling matched to the mixed model's random part ``random``: the fixed-effects model
    in which the coefficients that vary in the mixed model (``varying_columns``) are estimated
    per group and all other columns of X get one coefficient shared by every group.

    random="intercept": own intercept, shared slope (``y ~ x + group``); "slope": shared
    intercept, own slope; "both"/"uncorrelated": own intercept and slope, other covariates
    shared (with no other covariates: a separate regression per group).

    The shared coefficients come from the within-group residuals (Frisch–Waugh–Lovell: regress
    y and the shared columns on each group's varying columns, then the residuals of y on the
    residuals of the shared columns); each group's own coefficients then follow from its rows.
    """
    m, p = len(counts), X.shape[1]
    vary = [c for c in varying_columns(random) if c < p]
    shared = [c for c in range(p) if c not in vary]
    if not shared:
        return separate_regressions(X, y, codes, counts)
    V, S = X[:, vary], X[:, shared]
    _, resid, estimable = _within_fit(V, np.column_stack([y, S]), codes, counts)
    ry, rS = resid[:, 0], resid[:, 1:]
    gram = rS.T @ rS
    coef = np.full((m, p), np.nan)
    scale = np.sqrt(np.maximum(np.diag(gram), 1e-300))
    if (not estimable.any() or np.diag(gram).min() <= 0
            or np.linalg.eigvalsh(gram / np.outer(scale, scale))[0] < 1e-10):
        # The shared coefficients are not identified within groups (e.g. a covariate constant
        # inside every group with a random intercept): no group has an own estimate.
        estimable = np.zeros(m, bool)
        return NoPooling(coef, estimable, np.zeros(m), np.zeros(m, int))
    beta_shared = np.linalg.solve(gram, rS.T @ ry)
    own, _, _ = _within_fit(V, (y - S @ beta_shared)[:, None], codes, counts)
    coef[:, shared] = beta_shared
    coef[:, vary] = own[:, :, 0]
    coef[~estimable] = np.nan
    resid_y = y - np.einsum("np,np->n", X, np.nan_to_num(coef)[codes])
    rss = np.where(estimable, np.bincount(codes, resid_y**2, minlength=m), 0.0)
    df = np.where(estimable, counts - len(vary), 0)
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
      group, method, intercept, slope, n, estimable, shrinkage, shrinkage_fraction,
      pull_intercept, pull_slope.
    ``intercept`` is the line's intercept with extra covariates at their mean; ``slope`` is
    NaN without a covariate. ``estimable`` says whether that method could estimate that group
    (always True for complete and partial pooling). ``shrinkage`` (on partial rows only, NaN on
    the others) is the distance the group moved from its own estimate to the mixed model's, in
    the (intercept, slope) plane (|Δ intercept| without a covariate); ``shrinkage_fraction``
    divides it by the distance from its own estimate to the population line (0 = not pulled
    at all, 1 = pulled all the way); both are NaN where no pooling is not estimable. With one
    varying coefficient ``shrinkage_fraction`` is the pull along it. ``pull_intercept`` and
    ``pull_slope`` (partial rows; NaN for a coefficient that does not vary) are
    ``pull_fraction`` along each coefficient: what the arrows show, signed (above 1 = past the
    population value).

    No pooling is matched to the random part (``no_pooling``): with a random intercept each
    group has its own intercept but every group has the same no-pooling slope.

    ``lines``: columns group, method, x, y; two endpoints per group and method over the group's
    covariate range (non-estimable no-pooling lines left out) and the mixed model's population
    line over the whole range (group "(population)", method "population"). Empty without a
    covariate.

    ``coefficients``: method -> (groups, p) array of raw coefficients in ``fixed_names`` order.

    ``columns``: the columns of ``table`` as arrays (group and method as object arrays of text), for
    code that runs on every slider move; ``table`` is made from them when first read (the same
    table): a DataFrame cost as much as the numbers in it. Both are read-only.
    """

    columns: dict[str, np.ndarray]
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
    # The lines table, or None until it is first read (then made from _line_parts: a simulation's
    # result, whose lines no page draws, is spared a table that cost a sixth of its comparison).
    _lines: pd.DataFrame | None = field(default=None, repr=False)
    _line_parts: dict | None = field(default=None, repr=False)
    _table: pd.DataFrame | None = field(default=None, repr=False)  # made from ``columns`` when first read

    @property
    def table(self) -> pd.DataFrame:
        if self._table is None:
            c = self.columns
            self._table = pd.DataFrame({**c, "group": _text(c["group"]), "method": _text(c["method"])})
        return self._table

    @property
    def lines(self) -> pd.DataFrame:
        if self._lines is None:
            self._lines = _lines(self.data, self._line_parts, self.population)
        return self._lines

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


def pull_fraction(own, partial, population):
    """The share of the way from a group's own estimate to the population value that the mixed
    model moves it, along one coefficient: (own − partial) / (own − population).

    0 = not moved, 1 = moved all the way, between 0 and 1 = pulled part of the way; above 1 =
    pulled past the population value, below 0 = pushed away from it (both possible with a
    random intercept and slope, where the two coefficients pull on each other). This is
    exactly what the arrows show. NaN where the own estimate does not exist or equals the
    population value."""
    own, partial = np.asarray(own, float), np.asarray(partial, float)
    gap = own - population
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.abs(gap) > 1e-12 * (1 + np.abs(population)), (own - partial) / gap, np.nan)


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


def _coef_array(fit: LmerFit, names: list[str]) -> np.ndarray:
    """``fit.coef[group][names].to_numpy()`` for the one grouping factor of these models, from
    arrays: each fixed effect plus the group's mode of the random term of that name (the same
    additions; lme4's coef). The table version cost a third of a lab slider move."""
    if list(fit.fixed_names) != list(names) or len({t.group for t in fit.model.terms}) != 1:
        return fit.coef[fit.model.terms[0].group][names].to_numpy()
    out = np.tile(np.asarray(fit.beta, float), (fit.model.terms[0].n_levels, 1))
    for term, modes in zip(fit.model.terms, fit.modes_by_term):
        for k, name in enumerate(term.names):
            if name in names:
                j = names.index(name)
                out[:, j] = out[:, j] + modes[:, k]
    return out


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
    return compare_groups(g, random, reml, start)


def compare_groups(g: GroupedData, random: str = "both", reml: bool = True, start=None,
                   lines: bool = True) -> PoolingResult:
    """``compare_pooling`` of data already checked and coded (``prepare_groups``, or a simulation
    that made its groups itself). ``lines=False``: the result's ``lines`` table is made when it is
    first read (the same table), not now."""
    check_random(random, g.covariate)
    X = g.design_matrix()
    check_full_rank(X, g.fixed_names)
    if g.n_groups < 2:
        raise DataError(f"The grouping column '{g.group}' has only {g.n_groups} group: pooling needs at least 2.")
    complete = complete_pooling(X, g.y)
    separate = separate_regressions(X, g.y, g.codes, g.counts)
    none = separate if random in ("both", "uncorrelated") and X.shape[1] == 2 else \
        no_pooling(X, g.y, g.codes, g.counts, random)
    with np.errstate(all="ignore"):
        try:
            guess = moment_start(g, X, complete, separate, random)
        except np.linalg.LinAlgError:
            guess = None
    fit = fit_mixed_model(g, X, random, reml, [guess] if start is None else [start, guess])
    partial = _coef_array(fit, g.fixed_names)

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
    vary = varying_columns(random)
    pulls = {name: pull_fraction(stack["none"][:, k], stack["partial"][:, k], pop[k]) if k in vary else nan
             for k, name in enumerate(("intercept", "slope")[: 2 if has_x else 1])}
    if len(vary) == 1:  # one coefficient varies: the pull along it is the fraction of the way
        fraction = pulls["intercept" if vary == (0,) else "slope"]
    columns = {
        "group": np.repeat(np.asarray(g.levels, dtype=object), 3),
        "method": np.tile(np.asarray(METHODS, dtype=object), m),
        "intercept": np.column_stack([parts[k][0] for k in METHODS]).ravel(),
        "slope": np.column_stack([parts[k][1] for k in METHODS]).ravel(),
        "n": np.repeat(g.counts, 3),
        "estimable": np.column_stack([np.ones(m, bool), none.estimable, np.ones(m, bool)]).ravel(),
        "shrinkage": np.column_stack([nan, nan, moved]).ravel(),
        "shrinkage_fraction": np.column_stack([nan, nan, fraction]).ravel(),
        "pull_intercept": np.column_stack([nan, nan, pulls["intercept"]]).ravel(),
        "pull_slope": np.column_stack([nan, nan, pulls.get("slope", nan)]).ravel(),
    }
    return PoolingResult(
        columns=columns, fit=fit, population=population, _line_parts=parts,
        _lines=_lines(g, parts, population) if lines else None,
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


# -- reading a result: the pull, singular fits, centred coefficients -------------------------
COEFFICIENTS = ("intercept", "slope")


def varying_names(result: PoolingResult) -> list[str]:
    """'intercept' and/or 'slope': the coefficients that vary between groups in this model."""
    return [COEFFICIENTS[k] for k in varying_columns(result.random)]


def _own_and_mixed(result: PoolingResult, at_x: float | None):
    """The no-pooling and partial-pooling rows of ``result.table`` as arrays, in the table's group
    order (both methods list the groups in the same order), intercepts read at ``at_x`` (None: at 0),
    and the population value read the same way. Masks on the table's arrays (``result.columns``):
    selecting the rows as small DataFrames cost milliseconds of every slider move of the pages that
    report the pull."""
    table, pop = result.columns, result.population
    method = table["method"]
    none_rows, partial_rows = method == "none", method == "partial"
    names = varying_names(result)
    columns = {n: np.asarray(table[n], float) for n in names}
    if at_x is not None and result.data.x is not None and "intercept" in columns:
        columns["intercept"] = intercept_at(columns["intercept"], np.asarray(table["slope"], float), at_x)
        pop = {"intercept": intercept_at(pop["intercept"], pop["slope"], at_x), "slope": pop["slope"]}
    own = {n: columns[n][none_rows] for n in names}
    mixed = {n: columns[n][partial_rows] for n in names}
    groups = table["group"][none_rows]
    estimable = np.asarray(table["estimable"], bool)[none_rows]
    return groups, estimable, own, mixed, pop


def arrow_pulls(result: PoolingResult, at_x: float | None = None) -> pd.DataFrame:
    """Per group (index) and varying coefficient (columns 'intercept' / 'slope'): ``pull_fraction``,
    the share of the way the arrow goes from the group's own estimate to the population value,
    intercepts read at ``at_x`` (None: at 0). NaN where the group has no own estimate."""
    groups, estimable, own, mixed, pop = _own_and_mixed(result, at_x)
    out = pd.DataFrame(index=pd.Index([str(v) for v in groups], name="group"))
    for name in own:
        out[name] = pull_fraction(np.where(estimable, own[name], np.nan), mixed[name], pop[name])
    return out


def mean_pull(result: PoolingResult, groups=None, at_x: float | None = None) -> dict[str, float]:
    """Per varying coefficient, how much shorter the groups' distances to the population value
    become under partial pooling, as one number that agrees with the arrows:

        1 − Σⱼ (partialⱼ − pop)(ownⱼ − pop) / Σⱼ (ownⱼ − pop)²

    (the least-squares factor by which the own deviations are scaled down; each group's
    ``pull_fraction`` weighted by its squared distance from the population value). 0 = the
    groups keep their own estimates, 1 = all sit on the population value, above 1 = pulled
    past it on average. Uses the groups with an own estimate (only ``groups``, if given), with
    intercepts read at ``at_x`` (None: at 0). This is the one pull the pages report."""
    out = {}
    group_names, ok, own_all, mixed_all, population = _own_and_mixed(result, at_x)
    if groups is not None:
        wanted = {str(v) for v in groups}
        ok = ok & np.array([str(v) in wanted for v in group_names], dtype=bool)
    for name in own_all:
        pop = population[name]
        own = own_all[name][ok] - pop
        mixed = mixed_all[name][ok] - pop
        denom = float(np.sum(own**2))
        if denom > 0:
            out[name] = float(1.0 - np.sum(mixed * own) / denom)
    return out


def between(result: PoolingResult, coefficient: str, tol: float = 1e-9, table: pd.DataFrame | None = None,
            reference: str = "complete") -> pd.Series:
    """Per group: whether the mixed model's estimate lies between complete pooling and (matched)
    no pooling for ``coefficient`` (NaN-free groups only; True on ties). ``table``: e.g.
    ``centred_table(result)`` to judge intercepts at the covariate's mean. ``reference``
    "population": between the fixed effects (where the mixed model pulls to) and no pooling."""
    table = result.table if table is None else table
    wide = table.pivot(index="group", columns="method", values=coefficient)
    wide = wide.loc[result.levels].dropna()
    if reference == "population":
        pop = centred_population(result) if table is not result.table else result.population
        wide["complete"] = pop[coefficient]
    lo = np.minimum(wide["complete"], wide["none"]) - tol * (1 + np.abs(wide["none"]))
    hi = np.maximum(wide["complete"], wide["none"]) + tol * (1 + np.abs(wide["none"]))
    return (wide["partial"] >= lo) & (wide["partial"] <= hi)


def singular_terms(result_or_fit) -> list[str]:
    """The random coefficients whose variation the fit estimated as none (a boundary fit).

    Returns plain descriptions, empty when the fit is not singular: 'intercept' or 'slope'
    (SD estimated as 0) or 'correlation' (intercepts and slopes perfectly correlated: the
    groups' coefficients lie on one line)."""
    fit = getattr(result_or_fit, "fit", result_or_fit)
    if not getattr(fit, "singular", False):
        return []
    out = []
    for vc in fit.varcorr:
        sd = np.asarray(vc.sd, float)
        scale = max(float(sd.max()), 1e-300)
        for name, value in zip(vc.terms, sd):
            if value <= 1e-4 * scale or value == 0:
                out.append("intercept" if name == INTERCEPT else "slope")
        corr = getattr(vc, "corr", None)
        if corr is not None and np.asarray(corr).shape == (2, 2) and np.all(sd > 1e-4 * scale):
            if abs(float(np.asarray(corr)[0, 1])) > 0.999:
                out.append("correlation")
    return out or ["a variance"]


def singular_message(result_or_fit, group: str = "group") -> str | None:
    """What lme4's 'boundary (singular) fit' means for this fit, in plain words (None if not singular)."""
    terms = singular_terms(result_or_fit)
    if not terms:
        return None
    plural = group if group.endswith("s") else group + "s"
    parts = []
    for t in terms:
        if t in ("intercept", "slope"):
            parts.append(f"the data are best explained with **no** variation of the {t} between {plural}: "
                         f"its SD is estimated as 0, so every {group} gets the population {t}, "
                         f"which is complete pooling for the {t}")
        elif t == "correlation":
            parts.append(f"the intercepts and slopes are estimated as perfectly correlated (±1): the model "
                         f"allows {plural} to differ along one line only, so in the intercept–slope plane every "
                         f"{group} is pulled onto that line (complete pooling across it)")
        else:
            parts.append("a variance parameter sits on its boundary")
    return ("**Singular fit** (lme4: *boundary (singular) fit*): " + "; ".join(parts) +
            ". The estimate sits on the edge of what is allowed, usually because the data are too few to "
            "estimate every variance (here: " + f"{len(fit_levels(result_or_fit))} {plural}). "
            "It is not an error, but a simpler random part fits as well.")


def fit_levels(result_or_fit) -> list:
    fit = getattr(result_or_fit, "fit", result_or_fit)
    return list(fit.ranef[fit.varcorr[0].factor].index)


def covariate_mean(result: PoolingResult) -> float | None:
    """The covariate's overall mean: the x at which a centred intercept is read."""
    return None if result.data.x is None else float(result.data.x.mean())


def intercept_at(intercept, slope, x: float):
    """The one formula behind every centred view: a line's value at ``x`` (intercept + slope · x),
    which is the intercept read at x instead of at 0. Works on numbers, arrays and columns."""
    return intercept + slope * x


def centring_label(covariate: str, xbar: float) -> str:
    """The centring switch, worded the same on every page that offers it."""
    return f"Read intercepts at {covariate} = {xbar:.3g} (its mean) instead of at {covariate} = 0 (lme4's)"


def centring_help(covariate: str) -> str:
    return (f"The same lines; only where the intercept is read moves: at {covariate}'s mean it is the line's "
            f"value in the middle of the data. lme4 reports intercepts at {covariate} = 0 (switch off to see those "
            "numbers), which for some data lies far outside the observations.")


def shift_rings(rings, xbar: float):
    """Rings [(level, intercepts, slopes)] with the intercepts read at ``xbar``."""
    return [(level, intercept_at(np.asarray(x, float), np.asarray(y, float), xbar), y) for level, x, y in rings]


def centred_table(result: PoolingResult) -> pd.DataFrame:
    """The pooling table with every ``intercept`` read at the covariate's mean instead of at 0:
    intercept + slope · x̄ (the same lines; only where the intercept is read moves). Slopes and
    everything else are unchanged. Without a covariate, the table itself."""
    xbar = covariate_mean(result)
    if xbar is None:
        return result.table
    t = result.table.copy()
    t["intercept"] = intercept_at(t["intercept"], t["slope"], xbar)
    return t


def centred_columns(result: PoolingResult) -> dict[str, np.ndarray]:
    """``centred_table(result)`` as arrays, the shape of ``PoolingResult.columns`` (for code on a
    slider's hot path, e.g. the lab's map read at the covariate's mean). Read-only."""
    xbar = covariate_mean(result)
    c = result.columns
    return c if xbar is None else {**c, "intercept": intercept_at(c["intercept"], c["slope"], xbar)}


def centred_population(result: PoolingResult) -> dict[str, float]:
    xbar = covariate_mean(result) or 0.0
    pop = result.population
    return {"intercept": intercept_at(pop["intercept"], pop["slope"], xbar) if np.isfinite(pop["slope"])
            else pop["intercept"], "slope": pop["slope"]}


def pull_phrase(value: float, coefficient: str, towards: str = "the population value") -> str:
    """The pull along one coefficient (``pull_fraction``) in words that match the arrow."""
    if not np.isfinite(value):
        return f"its {coefficient} has no own estimate to be pulled from"
    if value < -0.005:
        return f"its {coefficient} is pushed away from {towards} ({-value:.0%} of the distance)"
    if value > 1.005:
        return f"its {coefficient} is pulled past {towards} ({value:.0%} of the way)"
    return f"its {coefficient} is pulled {value:.0%} of the way towards {towards}"


def push_reason() -> str:
    return ("With a random intercept and slope the two coefficients are pulled together, as a pair: the "
            "model moves the pair towards the centre of the rings, and to get there one coefficient can "
            "move away from its population value or past it. Reading intercepts at the covariate's mean "
            "(the centred view) removes most of this for intercepts far from the data.")


def possessive(word: str) -> str:
    """'subject' -> "subject's", 'species' -> "species'"."""
    return word + "'" if word.endswith("s") else word + "'s"


def between_counts(result: PoolingResult, centred: bool = True) -> dict[str, tuple[int, int, list[str]]]:
    """Per varying coefficient: (groups between complete and no pooling, groups compared, the
    others), intercepts read at the covariate's mean (``centred``) or at 0 (as lme4)."""
    table = centred_table(result) if centred else result.table
    out = {}
    for c in varying_names(result):
        inside = between(result, c, table=table, reference="population")
        out[c] = (int(inside.sum()), len(inside), [str(v) for v in inside.index[~inside]])
    return out


def between_sentence(result: PoolingResult, group: str, centred: bool = True) -> str:
    """Whether the mixed model's estimates lie between complete and no pooling, counted from the
    numbers (intercepts read at the covariate's mean, or at 0 when not ``centred``), with the
    reason where some do not."""
    plural = group if group.endswith("s") else group + "s"
    counts = between_counts(result, centred)
    parts, outside_any = [], False
    for c, (k, n, outside) in counts.items():
        if k == n:
            parts.append(f"for all {n} {plural} the mixed model's {c} lies between the fixed {c} and the "
                         f"{possessive(group)} own {c}")
        else:
            outside_any = True
            shown = ", ".join(outside[:5]) + (" …" if len(outside) > 5 else "")
            parts.append(f"the mixed model's {c} lies between the fixed {c} and the {possessive(group)} own "
                         f"{c} for {k} of {n} {plural} (not for {shown})")
    text = "; ".join(parts)
    text = text[0].upper() + text[1:]
    if "intercept" in counts and result.data.x is not None:
        cov = result.data.covariate
        text += (f" (intercepts read at {cov} = {covariate_mean(result):.3g}, its mean)" if centred
                 else f" (intercepts read at {cov} = 0, as lme4)")
    text += "."
    complete = result.coefficients["complete"][0, :2]
    fixed = result.fit.beta[:2]
    if np.allclose(complete, fixed, rtol=1e-6, atol=1e-9 * (1 + np.abs(fixed).max())):
        text += " Here the fixed effects equal one line for all (balanced data)."
    else:
        text += (" The fixed effects are not one line for all here: the mixed model weighs the groups, so its "
                 "population line differs from the least-squares line through all points.")
    if outside_any:
        if len(counts) == 2:
            text += (" Why not always: intercept and slope are pulled as a pair, and one of the two can "
                     "overshoot its population value or move outwards.")
        else:
            text += (" Why not always: the shared coefficients are estimated a little differently by each "
                     "method (unbalanced groups), so the three lines are not compared at exactly the same "
                     "shared slope.")
    return text


def centre_by_default(result: PoolingResult) -> bool:
    """Read intercepts at the covariate's mean when 0 lies far outside the data (iris: sepal
    length 0 is an extrapolation of 4 cm); at 0 when 0 is a real value (day 0, first semester)."""
    if result.data.x is None:
        return False
    lo, hi = float(result.data.x.min()), float(result.data.x.max())
    return not (lo - (hi - lo) <= 0.0 <= hi + (hi - lo))


def centred_covariance(result: PoolingResult, cov) -> np.ndarray:
    """Covariance of (intercept at x̄, slope) from that of (intercept at 0, slope)."""
    xbar = covariate_mean(result) or 0.0
    T = np.array([[1.0, xbar], [0.0, 1.0]])
    return T @ np.asarray(cov, float) @ T.T


def axis_labels(result: PoolingResult | None, centred: bool, response: str, covariate: str | None = None,
                xbar: float | None = None) -> tuple[str, str]:
    """The same intercept and slope axis wording on every page: "Intercept: y at x = 5.84 (its mean)"
    or "Intercept: y at x = 0 (lme4's)". ``xbar`` defaults to the result's covariate mean."""
    cov = covariate or result.data.covariate
    if xbar is None and result is not None and result.data.x is not None:
        xbar = covariate_mean(result)
    if centred and xbar is not None:
        at = f"at {cov} = {xbar:.3g} (its mean)"
    else:
        at = f"at {cov} = 0 (lme4's)"
    return f"Intercept: {response} {at}", f"Slope (per unit of {cov})"


def inward_share(result: PoolingResult) -> float:
    """For a random intercept and slope: the share of groups whose mixed-model estimate lies on a
    smaller ring than their own estimate (closer to the fixed effects in the Mahalanobis distance
    of the estimated distribution): 'the arrows point inwards', as a number."""
    from lmm_core import random_effect_covariance

    cov = np.asarray(random_effect_covariance(result.fit), float)
    if cov.shape != (2, 2):
        return float("nan")
    prec = np.linalg.pinv(cov)
    pop = np.array([result.population["intercept"], result.population["slope"]])
    t = result.table
    ok = t[t["method"] == "none"]["estimable"].to_numpy()
    own = t[t["method"] == "none"][["intercept", "slope"]].to_numpy(float)[ok] - pop
    mixed = t[t["method"] == "partial"][["intercept", "slope"]].to_numpy(float)[ok] - pop
    d_own = np.einsum("ij,jk,ik->i", own, prec, own)
    d_mixed = np.einsum("ij,jk,ik->i", mixed, prec, mixed)
    return float(np.mean(d_mixed <= d_own + 1e-12)) if len(own) else float("nan")


def boundary_parts(fit) -> list[str]:
    """For any fit (also crossed or several terms): which variance parameters sit on the boundary,
    named by term and grouping factor, e.g. "the SD of `(Intercept)` between levels of Days is 0"
    or "`(Intercept)` and `Days` by Subject are perfectly correlated (-1)". Empty if not singular."""
    if not getattr(fit, "singular", False):
        return []
    out = []
    for vc in fit.varcorr:
        sd = np.asarray(vc.sd, float)
        scale = max(float(np.max(sd)) if sd.size else 0.0, float(getattr(fit, "sigma", 0.0)), 1e-300)
        for name, value in zip(vc.terms, sd):
            if value <= 1e-4 * scale:
                out.append(f"the SD of `{name}` between levels of {vc.factor} is estimated as 0 (every level "
                           f"gets the fixed value: complete pooling for that term)")
        corr = np.asarray(vc.corr, float) if vc.corr is not None else np.zeros((0, 0))
        for i in range(len(vc.terms)):
            for j in range(i + 1, len(vc.terms)):
                if sd[i] > 1e-4 * scale and sd[j] > 1e-4 * scale and abs(corr[i, j]) > 0.999:
                    out.append(f"`{vc.terms[i]}` and `{vc.terms[j]}` by {vc.factor} are estimated as perfectly "
                               f"correlated ({corr[i, j]:+.2f}): the levels may differ along one line only")
    return out


def modes_spread_sentence(spread: pd.DataFrame, group: str, n_groups: int, reml: bool) -> str:
    """How the spread of the conditional modes compares with the fitted SD, computed from
    ``teaching.anatomy.spread_vs_variance`` rows of one grouping factor (columns Name, Estimated SD,
    SD of the modes): smaller as a rule (the modes are shrunk), with the reason where it is not."""
    parts, larger = [], []
    for row in spread.to_dict("records"):
        sd_modes, sd_fit, name = float(row["SD of the modes"]), float(row["Estimated SD"]), row["Name"]
        if sd_fit <= 0:
            parts.append(f"`{name}`: 0 and 0 (the fit put this variance at 0, so every mode is 0)")
            continue
        parts.append(f"`{name}`: {sd_modes:.3g} against {sd_fit:.3g}")
        if sd_modes > sd_fit * (1 + 1e-9) + 1e-12:
            larger.append(name)
    text = f"SD of the modes against the fitted SD, {'; '.join(parts)}. "
    if not larger:
        if all(float(v) <= 0 for v in spread["Estimated SD"]):
            return text
        return text + ("The modes spread less than the fitted SD says the groups differ: each is shrunk towards 0.")
    which = ", ".join(f"`{n}`" for n in larger)
    reason = (f"with only {n_groups} levels of {group} the fitted SD is itself rough" if n_groups <= 10
              else "the fitted SD and the modes' spread are estimated differently")
    if not reml:
        reason += (", and maximum likelihood divides the variance by the number of levels while the SD of the "
                   "modes divides by one less")
    return text + (f"Here the modes of {which} spread *more* than the fitted SD, although each is shrunk: {reason}. "
                   "Shrinkage makes the modes spread less than the groups really differ, not always less than "
                   "this estimate.")
