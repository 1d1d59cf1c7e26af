"""Predictions of three kinds, and why partial pooling predicts better.

- a group in the data ("known"): fixed effects plus the group's conditional modes;
- a new group ("new"): fixed effects only, its spread given by the random-effect covariance Σ;
- a group seen through only its first k observations ("partial"): the model refitted with
  that group thinned, so its conditional mode rests on those few points.

Every curve comes with a 95% prediction interval for a new observation:
    var = zᵀ C z + σ²   (+ xᵀ V x with ``fixed_uncertainty=True``)
where z are the random-effect columns at x, C is the group's conditional covariance (a known
or thinned group) or Σ (a new group), and V the fixed effects' covariance. Adding xᵀVx ignores
the covariance between β̂ and the conditional modes: a slight approximation, as in most software.
Curves are tidy frames: x, fit, lower, upper, se_line (the line's own SD, without σ), kind, group.
Extra fixed covariates are held at their mean.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from lmm_core import DataError

from .pooling import INTERCEPT, METHODS, PoolingResult, compare_pooling, group_labels, intercept_at, prepare_groups
from .shrinkage import matrix_shrinkage

GRID_POINTS = 50


# -- building blocks -------------------------------------------------------------------------
def _x_grid(result: PoolingResult, x=None) -> np.ndarray:
    if x is not None:
        return np.atleast_1d(np.asarray(x, float))
    if result.data.x is None:
        return np.zeros(1)  # without a covariate the prediction does not depend on x
    return np.linspace(result.data.x.min(), result.data.x.max(), GRID_POINTS)


def _fixed_rows(result: PoolingResult, x: np.ndarray) -> np.ndarray:
    """Rows of the fixed-effects matrix at x, extra covariates at their mean."""
    cols = [np.ones_like(x)] + ([x] if result.data.covariate is not None else [])
    means = result.data.extra_means()
    return np.column_stack(cols + [np.broadcast_to(means, (len(x), len(means)))])


def _random_rows(names: list[str], x: np.ndarray) -> np.ndarray:
    """Rows of the random-effects columns at x: 1 for the intercept, x for the covariate."""
    return np.column_stack([np.ones_like(x) if name == INTERCEPT else x for name in names])


def _curve(x, fit, var_line, sigma2, kind, group, level) -> pd.DataFrame:
    z = norm.ppf(0.5 + level / 2)
    half = z * np.sqrt(var_line + sigma2)
    return pd.DataFrame({"x": x, "fit": fit, "lower": fit - half, "upper": fit + half,
                         "se_line": np.sqrt(var_line), "kind": kind, "group": group})


def _group_index(result: PoolingResult, group_label) -> int:
    label = str(group_label)
    try:
        return result.levels.index(label)
    except ValueError:
        raise DataError(f"There is no group '{label}' in the data.") from None


def _quad(rows: np.ndarray, cov: np.ndarray) -> np.ndarray:
    return np.einsum("na,ab,nb->n", rows, cov, rows)


# -- the three kinds -------------------------------------------------------------------------
def known_group_prediction(result: PoolingResult, group_label, x=None, level: float = 0.95,
                           fixed_uncertainty: bool = False, kind: str = "known") -> pd.DataFrame:
    """The line of a group in the data: fixed effects plus its conditional modes."""
    j = _group_index(result, group_label)
    x = _x_grid(result, x)
    ms = matrix_shrinkage(result)
    fit = result.predict("partial", x, codes=np.full(len(x), j))
    var = _quad(_random_rows(ms.names, x), ms.posterior_cov[j])
    if fixed_uncertainty:
        var = var + _quad(_fixed_rows(result, x), result.fit.vcov.to_numpy())
    return _curve(x, fit, var, ms.sigma2, kind, result.levels[j], level)


def new_group_prediction(result: PoolingResult, x=None, level: float = 0.95,
                         fixed_uncertainty: bool = False) -> pd.DataFrame:
    """The population line, with the spread of a group not in the data: zᵀΣz + σ²."""
    x = _x_grid(result, x)
    ms = matrix_shrinkage(result)
    fit = result.predict("population", x)
    var = _quad(_random_rows(ms.names, x), ms.prior_cov)
    if fixed_uncertainty:
        var = var + _quad(_fixed_rows(result, x), result.fit.vcov.to_numpy())
    return _curve(x, fit, var, ms.sigma2, "new", "(new group)", level)


def prediction_curves(result: PoolingResult, group_label, x=None, level: float = 0.95,
                      fixed_uncertainty: bool = False) -> pd.DataFrame:
    """The known-group and new-group curves stacked in one frame."""
    return pd.concat([known_group_prediction(result, group_label, x, level, fixed_uncertainty),
                      new_group_prediction(result, x, level, fixed_uncertainty)], ignore_index=True)


@dataclass
class PartialDataPrediction:
    """A group seen through its first k observations.

    ``curve``: its prediction (kind "partial"). ``shown``/``hidden``: the group's rows
    used / held back (columns x, y). ``coef``/``coef_sd``: the group's coefficients
    (fixed + conditional mode) and their conditional SDs, per random column; ``own``: its
    own least-squares line from the k points (NaN if not estimable). ``result``: the
    pooling comparison on the thinned data."""

    curve: pd.DataFrame
    shown: pd.DataFrame
    hidden: pd.DataFrame
    coef: pd.Series
    coef_sd: pd.Series
    own: pd.Series
    result: PoolingResult


def partial_data_prediction(data: pd.DataFrame, response: str, group: str, covariate: str, chosen_group, k: int,
                            random: str = "both", reml: bool = True, extra_covariates=(), x=None,
                            level: float = 0.95, fixed_uncertainty: bool = False, start=None) -> PartialDataPrediction:
    """Refit with only the first k observations (by covariate) of ``chosen_group`` and predict it."""
    in_fit = thin_mask(data, group, covariate, k, groups=[chosen_group])
    result = compare_pooling(data[in_fit], response, group, covariate, random=random, reml=reml, start=start,
                             extra_covariates=extra_covariates)
    if x is None:  # the full data's range, so the curve reaches over the hidden points
        full = prepare_groups(data, response, group, covariate, extra_covariates)
        x = np.linspace(full.x.min(), full.x.max(), GRID_POINTS)
    curve = known_group_prediction(result, chosen_group, x, level, fixed_uncertainty, kind="partial")
    j = _group_index(result, chosen_group)
    ms = matrix_shrinkage(result)
    mine = group_labels(data[group]) == result.levels[j]
    frame = data[[covariate, response]].set_axis(["x", "y"], axis=1)
    return PartialDataPrediction(
        curve=curve, shown=frame[mine & in_fit], hidden=frame[mine & ~in_fit],
        coef=pd.Series(ms.compromise[j], index=ms.names, name="coef"),
        coef_sd=pd.Series(np.sqrt(np.diag(ms.posterior_cov[j])), index=ms.names, name="coef_sd"),
        own=pd.Series(result.coefficients["none"][j], index=result.fixed_names, name="own"),
        result=result,
    )


@dataclass
class PartialPath:
    """How a group's line moves as its observations are added one by one (k = 0 is a new group).

    ``table``: one row per k with columns k, intercept, slope (the group's line, extra covariates
    at their mean; slope NaN without a covariate), intercept_sd, slope_sd (their conditional SDs;
    for k = 0 the SDs of a new group, from Σ), intercept_at_mean and intercept_at_mean_sd (the
    line's value at the covariate's mean over all data, and the SD of the group's part there), fit_end and se_end (the line and its SD at the
    largest covariate value). ``own``: the group's own line from all its data (intercept, slope);
    ``population``: the fixed-effects line from all data."""

    table: pd.DataFrame
    own: tuple[float, float]
    population: tuple[float, float]


def _line_sd(names, cov, x):
    rows = _random_rows(names, np.atleast_1d(float(x)))
    return float(np.sqrt(_quad(rows, cov))[0])


def partial_data_path(data: pd.DataFrame, response: str, group: str, covariate: str, chosen_group, ks=None,
                      random: str = "both", reml: bool = True, extra_covariates=()) -> PartialPath:
    """Refit with the first k observations of ``chosen_group`` for each k in ``ks`` (all 0..n by default)."""
    full = compare_pooling(data, response, group, covariate, random=random, reml=reml,
                           extra_covariates=extra_covariates)
    j = _group_index(full, chosen_group)
    n = int(full.group_sizes.iloc[j])
    ks = range(n + 1) if ks is None else sorted({int(k) for k in ks if 0 <= int(k) <= n})
    x_end = float(full.data.x.max())
    x_mean = float(full.data.x.mean())  # where a centred intercept is read (teaching.pooling.intercept_at)
    row_of = {m: full.table[(full.table["group"] == full.levels[j]) & (full.table["method"] == m)].iloc[0]
              for m in ("none", "partial")}
    rows = []
    for k in ks:
        if k == 0:
            ms, coef_line = matrix_shrinkage(full), (full.population["intercept"], full.population["slope"])
            cov = ms.prior_cov
            end = float(full.predict("population", np.array([x_end]))[0])
        elif k == n:
            ms = matrix_shrinkage(full)
            cov = ms.posterior_cov[j]
            coef_line = (row_of["partial"]["intercept"], row_of["partial"]["slope"])
            end = float(full.predict("partial", np.array([x_end]), codes=np.array([j]))[0])
        else:
            part = partial_data_prediction(data, response, group, covariate, chosen_group, k, random, reml,
                                           extra_covariates, x=np.array([x_end]), start=full.fit.theta)
            res = part.result
            jj = _group_index(res, chosen_group)
            ms = matrix_shrinkage(res)
            cov = ms.posterior_cov[jj]
            r = res.table[(res.table["group"] == res.levels[jj]) & (res.table["method"] == "partial")].iloc[0]
            coef_line = (r["intercept"], r["slope"])
            end = float(part.curve["fit"].iloc[0])
        sds = dict(zip(ms.names, np.sqrt(np.diag(cov))))
        rows.append({"k": k, "intercept": float(coef_line[0]), "slope": float(coef_line[1]),
                     "intercept_sd": sds.get(INTERCEPT, 0.0), "slope_sd": sds.get(covariate, 0.0),
                     "intercept_at_mean": float(intercept_at(coef_line[0], coef_line[1], x_mean)),
                     "intercept_at_mean_sd": _line_sd(ms.names, cov, x_mean) if INTERCEPT in ms.names else 0.0,
                     "fit_end": end, "se_end": _line_sd(ms.names, cov, x_end)})
    own = (float(row_of["none"]["intercept"]), float(row_of["none"]["slope"]))
    population = (full.population["intercept"], full.population["slope"])
    return PartialPath(pd.DataFrame(rows), own, population)


def three_kinds(data: pd.DataFrame, response: str, group: str, covariate: str, chosen_group, k: int,
                random: str = "both", reml: bool = True, extra_covariates=(), level: float = 0.95,
                fixed_uncertainty: bool = False) -> pd.DataFrame:
    """All three curves for one group in one tidy frame (kinds "known", "new", "partial")."""
    full = compare_pooling(data, response, group, covariate, random=random, reml=reml,
                           extra_covariates=extra_covariates)
    x = _x_grid(full)
    part = partial_data_prediction(data, response, group, covariate, chosen_group, k, random, reml,
                                   extra_covariates, x, level, fixed_uncertainty, start=full.fit.theta)
    return pd.concat([prediction_curves(full, chosen_group, x, level, fixed_uncertainty), part.curve],
                     ignore_index=True)


# -- thinning and hold-out -------------------------------------------------------------------
def _rank_within_group(codes: np.ndarray, order_values: np.ndarray) -> np.ndarray:
    """Each row's position within its group when ordered by ``order_values`` (stable, NaN last)."""
    order = np.lexsort((order_values, codes))
    sorted_codes = codes[order]
    first = np.r_[0, np.flatnonzero(np.diff(sorted_codes)) + 1]
    starts = np.repeat(first, np.diff(np.r_[first, len(codes)]))
    rank = np.empty(len(codes), dtype=np.int64)
    rank[order] = np.arange(len(codes)) - starts
    return rank


