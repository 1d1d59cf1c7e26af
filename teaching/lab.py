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

import numpy as np
import pandas as pd

from lmm_core import LmmError, random_effect_covariance

from .pooling import PoolingResult, compare_pooling, singular_message
from .pooling import mean_pull as pooling_mean_pull
from .predictions import thin_mask
from .shrinkage import ellipse, pull_by_group
from .simulate import SimulatedData, SimulationSettings, evaluate_simulation, simulate

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
    ``notes`` then (and when a simpler model was fitted) says why in plain words."""

    sim: SimulatedData
    result: PoolingResult | None
    random: str | None
    notes: list[str] = field(default_factory=list)
    parameters: pd.DataFrame | None = None  # parameter, label, true, estimated
    errors: pd.DataFrame | None = None  # method, label, rmse_intercept, rmse_slope, n_groups
    shrinkage: dict[str, float] = field(default_factory=dict)  # coefficient -> mean pull 0..1

    @property
    def theta(self):
        return None if self.result is None else self.result.fit.theta


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
    parameters = evaluation.parameters.copy()
    parameters.insert(1, "label", parameters["parameter"].map(PARAMETER_LABELS))
    errors = evaluation.errors.copy()
    errors.insert(1, "label", errors["method"].map(METHOD_LABELS))
    if not result.estimable.any():
        notes.append("No group has enough observations for a line of its own, so there is no "
                     "no-pooling estimate to compare with.")
    singular = singular_message(result, "group")
    if singular:
        notes.append(singular)
    return LabView(sim, result, random, notes, parameters, errors, mean_pull(result))


def truth_table(sim: SimulatedData) -> pd.DataFrame:
    """group, intercept, slope: the true coefficients, for the shrinkage map."""
    return sim.truth.reset_index().rename(columns={"index": "group"})


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
    contours = ellipse(center, cov, levels=levels)
    return [(level, d["x"].to_numpy(), d["y"].to_numpy()) for level, d in contours.groupby("level")]


def coefficient_values(view: LabView) -> pd.DataFrame:
    """Long frame (method, coefficient, value): the truth and the no/partial-pooling group
    coefficients (no pooling only where a group's own line is estimable)."""
    frames = []
    truth = view.sim.truth
    for coefficient in ("intercept", "slope"):
        frames.append(pd.DataFrame({"method": "truth", "coefficient": coefficient, "value": truth[coefficient]}))
    if view.result is not None:
        table = view.result.table
        for method in ("none", "partial"):
            rows = table[(table["method"] == method) & table["estimable"]]
            for coefficient in ("intercept", "slope"):
                frames.append(pd.DataFrame({"method": method, "coefficient": coefficient,
                                            "value": rows[coefficient].to_numpy(float)}))
    return pd.concat(frames, ignore_index=True)


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
    table = result.table.set_index(["group", "method"])
    for group, (lo, hi) in ranges.items():
        for method in ("complete", "none", "partial"):
            if (group, method) not in table.index:
                continue
            r = table.loc[(group, method)]
            if not (np.isfinite(r["intercept"]) and np.isfinite(r["slope"])):
                continue
            for x in (lo, hi):
                rows.append((group, method, float(x), float(r["intercept"] + r["slope"] * x)))
    return pd.DataFrame(rows, columns=["group", "method", "x", "y"])


def _pull_by_group(full: PoolingResult, thinned: PoolingResult) -> pd.DataFrame:
    """Per group: observations and the mixed model's pull on each random coefficient
    (``pull_by_group``: 0 = keeps its own estimate, 1 = sits on the population value),
    with all data and after thinning. Columns group, n_full, n_kept, then
    <coefficient>_full and <coefficient>_thinned for intercept and/or slope."""
    out = pd.DataFrame({"n_full": full.group_sizes.to_numpy()}, index=pd.Index(full.levels, name="group"))
    out["n_kept"] = thinned.group_sizes.reindex(out.index).fillna(0).astype(int).to_numpy()
    for label, result in (("full", full), ("thinned", thinned)):
        pull = pull_by_group(result.fit).reindex(out.index)
        for name in pull.columns:
            coefficient = "intercept" if name == "(Intercept)" else "slope"
            out[f"{coefficient}_{label}"] = pull[name].to_numpy()
    return out.reset_index()


def improvement(view: LabView) -> dict[str, float]:
    """Per coefficient, how much smaller partial pooling's error is than no pooling's
    (0.3 = 30% smaller RMSE against the truth; negative if it is larger)."""
    if view.errors is None:
        return {}
    e = view.errors.set_index("method")
    out = {}
    for coefficient in ("intercept", "slope"):
        own, mixed = e.loc["none", f"rmse_{coefficient}"], e.loc["partial", f"rmse_{coefficient}"]
        if np.isfinite(own) and own > 0 and np.isfinite(mixed):
            out[coefficient] = float(1.0 - mixed / own)
    return out


# -- the same view with intercepts read at the covariate's mean ----------------------------------
@dataclass
class CentredLab:
    """A lab view with every intercept (estimates, truth, rings, errors, pull) read at the mean
    of the simulated covariate, ``xbar``, instead of at 0 (``teaching.pooling.intercept_at``)."""

    xbar: float
    table: pd.DataFrame
    population: dict
    truth: pd.DataFrame
    estimated_rings: list
    true_rings: list
    values: pd.DataFrame
    errors: pd.DataFrame
    shrinkage: dict


def centred_lab(view: LabView, settings: SimulationSettings) -> CentredLab:
    from .pooling import centred_population, centred_table, covariate_mean, intercept_at, shift_rings
    from .pooling import mean_pull as pull_along_arrows

    result = view.result
    xbar = float(covariate_mean(result))
    table = centred_table(result)
    truth = truth_table(view.sim)
    truth = truth.assign(intercept=intercept_at(truth["intercept"], truth["slope"], xbar))
    values = coefficient_values(view)
    if result is not None:
        frames = [pd.DataFrame({"method": "truth", "coefficient": c, "value": truth[c].to_numpy(float)})
                  for c in ("intercept", "slope")]
        for method in ("none", "partial"):
            rows = table[(table["method"] == method) & table["estimable"]]
            frames += [pd.DataFrame({"method": method, "coefficient": c, "value": rows[c].to_numpy(float)})
                       for c in ("intercept", "slope")]
        values = pd.concat(frames, ignore_index=True)
    errors = view.errors.copy()
    true_at = truth.set_index("group").reindex([str(g) for g in result.levels])["intercept"].to_numpy(float)
    common = table[table["method"] == "none"]["estimable"].to_numpy()
    for i, method in enumerate(errors["method"]):
        est = table[table["method"] == method]["intercept"].to_numpy(float)
        err = (est - true_at)[common]
        errors.loc[errors.index[i], "rmse_intercept"] = float(np.sqrt(np.mean(err**2))) if err.size else np.nan
    return CentredLab(xbar, table, centred_population(result), truth,
                      shift_rings(estimated_rings(result), xbar), shift_rings(true_rings(settings), xbar),
                      values, errors, pull_along_arrows(result, at_x=xbar))
