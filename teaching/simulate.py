"""Data with a known truth: simulate groups from a mixed model, then see how well
each way of pooling recovers every group's true intercept and slope.

    y_ij = (β₀ + a_j) + (β₁ + b_j) x_ij + ε_ij,   (a_j, b_j) ~ N(0, Σ),   ε_ij ~ N(0, σ²)

The defaults are the GPA model of Michael Clark's "Mixed Models with R"
(gpa ~ occasion + (1 + occasion | student), fitted to 200 students × 6 semesters).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd

from lmm_core import DataError

from .pooling import METHODS, GroupedData, compare_groups, compare_pooling
from .shrinkage import mean_shrinkage_factor

BALANCES = ("equal", "unbalanced", "dropout")
COVARIATES = ("time", "normal")


@dataclass(frozen=True)
class SimulationSettings:
    """What to simulate. ``balance``:

    - "equal": every group has ``n_per_group`` observations;
    - "unbalanced": group sizes drawn uniformly between ``n_per_group`` and
      ``max_per_group`` if that is set, otherwise between 1 and 2·n_per_group − 1
      (mean n_per_group, so some groups have a single observation);
    - "dropout": ``n_per_group`` planned occasions, each group drops out at a random
      occasion and keeps between 2 and all of them (10 planned -> 6 on average).

    ``covariate``: "time" (occasions 0, 1, 2, ...) or "normal" (standard normal draws).
    """

    n_groups: int = 200
    n_per_group: int = 6
    fixed_intercept: float = 2.599
    fixed_slope: float = 0.106
    sd_intercept: float = 0.213
    sd_slope: float = 0.067
    correlation: float = -0.1
    sd_residual: float = 0.206
    balance: str = "equal"
    covariate: str = "time"
    seed: int = 1
    max_per_group: int | None = None

    def __post_init__(self):
        if self.balance not in BALANCES:
            raise DataError(f"balance must be one of {', '.join(BALANCES)}; got {self.balance!r}.")
        if self.covariate not in COVARIATES:
            raise DataError(f"covariate must be one of {', '.join(COVARIATES)}; got {self.covariate!r}.")
        if int(self.n_groups) < 2 or int(self.n_per_group) < 1:
            raise DataError("A simulation needs at least 2 groups and 1 observation per group.")
        if self.max_per_group is not None and self.max_per_group < self.n_per_group:
            raise DataError("max_per_group must be at least n_per_group.")
        if min(self.sd_intercept, self.sd_slope) < 0 or not self.sd_residual > 0:
            raise DataError("Standard deviations must be non-negative (and the residual SD positive).")
        if not -1 <= self.correlation <= 1:
            raise DataError("The correlation must be between -1 and 1.")

    @property
    def covariance(self) -> np.ndarray:
        """Σ, the true covariance of (intercept, slope) deviations."""
        c = self.correlation * self.sd_intercept * self.sd_slope
        return np.array([[self.sd_intercept**2, c], [c, self.sd_slope**2]])


GPA = SimulationSettings()
PRESETS: dict[str, SimulationSettings] = {
    "As fitted (GPA)": GPA,
    "Many more measurements": replace(GPA, n_per_group=20),
    "More group variance, less noise": replace(GPA, sd_intercept=0.5, sd_slope=0.15, sd_residual=0.1),
    "Only 3-4 observations": replace(GPA, n_per_group=3, max_per_group=4, balance="unbalanced"),
    "10 occasions with dropout": replace(GPA, n_per_group=10, balance="dropout"),
}


@dataclass
class SimulatedData:
    """One simulated data set, as arrays: each row's group (``codes`` into ``levels``, zero-padded
    ids), covariate ``x`` and response ``y``; per group the true intercept and slope
    (``true_coefficients``, rows in the order of ``levels``).

    ``data`` (columns group: a Categorical of the ids, x, y) and ``truth`` (per group, index =
    group: the true intercept and slope) are the same as tables, made when first read: the lab
    reads the arrays on every slider move, where the two tables cost more than drawing the sample.
    """

    settings: SimulationSettings
    levels: list[str]
    codes: np.ndarray
    x: np.ndarray
    y: np.ndarray
    true_coefficients: np.ndarray  # (groups, 2): intercept, slope
    # The same rows checked and coded as compare_pooling codes ``data`` (no missing values, every
    # group used, levels in their order): the fit starts from them, not from the frame again.
    # Made by simulate(); a copy made with dataclasses.replace(sim, grouped=None) is coded from its frame.
    grouped: GroupedData | None = field(default=None, repr=False)

    @cached_property
    def data(self) -> pd.DataFrame:
        labels = pd.Index(self.levels, dtype=object).astype(str)  # the text dtype pandas infers for them
        return pd.DataFrame({"group": pd.Categorical.from_codes(self.codes, categories=labels),
                             "x": self.x, "y": self.y})

    @cached_property
    def truth(self) -> pd.DataFrame:
        labels = pd.Index(self.levels, dtype=object).astype(str)
        return pd.DataFrame({"intercept": self.true_coefficients[:, 0], "slope": self.true_coefficients[:, 1]},
                            index=labels.rename("group"))


def group_sizes(s: SimulationSettings, rng: np.random.Generator) -> np.ndarray:
    n, m = int(s.n_per_group), int(s.n_groups)
    if s.balance == "equal":
        return np.full(m, n)
    if s.balance == "unbalanced":
        low, high = (n, s.max_per_group) if s.max_per_group is not None else (1, max(2 * n - 1, 1))
        return rng.integers(low, high + 1, size=m)
    return rng.integers(min(2, n), n + 1, size=m)  # dropout: keep the first k of n occasions


def simulate(settings: SimulationSettings) -> SimulatedData:
    """Draw one data set from the settings (reproducible through ``settings.seed``)."""
    s = settings
    rng = np.random.default_rng(s.seed)
    m = int(s.n_groups)
    z = rng.standard_normal((m, 2))
    # (a, b) with the wanted SDs and correlation, from two independent normals.
    a = s.sd_intercept * z[:, 0]
    b = s.sd_slope * (s.correlation * z[:, 0] + math.sqrt(1 - s.correlation**2) * z[:, 1])
    sizes = group_sizes(s, rng)
    codes = np.repeat(np.arange(m), sizes)
    starts = np.cumsum(sizes) - sizes
    if s.covariate == "time":
        x = (np.arange(codes.size) - starts[codes]).astype(float)
    else:
        x = rng.standard_normal(codes.size)
    intercept, slope = s.fixed_intercept + a, s.fixed_slope + b
    y = intercept[codes] + slope[codes] * x + s.sd_residual * rng.standard_normal(codes.size)
    width = len(str(m))
    levels = [str(j).zfill(width) for j in range(1, m + 1)]  # zero-padded ids: "001" … "200"
    codes = codes.astype(np.int64)
    grouped = GroupedData(y=y, x=x, extras=np.zeros((codes.size, 0)), codes=codes, levels=levels,
                          counts=np.asarray(sizes, np.int64), response="y", group="group", covariate="x",
                          extra_names=(), dropped_rows=0, rows=np.arange(codes.size))
    return SimulatedData(s, levels, codes, x, y, np.column_stack([intercept, slope]), grouped)


# -- how well each method recovers the truth ---------------------------------------------
@dataclass
class SimulationEvaluation:
    """``errors``: per method, RMSE of the groups' intercepts and slopes against the truth,
    over the groups whose own line is estimable (the same groups for all three methods, so
    the numbers compare), with their count. ``parameters``: true and estimated fixed effects,
    SDs, correlation and residual SD (NaN for what the model does not estimate).
    ``shrinkage_factor``: mean_shrinkage_factor of the fit (1 = no shrinkage).
    Both tables are made, when first read, from their columns (``error_columns``: method,
    rmse_intercept, rmse_slope, n_groups; ``parameter_columns``: parameter, true, estimated),
    which the lab reads on every slider move instead."""

    result: object  # PoolingResult
    error_columns: dict
    parameter_columns: dict

    @cached_property
    def errors(self) -> pd.DataFrame:
        return pd.DataFrame(self.error_columns)

    @cached_property
    def parameters(self) -> pd.DataFrame:
        return pd.DataFrame(self.parameter_columns)

    @cached_property
    def shrinkage_factor(self) -> pd.Series:
        return mean_shrinkage_factor(self.result.fit)


def _estimated_parameters(fit, random: str) -> dict[str, float]:
    sd, corr = {}, np.nan
    for vc in fit.varcorr:
        sd.update(zip(vc.terms, vc.sd))
        if len(vc.terms) == 2:
            corr = vc.corr[0, 1]
    if random == "uncorrelated":
        corr = 0.0
    return {
        "fixed_intercept": fit.beta[0], "fixed_slope": fit.beta[1],
        "sd_intercept": sd.get("(Intercept)", np.nan), "sd_slope": sd.get("x", np.nan),
        "correlation": corr, "sd_residual": fit.sigma,
    }


def evaluate_simulation(sim: SimulatedData, random: str = "both", reml: bool = True,
                        start=None) -> SimulationEvaluation:
    """Fit the three ways and score each against the known truth."""
    if sim.grouped is not None:  # the simulation's own coding of its rows (see SimulatedData)
        result = compare_groups(sim.grouped, random=random, reml=reml, start=start, lines=False)
    else:
        result = compare_pooling(sim.data, "y", "group", "x", random=random, reml=reml, start=start)
    true_coef = true_coefficients(sim, result.levels)
    common = np.isfinite(result.coefficients["none"][:, 0])
    rmse = np.full((len(METHODS), 2), np.nan)
    for k, method in enumerate(METHODS):
        if common.any():
            err = result.coefficients[method][common, :2] - true_coef[common]
            rmse[k] = np.sqrt(np.mean(err**2, axis=0))
    errors = {"method": list(METHODS), "rmse_intercept": rmse[:, 0], "rmse_slope": rmse[:, 1],
              "n_groups": np.full(len(METHODS), int(common.sum()))}
    s = sim.settings
    true = {"fixed_intercept": s.fixed_intercept, "fixed_slope": s.fixed_slope, "sd_intercept": s.sd_intercept,
            "sd_slope": s.sd_slope, "correlation": s.correlation, "sd_residual": s.sd_residual}
    estimated = _estimated_parameters(result.fit, random)
    parameters = {"parameter": list(true), "true": list(true.values()),
                  "estimated": [float(estimated[k]) for k in true]}
    return SimulationEvaluation(result, errors, parameters)


def true_coefficients(sim: SimulatedData, levels) -> np.ndarray:
    """The true (intercept, slope) of each group of ``levels``, rows in that order (NaN for a
    group the simulation does not have): ``sim.truth.reindex(levels)``, from the arrays."""
    levels = list(levels)
    if levels == sim.levels:
        return sim.true_coefficients
    row = {g: i for i, g in enumerate(sim.levels)}
    out = np.full((len(levels), 2), np.nan)
    for j, g in enumerate(levels):
        if g in row:
            out[j] = sim.true_coefficients[row[g]]
    return out