def _check_columns(data: pd.DataFrame, *names) -> None:
    if not isinstance(data, pd.DataFrame):
        raise DataError("The data must be a table (a pandas DataFrame).")
    missing = [n for n in names if n not in data.columns]
    if missing:
        raise DataError(f"The data have no column(s) {', '.join(map(str, missing))}.")


def thin_mask(data: pd.DataFrame, group: str, covariate: str, keep: int, groups=None) -> np.ndarray:
    """Which rows thin_groups keeps (a boolean array over the rows)."""
    _check_columns(data, group, covariate)
    if int(keep) < 0:
        raise DataError(f"keep must be 0 or more; got {keep}.")
    labels = group_labels(data[group])
    if groups is None:
        chosen = labels != None  # noqa: E711 (element-wise)
    else:
        wanted = {str(g) for g in groups}
        unknown = wanted - set(labels[labels != None])  # noqa: E711
        if unknown:
            raise DataError(f"There is no group {', '.join(sorted(unknown))} in column '{group}'.")
        chosen = np.isin(labels, list(wanted))
    codes = pd.factorize(labels)[0]
    x = pd.to_numeric(data[covariate], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    rank = _rank_within_group(codes, x)
    return ~chosen | (rank < int(keep))


def thin_groups(data: pd.DataFrame, group: str, covariate: str, keep: int, groups=None) -> pd.DataFrame:
    """Keep only the first ``keep`` observations (ordered by covariate) of the chosen groups.

    ``groups``: labels of the groups to thin (compared as the text labels compare_pooling
    shows, e.g. "308"); all groups if None. Other rows, and the row order and index, stay.
    """
    return data[thin_mask(data, group, covariate, keep, groups)]


@dataclass
class HoldoutResult:
    """``table``: per method, RMSE on the held-out rows it could predict (rmse, n_predicted)
    and on the rows all three could predict (rmse_common, n_common). ``predictions``: long
    frame group, x, y, method, prediction. ``result``: the pooling comparison on the training rows."""

    table: pd.DataFrame
    predictions: pd.DataFrame
    result: PoolingResult


def holdout_comparison(data: pd.DataFrame, response: str, group: str, covariate: str, holdout_last: int = 1,
                       random: str = "both", reml: bool = True, extra_covariates=()) -> HoldoutResult:
    """Fit on all but the last ``holdout_last`` observations of each group, predict those.

    complete: the one common line; none: the group's own line (NaN if not estimable or the
    group has no training rows); partial: the mixed model's group line (the population line
    for a group with no training rows, as for a new group).
    """
    k = int(holdout_last)
    if k < 1:
        raise DataError(f"holdout_last must be 1 or more; got {holdout_last}.")
    g = prepare_groups(data, response, group, covariate, extra_covariates)
    clean = data.iloc[g.rows] if g.dropped_rows else data
    rank = _rank_within_group(g.codes, g.x)
    held = rank >= (g.counts[g.codes] - k)
    if held.all():
        raise DataError(f"Holding out {k} observation(s) per group leaves nothing to fit.")
    result = compare_pooling(clean[~held], response, group, covariate, random=random, reml=reml,
                             extra_covariates=extra_covariates)
    labels = np.asarray(g.levels, dtype=object)[g.codes[held]]
    lookup = {lvl: i for i, lvl in enumerate(result.levels)}
    codes = np.array([lookup.get(lab, -1) for lab in labels], dtype=np.int64)
    known = codes >= 0
    x, y, extras = g.x[held], g.y[held], g.extras[held]
    safe = np.where(known, codes, 0)
    preds = {
        "complete": result.predict("complete", x, codes=np.zeros(len(x), np.int64), extras=extras),
        "none": np.where(known, result.predict("none", x, codes=safe, extras=extras), np.nan),
        "partial": np.where(known, result.predict("partial", x, codes=safe, extras=extras),
                            result.predict("population", x, extras=extras)),
    }
    common = np.all([np.isfinite(p) for p in preds.values()], axis=0)
    rows = []
    for method in METHODS:
        p = preds[method]
        ok = np.isfinite(p)
        rmse = np.sqrt(np.mean((p[ok] - y[ok]) ** 2)) if ok.any() else np.nan
        rmse_common = np.sqrt(np.mean((p[common] - y[common]) ** 2)) if common.any() else np.nan
        rows.append((method, rmse, int(ok.sum()), rmse_common, int(common.sum())))
    table = pd.DataFrame(rows, columns=["method", "rmse", "n_predicted", "rmse_common", "n_common"])
    n = len(y)
    predictions = pd.DataFrame({
        "group": np.tile(labels, 3), "x": np.tile(x, 3), "y": np.tile(y, 3),
        "method": np.repeat(np.asarray(METHODS, dtype=object), n),
        "prediction": np.concatenate([preds[m] for m in METHODS]),
    })
    return HoldoutResult(table, predictions, result)
