"""What the Shrinkage lab shows, computed in one call per slider move.

Two experiments:

- ``simulated_lab``: draw groups from a mixed model with a known truth, fit the three
  ways, and score each against the truth (shrinkage map with truth, distributions of the
  group coefficients, variance components next to the true ones, errors, mean shrinkage);
- ``thinned_lab``: keep only the first few observations of real groups and compare the
  fit with the one on the full data.

When the data cannot support a random intercept and slope (two observations per group:
as many random effects as observations), the lab fits a random intercept only and says
so; when they cannot support any mixed model (one observation per group), it explains
why instead of failing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from lmm_core import LmmError, random_effect_covariance

from .pooling import PoolingResult, compare_pooling, singular_message
from .pooling import mean_pull as pooling_mean_pull
from .predictions import thin_mask
from .shrinkage import ellipse_rings, pull_values
from .simulate import SimulatedData, SimulationSettings, evaluate_simulation, simulate, true_coefficients

RING_LEVELS = (0.5, 0.8, 0.95)
PARAMETER_LABELS = {
    "fixed_intercept": "Average intercept (fixed)", "fixed_slope": "Average slope (fixed)",
    "sd_intercept": "SD of intercepts between groups", "sd_slope": "SD of slopes between groups",
    "correlation": "Correlation of intercepts and slopes", "sd_residual": "Residual SD (noise)",
}
METHOD_LABELS = {"complete": "Complete pooling", "none": "No pooling", "partial": "Partial pooling"}


@dataclass
class LabView:
    """Everything one lab view shows. ``result`` is None when no mixed model could be fitted;
    ``notes`` then (and when a simpler model was fitted) says why in plain words.

    ``parameter_columns`` (parameter, label, true, estimated) and ``error_columns`` (method, label,
    rmse_intercept, rmse_slope, n_groups) are the columns of the tables ``parameters`` and
    ``errors``, which are made from them when first read (the page reads the columns: building
    the tables cost more than the numbers in them). Views are shared between sessions: read-only."""

    sim: SimulatedData
    result: PoolingResult | None
    random: str | None
    notes: list[str] = field(default_factory=list)
    parameter_columns: dict | None = None
    error_columns: dict | None = None
    shrinkage: dict[str, float] = field(default_factory=dict)  # coefficient -> mean pull 0..1

    @property
    def theta(self):
        return None if self.result is None else self.result.fit.theta

    @cached_property
    def parameters(self) -> pd.DataFrame | None:
        return _labelled_table(self.parameter_columns)

    @cached_property
    def errors(self) -> pd.DataFrame | None:
        return _labelled_table(self.error_columns)

    @cached_property
    def coefficient_columns(self) -> dict[str, np.ndarray]:
        """``coefficient_values(self)`` as arrays (method, coefficient, value), computed once per view
        (the lab's figure and the sentence under it both read it): treat it as read-only."""
        return _coefficient_columns(self)

    @cached_property
    def coefficient_values(self) -> pd.DataFrame:
        """``coefficient_values(self)``, computed once per view: treat it as read-only."""
        return pd.DataFrame(self.coefficient_columns)


def _labelled_table(columns: dict | None) -> pd.DataFrame | None:
    """A view's table from its columns (the text of ``label`` as pandas' str dtype)."""
    if columns is None:
        return None
    return pd.DataFrame({**columns, "label": pd.array(columns["label"], dtype="str")})


def mean_pull(result: PoolingResult) -> dict[str, float]:
    """Per varying coefficient, how much of the distance from the groups' own estimates to the
    population value the mixed model removes: ``teaching.pooling.mean_pull``, the number that
    agrees with the arrows of the map (0 = every group keeps its own estimate, 1 = every group
    sits on the population line; a singular fit shows as a pull near 1 on that term)."""
    return pooling_mean_pull(result)


def _fit_what_the_data_support(fit, random: str = "both"):
    """``fit(random)`` with the wanted random effects, else with a random intercept only.

    Returns (the fit or None, the random effects used or None, plain-language notes)."""
    try:
        return fit(random), random, []
    except LmmError:
        pass
    if random != "intercept":
        try:
            fallback = fit("intercept")
        except LmmError:
            pass
        else:
            return fallback, "intercept", [
                "With this few observations per group, a random intercept *and* a random slope would "
                "need as many random effects as most groups have observations, so the noise and the "
                "differences between groups cannot be told apart. The lab therefore fits a random "
                "intercept only: every group gets its own intercept and the average slope (no pooling "
                "then means the same: own intercepts, one shared slope)."]
    return None, None, [
        "No mixed model can be fitted to these data: with one observation per group, the "
        "differences between groups and the noise within groups cannot be told apart. "
        "Give the groups at least 2 observations (or choose unbalanced sizes)."]


def simulated_lab(settings: SimulationSettings, start=None) -> LabView:
    """Simulate, fit the three ways, score against the truth. ``start``: the previous θ."""
    sim = simulate(settings)
    evaluation, random, notes = _fit_what_the_data_support(
        lambda kind: evaluate_simulation(sim, random=kind, start=start if kind == "both" else None))
    if evaluation is None:
        return LabView(sim, None, None, notes)
    result = evaluation.result
    parameters, errors = evaluation.parameter_columns, evaluation.error_columns
    parameters = {"parameter": parameters["parameter"],
                  "label": [PARAMETER_LABELS.get(p) for p in parameters["parameter"]],
                  "true": parameters["true"], "estimated": parameters["estimated"]}
    errors = {"method": errors["method"], "label": [METHOD_LABELS.get(m) for m in errors["method"]],
              **{k: v for k, v in errors.items() if k != "method"}}
    if not np.isfinite(result.coefficients["none"][:, 0]).any():  # result.estimable, without its Series
        notes.append("No group has enough observations for a line of its own, so there is no "
                     "no-pooling estimate to compare with.")
    singular = singular_message(result, "group")
    if singular:
        notes.append(singular)
    return LabView(sim, result, random, notes, parameters, errors, mean_pull(result))


def truth_table(sim: SimulatedData) -> pd.DataFrame:
    """group, intercept, slope: the true coefficients, for the shrinkage map."""
    return pd.DataFrame(truth_columns(sim))


def truth_columns(sim: SimulatedData) -> dict[str, np.ndarray]:
    """``truth_table(sim)`` as arrays (group as an object array of text): what the map reads."""
    return {"group": np.array(sim.levels, dtype=object), "intercept": sim.true_coefficients[:, 0],
            "slope": sim.true_coefficients[:, 1]}


def estimated_rings(result: PoolingResult, levels=RING_LEVELS) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Contours of the fitted distribution of group (intercept, slope) around the fixed effects."""
    center = (result.population["intercept"], result.population["slope"])
    return _rings(center, random_effect_covariance(result.fit), levels)


def true_rings(settings: SimulationSettings, levels=RING_LEVELS) -> list[tuple[float, np.ndarray, np.ndarray]]:
    return _rings((settings.fixed_intercept, settings.fixed_slope), settings.covariance, levels)


def _rings(center, cov, levels):
    cov = np.asarray(cov, float)
    if cov.shape != (2, 2):  # a random intercept only: no spread of slopes
        cov = np.array([[cov.reshape(-1)[0], 0.0], [0.0, 0.0]])
    return ellipse_rings(center, cov, levels=levels)


def coefficient_values(view: LabView) -> pd.DataFrame:
    """Long frame (method, coefficient, value): the truth and the no/partial-pooling group
    coefficients (no pooling only where a group's own line is estimable). Read-only: the view keeps it."""
    return view.coefficient_values


def _coefficient_columns(view: LabView, truth=None, table=None) -> dict[str, np.ndarray]:
    """``truth``: (groups, 2) true coefficients (default the simulation's); ``table``: the
    result's columns (default ``view.result.columns``), e.g. both with intercepts read elsewhere."""
    # From arrays (frames per part and a concat cost more than the lab's figures).
    truth = view.sim.true_coefficients if truth is None else truth
    parts = [("truth", "intercept", truth[:, 0]), ("truth", "slope", truth[:, 1])]
    if view.result is not None:
        table = view.result.columns if table is None else table
        estimable = np.asarray(table["estimable"], bool)
        for name in ("none", "partial"):
            rows = (table["method"] == name) & estimable
            parts += [(name, coefficient, np.asarray(table[coefficient], float)[rows])
                      for coefficient in ("intercept", "slope")]
    sizes = [len(v) for _m, _c, v in parts]
    return {"method": np.repeat(np.array([m for m, _c, _v in parts], dtype=object), sizes),
            "coefficient": np.repeat(np.array([c for _m, c, _v in parts], dtype=object), sizes),
            "value": np.concatenate([np.asarray(v, float) for _m, _c, v in parts])}


# -- real data, thinned -------------------------------------------------------------
@dataclass
class ThinnedView:
    """The full-data comparison, the thinned one (None if no model fits), and which groups were thinned."""

    full: PoolingResult
    thinned: PoolingResult | None
    random: str | None
    notes: list[str]
    thinned_groups: list[str]
    kept_rows: int
    total_rows: int
    moved: pd.DataFrame | None  # see _pull_by_group


def thinned_lab(data: pd.DataFrame, response: str, group: str, covariate: str, keep: int,
                groups=None, random: str = "both", extra_covariates=(), full: PoolingResult | None = None,
                start=None) -> ThinnedView:
    """Keep the first ``keep`` observations (by covariate) of ``groups`` (all if None) and refit.

    ``full`` may pass the full-data comparison (a page caches it). When the thinned data
    cannot support the chosen random effects, a random intercept is fitted instead (see notes)."""
    if full is None:
        full = compare_pooling(data, response, group, covariate, random=random,
                               extra_covariates=extra_covariates)
    mask = thin_mask(data, group, covariate, keep, groups)
    kept = data[mask]
    thinned, used, notes = _fit_what_the_data_support(
        lambda kind: compare_pooling(kept, response, group, covariate, random=kind,
                                     start=start if kind == random else None, extra_covariates=extra_covariates),
        random)
    chosen = full.levels if groups is None else [str(g) for g in groups]
    moved = None if thinned is None else _pull_by_group(full, thinned)
    return ThinnedView(full, thinned, used, notes, list(chosen), int(mask.sum()), int(len(data)), moved)


def lines_over(result: PoolingResult, ranges: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """Each method's line for the given groups over the given covariate ranges (group, method,
    x, y), e.g. a thinned fit drawn over the full data's days, so its extrapolation shows."""
    rows = []
    table = result.table
    # Row of each (group, method) by a dict over the arrays (a MultiIndex and .loc per group cost
    # more than the page's figure).
    where = {key: i for i, key in enumerate(zip(table["group"].tolist(), table["method"].tolist()))}
    intercepts, slopes = table["intercept"].to_numpy(float), table["slope"].to_numpy(float)
    for group, (lo, hi) in ranges.items():
        for method in ("complete", "none", "partial"):
            i = where.get((group, method))
            if i is None:
                continue
            intercept, slope = intercepts[i], slopes[i]
            if not (np.isfinite(intercept) and np.isfinite(slope)):
                continue
            for x in (lo, hi):
                rows.append((group, method, float(x), float(intercept + slope * x)))
    return pd.DataFrame(rows, columns=["group", "method", "x", "y"])


@dataclass
class ThinnedPanels:
    """What the facets of a thinned fit draw for the groups ``shown``: the kept observations, the
    ones left out, the thinned fit's lines over each group's full covariate range (plus the
    population line) and the mixed model's lines on the full data (drawn faint)."""

    kept: pd.DataFrame  # group, x, y
    left_out: pd.DataFrame  # group, x, y
    lines: pd.DataFrame  # group, method, x, y
    faint: pd.DataFrame  # group, method, x, y


def thinned_panels(full: PoolingResult, thinned: PoolingResult, shown) -> ThinnedPanels:
    """The facets' data for ``shown`` groups, from the arrays of both fits (this runs on every move
    of the "Less data" slider: a merge and a groupby of the full data cost more than the figure)."""
    shown = [str(s) for s in shown]
    wanted = set(shown)

    def rows_of(g) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        labels = np.array([str(v) for v in g.levels], dtype=object)
        pick = np.array([v in wanted for v in labels], dtype=bool)[g.codes]
        x = g.x if g.x is not None else np.zeros(len(g.y))
        return labels[g.codes][pick], x[pick], g.y[pick]

    kg, kx, ky = rows_of(thinned.data)
    kept = pd.DataFrame({"group": kg, "x": kx, "y": ky})
    eg, ex, ey = rows_of(full.data)
    # The full data's rows that the thinned fit did not use (each row of the thinned data is a row of the full).
    used = set(zip(kg.tolist(), kx.tolist(), ky.tolist()))
    out = np.array([key not in used for key in zip(eg.tolist(), ex.tolist(), ey.tolist())], dtype=bool)
    left_out = pd.DataFrame({"group": eg[out], "x": ex[out], "y": ey[out]})
    ranges = {}
    for group in sorted(set(eg.tolist())):  # in sorted order, as a groupby gives them
        at = eg == group
        ranges[group] = (float(ex[at].min()), float(ex[at].max()))
    population = thinned.lines[thinned.lines["group"] == "(population)"]
    lines = pd.concat([lines_over(thinned, ranges), population])
    full_lines = full.lines
    faint = full_lines[full_lines["group"].isin(shown) & (full_lines["method"] == "partial")]
    return ThinnedPanels(kept, left_out, lines, faint)


def _pull_by_group(full: PoolingResult, thinned: PoolingResult) -> pd.DataFrame:
    """Per group: observations and the mixed model's pull on each random coefficient
    (``pull_by_group``: 0 = keeps its own estimate, 1 = sits on the population value),
    with all data and after thinning. Columns group, n_full, n_kept, then
    <coefficient>_full and <coefficient>_thinned for intercept and/or slope."""
    # From arrays, one frame at the end (reindexing tables per column cost more than the fit).
    levels = [str(v) for v in full.levels]
    out = {"group": levels, "n_full": full.group_sizes.to_numpy()}
    kept = dict(zip(map(str, thinned.group_sizes.index), thinned.group_sizes.to_numpy()))
    out["n_kept"] = np.array([kept.get(g, 0) for g in levels], dtype=int)
    for label, result in (("full", full), ("thinned", thinned)):
        pull_levels, names, values, _group = pull_values(result.fit)
        row = {g: i for i, g in enumerate(pull_levels)}
        at = np.array([row.get(g, -1) for g in levels], dtype=int)
        for k, name in enumerate(names):
            coefficient = "intercept" if name == "(Intercept)" else "slope"
            column = np.full(len(levels), np.nan)
            column[at >= 0] = values[at[at >= 0], k]
            out[f"{coefficient}_{label}"] = column
    return pd.DataFrame(out)


def same_rows(table: pd.DataFrame, digits: int = 4) -> tuple[int, np.ndarray, np.ndarray]:
    """Rows that show the same numbers, without a groupby: (how many distinct rows the table has,
    exactly; a mask of the first row of each distinct row once rounded to ``digits``; how many
    rows each of those stands for, in the same order). What ``table.groupby(columns).size()``,
    ``table.round(digits).duplicated()`` and the rounded groupby's sizes give (NaN counts as equal)."""
    columns = [table[c].to_numpy() for c in table.columns]
    rounded = [np.round(v, digits) if v.dtype.kind == "f" else v for v in columns]

    def key(values, i):
        return tuple(None if isinstance(v[i], float) and v[i] != v[i] else v[i] for v in values)

    n = len(table)
    exact = {key(columns, i) for i in range(n)}
    first, counts, where = np.zeros(n, dtype=bool), [], {}
    for i in range(n):
        k = key(rounded, i)
        if k in where:
            counts[where[k]] += 1
        else:
            where[k] = len(counts)
            counts.append(1)
            first[i] = True
    return len(exact), first, np.array(counts, dtype=np.int64)


def improvement(view: LabView) -> dict[str, float]:
    """Per coefficient, how much smaller partial pooling's error is than no pooling's
    (0.3 = 30% smaller RMSE against the truth; negative if it is larger)."""
    if view.error_columns is None:
        return {}
    errors = view.error_columns
    methods = list(errors["method"])
    none, partial = methods.index("none"), methods.index("partial")
    out = {}
    for coefficient in ("intercept", "slope"):
        rmse = np.asarray(errors[f"rmse_{coefficient}"])
        own, mixed = rmse[none], rmse[partial]
        if np.isfinite(own) and own > 0 and np.isfinite(mixed):
            out[coefficient] = float(1.0 - mixed / own)
    return out


# -- the same view with intercepts read at the covariate's mean ----------------------------------
@dataclass
class CentredLab:
    """A lab view with every intercept (estimates, truth, rings, errors, pull) read at the mean
    of the simulated covariate, ``xbar``, instead of at 0 (``teaching.pooling.intercept_at``).
    Its tables are columns of arrays, as the page reads them: ``table`` as ``PoolingResult.columns``,
    ``truth`` as ``truth_columns``, ``values`` as ``LabView.coefficient_columns``, ``errors`` as
    ``LabView.error_columns``."""

    xbar: float
    table: dict
    population: dict
    truth: dict
    estimated_rings: list
    true_rings: list
    values: dict
    errors: dict
    shrinkage: dict


def centred_lab(view: LabView, settings: SimulationSettings) -> CentredLab:
    from .pooling import centred_columns, centred_population, covariate_mean, intercept_at, shift_rings
    from .pooling import mean_pull as pull_along_arrows

    result = view.result
    xbar = float(covariate_mean(result))
    table = centred_columns(result)
    truth = truth_columns(view.sim)
    truth["intercept"] = intercept_at(truth["intercept"], truth["slope"], xbar)
    values = _coefficient_columns(view, np.column_stack([truth["intercept"], truth["slope"]]), table)
    true_at = intercept_at(*true_coefficients(view.sim, result.levels).T, xbar)
    method = table["method"]
    common = np.asarray(table["estimable"], bool)[method == "none"]
    rmse = []
    for name in view.error_columns["method"]:
        err = (np.asarray(table["intercept"], float)[method == name] - true_at)[common]
        rmse.append(float(np.sqrt(np.mean(err**2))) if err.size else np.nan)
    errors = {**view.error_columns, "rmse_intercept": np.array(rmse, float)}
    return CentredLab(xbar, table, centred_population(result), truth,
                      shift_rings(estimated_rings(result), xbar), shift_rings(true_rings(settings), xbar),
                      values, errors, pull_along_arrows(result, at_x=xbar))
