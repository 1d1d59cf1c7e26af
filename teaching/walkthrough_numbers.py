"""Numbers behind the guided walkthrough and the exercises.

Each function answers one question a step or an exercise asks, from the data or a fit:
ordinary least squares on all rows and on per-day means (Methods 1 and 2 of the sleep
study), lines over a common x range for thinned groups, a mixed model evaluated at a
chosen θ (to show that β and the random effects are solved together for every θ and the
criterion picks θ), a shrinkage simulation, fixed + random = coef by hand, and the
simulate-and-compare-by-AIC exercise. Pure numerics: no Streamlit, no Plotly.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from lmm_core import DataError, LinearMixedModel, LmerFit, lmer

from .pooling import METHODS, PoolingResult, compare_pooling, mean_pull
from .predictions import partial_data_prediction, prediction_curves, thin_mask
from .shrinkage import mean_shrinkage_factor
from .simulate import GPA, SimulationSettings, simulate


# -- Methods 1 and 2: one regression, and a regression on the per-day means -------------------
@dataclass(frozen=True)
class OlsLine:
    """A least-squares line with lm()'s standard errors."""

    intercept: float
    slope: float
    se_intercept: float
    se_slope: float
    sigma: float  # residual standard error
    r2: float
    n: int

    @property
    def df(self) -> int:
        return self.n - 2


def ols_line(x, y) -> OlsLine:
    """Intercept, slope and their standard errors as R's ``summary(lm(y ~ x))`` prints them."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    if n < 3 or np.ptp(x) == 0:
        raise DataError("A line with standard errors needs at least 3 points with different x values.")
    xbar, ybar = x.mean(), y.mean()
    sxx = np.sum((x - xbar) ** 2)
    slope = np.sum((x - xbar) * (y - ybar)) / sxx
    intercept = ybar - slope * xbar
    resid = y - intercept - slope * x
    sigma2 = np.sum(resid**2) / (n - 2)
    se_slope = np.sqrt(sigma2 / sxx)
    se_intercept = np.sqrt(sigma2 * (1.0 / n + xbar**2 / sxx))
    r2 = 1.0 - np.sum(resid**2) / np.sum((y - ybar) ** 2)
    return OlsLine(float(intercept), float(slope), float(se_intercept), float(se_slope),
                   float(np.sqrt(sigma2)), float(r2), n)


def means_by_x(data: pd.DataFrame, response: str, covariate: str) -> pd.DataFrame:
    """Per value of the covariate (per day): x, mean, sd and n of the response."""
    grouped = data.groupby(covariate, sort=True)[response]
    out = grouped.agg(["mean", "std", "size"]).reset_index()
    return out.set_axis(["x", "mean", "sd", "n"], axis=1)


def one_line_and_means(data: pd.DataFrame, response: str, covariate: str) -> pd.DataFrame:
    """Method 1 (all rows) next to Method 2 (the per-day means): same line, very different certainty."""
    means = means_by_x(data, response, covariate)
    rows = {"All observations": ols_line(data[covariate], data[response]),
            f"Means per {covariate}": ols_line(means["x"], means["mean"])}
    return pd.DataFrame({
        "Points used": [fit.n for fit in rows.values()],
        "Intercept": [fit.intercept for fit in rows.values()],
        "Slope": [fit.slope for fit in rows.values()],
        "SE of slope": [fit.se_slope for fit in rows.values()],
        "Residual SE": [fit.sigma for fit in rows.values()],
        "R²": [fit.r2 for fit in rows.values()],
    }, index=list(rows))


# -- no pooling on little data ---------------------------------------------------------------
@dataclass
class ThinnedPooling:
    """The three fits on the first ``keep`` observations of every group, with lines drawn over
    the full covariate range (so a line from two points shows where it heads) and the rows
    that were held back."""

    result: PoolingResult
    lines: pd.DataFrame  # group, method, x, y
    kept: pd.DataFrame  # group, x, y
    hidden: pd.DataFrame  # group, x, y


def lines_over(result: PoolingResult, x_range) -> pd.DataFrame:
    """Every group's line under each method, from x_range[0] to x_range[1] (NaN lines left out)."""
    ends = np.asarray(x_range, float)
    m, k = len(result.levels), len(ends)
    # All groups at once (one frame instead of one per group and method: 600 frames for GPA).
    codes, x = np.repeat(np.arange(m), k), np.tile(ends, m)
    levels = np.asarray(result.levels, dtype=object)
    groups, methods, xs, ys = [], [], [], []
    for method in METHODS:
        y = result.predict(method, x, codes=codes).reshape(m, k)
        ok = np.all(np.isfinite(y), axis=1)
        groups.append(np.repeat(levels[ok], k))
        methods.append(np.full(ok.sum() * k, method, dtype=object))
        xs.append(np.tile(ends, int(ok.sum())))
        ys.append(y[ok].ravel())
    return pd.DataFrame({"group": np.concatenate(groups), "method": np.concatenate(methods),
                         "x": np.concatenate(xs), "y": np.concatenate(ys)})


def thinned_pooling(data: pd.DataFrame, response: str, group: str, covariate: str, keep: int,
                    random: str = "both", extra_covariates=()) -> ThinnedPooling:
    """Keep the first ``keep`` observations (by covariate) of every group and fit all three ways."""
    mask = thin_mask(data, group, covariate, keep)
    result = compare_pooling(data[mask], response, group, covariate, random=random,
                             extra_covariates=extra_covariates)
    frame = pd.DataFrame({"group": data[group].astype(str).to_numpy(), "x": data[covariate].to_numpy(float),
                          "y": data[response].to_numpy(float)})
    span = (frame["x"].min(), frame["x"].max())
    return ThinnedPooling(result, lines_over(result, span), frame[mask].reset_index(drop=True),
                          frame[~mask].reset_index(drop=True))


# -- fixed and random effects, estimated together ------------------------------------------
def fit_at_theta(model: LinearMixedModel, theta, reml: bool = True) -> LmerFit:
    """The mixed model with its relative covariance parameters θ held at the given values.

    For every θ the fixed effects and the conditional modes come out of one penalized least
    squares problem; fitting is nothing more than choosing the θ with the smallest criterion.
    """
    theta = np.atleast_1d(np.asarray(theta, float))
    if theta.shape != model.theta0.shape or np.any(theta < model.lower):
        raise DataError(f"θ must have {model.n_theta} value(s), with standard-deviation entries ≥ 0.")
    return model.fit_at(theta, reml)


@dataclass
class CriterionProfile:
    """The REML criterion along θ for a one-parameter model (a random intercept or slope).

    ``curve``: theta, criterion. ``best``: the fitted θ; ``plausible``: the θ range whose
    criterion is within the χ²(1) 95% cut-off (3.84) of the minimum, the values the data
    cannot rule out. ``upper_open`` is True when that range reaches the end of the grid."""

    curve: pd.DataFrame
    best: float
    best_value: float
    plausible: tuple[float, float]
    upper_open: bool
    model: LinearMixedModel


def criterion_profile(formula: str, data: pd.DataFrame, theta_max: float, points: int = 161,
                      reml: bool = True) -> CriterionProfile:
    """Criterion on a grid of θ from 0 to ``theta_max`` for a model with a single θ."""
    model = LinearMixedModel.from_formula(formula, data)
    if model.n_theta != 1:
        raise DataError("The criterion profile is drawn for models with one random-effect SD.")
    fit = model.fit(reml=reml)
    grid = np.union1d(np.linspace(0.0, theta_max, points), [float(fit.theta[0])])
    values = np.array([model.objective([t], reml) for t in grid])
    cut = fit.objective + stats.chi2.ppf(0.95, 1)
    inside = grid[values <= cut]
    return CriterionProfile(pd.DataFrame({"theta": grid, "criterion": values}), float(fit.theta[0]),
                            float(fit.objective), (float(inside.min()), float(inside.max())),
                            bool(inside.max() >= grid.max()), model)


def intercepts_at_theta(profile: CriterionProfile, theta: float) -> pd.DataFrame:
    """Per group at θ: the group's own intercept (no pooling), the mixed model's, and the fixed one.

    The own intercept is the limit θ → ∞ (fixed slope held at its value at θ), the fixed
    intercept the limit θ → 0 (complete pooling) for balanced data."""
    fit = fit_at_theta(profile.model, [theta])
    group = fit.model.terms[0].group
    coef = fit.coef[group]["(Intercept)"]
    term = fit.model.terms[0]
    other = fit.model.X[:, 1:] @ fit.beta[1:]
    n = np.bincount(term.codes, minlength=term.n_levels)
    own = np.bincount(term.codes, fit.model.y - other, minlength=term.n_levels) / n
    return pd.DataFrame({"group": [str(v) for v in term.levels], "n": n, "own": own, "mixed": coef.to_numpy(),
                         "fixed": fit.beta[0], "sigma": fit.sigma, "sd_between": theta * fit.sigma})


# -- when is shrinkage strong? -----------------------------------------------------------------
@dataclass
class ShrinkageScenario:
    """A simulated GPA-like data set fitted three ways: the comparison, the truth and the mean
    weight the groups' own data get (1 = no shrinkage, 0 = everyone on the population line)."""

    result: PoolingResult
    truth: pd.DataFrame  # group, intercept, slope
    own_weight: pd.Series
    settings: SimulationSettings


def shrinkage_scenario(n_per_group: int, variance_ratio: float, n_groups: int = 40,
                       seed: int = 1) -> ShrinkageScenario:
    """GPA-like groups with ``n_per_group`` semesters each; ``variance_ratio`` multiplies both
    random-effect variances of the GPA fit (1 = as fitted, 4 = twice the SDs)."""
    if not variance_ratio > 0:
        raise DataError("The variance ratio must be positive.")
    scale = float(np.sqrt(variance_ratio))
    settings = replace(GPA, n_groups=int(n_groups), n_per_group=int(n_per_group), seed=int(seed),
                       sd_intercept=GPA.sd_intercept * scale, sd_slope=GPA.sd_slope * scale)
    sim = simulate(settings)
    result = compare_pooling(sim.data, "y", "group", "x", random="both")
    truth = sim.truth.reset_index()
    return ShrinkageScenario(result, truth, mean_shrinkage_factor(result.fit), settings)


# -- the spread of the estimated random effects ----------------------------------------------
def ranef_spread(fit: LmerFit) -> pd.DataFrame:
    """Per random term: the model's SD (the variance component) and the SD of the conditional
    modes across groups, which is smaller because each mode is shrunk."""
    rows = []
    for vc in fit.varcorr:
        modes = fit.ranef[vc.factor]
        for i, name in enumerate(vc.terms):
            rows.append({"term": name, "model_sd": float(vc.sd[i]),
                         "modes_sd": float(np.std(modes[name].to_numpy(), ddof=1))})
    return pd.DataFrame(rows)


# -- predictions of three kinds ---------------------------------------------------------------
@dataclass
class ThreePredictions:
    curves: pd.DataFrame  # x, fit, lower, upper, kind ("known" | "new" | "partial"), group
    observed: pd.DataFrame  # the group's rows: x, y
    shown: pd.DataFrame  # rows the partly observed version kept
    coefficients: pd.DataFrame  # per kind: intercept, slope


def three_predictions(data: pd.DataFrame, response: str, group: str, covariate: str, chosen, keep: int,
                      random: str = "both", full: PoolingResult | None = None) -> ThreePredictions:
    """The chosen group as it is in the data, as a brand-new group, and seen through ``keep`` points.

    ``full`` may pass ``compare_pooling(data, response, group, covariate, random=random)`` (a page
    caches it: it does not change with ``keep``)."""
    if full is None:
        full = compare_pooling(data, response, group, covariate, random=random)
    part = partial_data_prediction(data, response, group, covariate, chosen, keep, random=random,
                                   start=full.fit.theta)
    x = part.curve["x"].to_numpy()
    curves = pd.concat([prediction_curves(full, chosen, x), part.curve], ignore_index=True)
    j = full.levels.index(str(chosen))
    known = full.coefficients["partial"][j]
    coefficients = pd.DataFrame({"intercept": [known[0], full.fit.beta[0], part.coef.iloc[0]],
                                 "slope": [known[1], full.fit.beta[1], part.coef.iloc[1]]},
                                index=["known", "new", "partial"])
    return ThreePredictions(curves, pd.concat([part.shown, part.hidden]).sort_values("x"), part.shown,
                            coefficients)


# -- a few summaries used in the text -------------------------------------------------------
def negative_slopes(result: PoolingResult) -> dict[str, int]:
    """How many groups have a falling line without pooling and with the mixed model."""
    table = result.table
    return {m: int((table[(table["method"] == m) & table["estimable"]]["slope"] < 0).sum())
            for m in ("none", "partial")}


def coefficient_values(result: PoolingResult) -> pd.DataFrame:
    """Long frame (method, coefficient, value) of the groups' intercepts and slopes, for violins."""
    table = result.table
    method = table["method"].to_numpy(dtype=object)
    rows = np.flatnonzero(((method == "none") | (method == "partial")) & table["estimable"].to_numpy(bool))
    n = len(rows)
    # What DataFrame.melt gives (all intercepts, then all slopes), from arrays: melt cost more
    # than the rest of the walkthrough's GPA step.
    return pd.DataFrame({
        "method": np.tile(method[rows], 2),
        "coefficient": np.repeat(np.array(["intercept", "slope"], dtype=object), n),
        "value": np.concatenate([table["intercept"].to_numpy(float)[rows], table["slope"].to_numpy(float)[rows]]),
    })


# -- exercises ------------------------------------------------------------------------------
def fixef_plus_ranef(fit: LmerFit) -> pd.DataFrame:
    """Exercise: add the fixed effects to every row of the random effects and compare with coef.

    Columns per random term: ``<term> (by hand)``, ``<term> (coef)``; plus the largest absolute
    difference over the row. Fixed effects without a random part are copied as coef does."""
    factor = fit.varcorr[0].factor
    ranef, coef, fixef = fit.ranef[factor], fit.coef[factor], fit.fixef
    out = pd.DataFrame(index=ranef.index)
    worst = np.zeros(len(ranef))
    for name in coef.columns:
        by_hand = fixef[name] + (ranef[name] if name in ranef.columns else 0.0)
        out[f"{name} (by hand)"] = by_hand
        out[f"{name} (coef)"] = coef[name]
        worst = np.maximum(worst, np.abs(np.asarray(by_hand, float) - coef[name].to_numpy(float)))
    out["largest difference"] = worst
    return out


def by_hand_rows(fit: LmerFit, level: str) -> pd.DataFrame:
    """One group's coefficients built by hand: per fixed effect, its value, the group's random
    effect (0 where the term has no random part), their sum and coef()'s value."""
    factor = fit.varcorr[0].factor
    ranef, coef = fit.ranef[factor], fit.coef[factor]
    if str(level) not in [str(v) for v in coef.index]:
        raise DataError(f"There is no level {level!r} of {factor}.")
    row = coef.index[[str(v) for v in coef.index].index(str(level))]
    random = pd.Series({name: float(ranef.loc[row, name]) if name in ranef.columns else 0.0 for name in coef.columns})
    fixed = fit.fixef[coef.columns]
    return pd.DataFrame({"Fixed effect": fixed, "Random effect": random, "Fixed + random": fixed + random,
                         "coef()": coef.loc[row]})


SIM_EXERCISE = SimulationSettings(n_groups=50, n_per_group=3, fixed_intercept=2.0, fixed_slope=0.5,
                                  sd_intercept=0.75, sd_slope=0.25, correlation=0.0, sd_residual=0.25,
                                  covariate="normal", seed=1234)
SIM_MODELS = {
    "Random intercept only": "y ~ x + (1 | group)",
    "Random slope, uncorrelated": "y ~ x + (1 | group) + (0 + x | group)",
    "Random slope, correlated": "y ~ x + (x | group)",
}


@dataclass
class AicComparison:
    table: pd.DataFrame  # per model: formula, parameters, REML criterion, AIC, delta AIC, singular
    best: str
    data: pd.DataFrame
    fits: dict[str, LmerFit]


def simulated_aic_comparison(seed: int = 1234, correlation: float = 0.0) -> AicComparison:
    """Exercise: 50 groups × 3 observations with random slopes; compare the three models by AIC.

    AIC is computed as R's ``AIC()`` does for these REML fits (same fixed effects in all three,
    so their REML criteria compare)."""
    settings = replace(SIM_EXERCISE, seed=int(seed), correlation=float(correlation))
    data = simulate(settings).data
    fits = {label: lmer(formula, data) for label, formula in SIM_MODELS.items()}
    aic = {label: fit.aic for label, fit in fits.items()}
    best = min(aic, key=aic.get)
    table = pd.DataFrame({
        "Formula": list(SIM_MODELS.values()),
        "Parameters": [fit.df for fit in fits.values()],
        "REML criterion": [fit.objective for fit in fits.values()],
        "AIC": list(aic.values()),
        "Δ AIC": [v - aic[best] for v in aic.values()],
        "Singular": [fit.singular for fit in fits.values()],
    }, index=list(SIM_MODELS))
    return AicComparison(table, best, data, fits)


# -- numbers quoted in the walkthrough's texts -------------------------------------------------
PREDICTION_SUBJECT = "308"
THETA_MAX = {"sleepstudy": 3.0, "iris": 30.0}
FORMULAS = {
    "sleepstudy": {"intercept": "Reaction ~ Days + (1 | Subject)", "slope": "Reaction ~ Days + (0 + Days | Subject)",
                   "both": "Reaction ~ Days + (Days | Subject)"},
    "gpa": {"both": "gpa ~ occasion + (1 + occasion | student)"},
    "iris": {"intercept": "Petal.Width ~ Sepal.Width + Sepal.Length + (1 | Species)",
             "both": "Petal.Width ~ Sepal.Width + Sepal.Length + (1 + Sepal.Length | Species)"},
}


def _sd_corr(fit: LmerFit) -> tuple[float, float, float]:
    vc = fit.varcorr[0]
    return float(vc.sd[0]), float(vc.sd[1]), float(vc.corr[0, 1])


def _sleep_facts(data: pd.DataFrame) -> dict:
    one = ols_line(data["Days"], data["Reaction"])
    means = means_by_x(data, "Reaction", "Days")
    by_means = ols_line(means["x"], means["mean"])
    ri = lmer(FORMULAS["sleepstudy"]["intercept"], data)
    rs = lmer(FORMULAS["sleepstudy"]["slope"], data)
    both = lmer(FORMULAS["sleepstudy"]["both"], data)
    tau2, sigma2 = float(ri.varcorr[0].cov[0, 0]), ri.sigma**2
    n = data.groupby("Subject", observed=True).size().iloc[0]
    sd0, sd1, corr = _sd_corr(both)
    return {
        "cp_intercept": one.intercept, "cp_slope": one.slope, "cp_se": one.se_slope,
        "means_se": by_means.se_slope, "means_r2": by_means.r2,
        "ri_b0": ri.beta[0], "ri_b1": ri.beta[1], "ri_tau": float(np.sqrt(tau2)), "ri_sigma": ri.sigma,
        "ri_pull": 1.0 - tau2 / (tau2 + sigma2 / n),
        "rs_b1": rs.beta[1], "rs_sd": float(rs.varcorr[0].sd[0]),
        "both_sd0": sd0, "both_sd1": sd1, "both_corr": corr,
        "modes_sd0": float(ranef_spread(both)["modes_sd"].iloc[0]),
        "pred_subject": PREDICTION_SUBJECT,
    }


def _gpa_facts(data: pd.DataFrame) -> dict:
    result = compare_pooling(data, "gpa", "student", "occasion", random="both")
    sd0, sd1, corr = _sd_corr(result.fit)
    b0, b1 = (float(v) for v in result.fit.beta)
    negative = negative_slopes(result)
    weight = mean_shrinkage_factor(result.fit)
    pull = mean_pull(result)
    return {"w0": float(weight.iloc[0]), "w1": float(weight.iloc[1]), "pull0": pull["intercept"],
            "pull1": pull["slope"], "b0": b0, "b1": b1, "sd0": sd0, "sd1": sd1,
            "corr": corr, "lo": b1 - 2 * sd1, "hi": b1 + 2 * sd1,
            "neg_none": negative["none"], "neg_partial": negative["partial"]}


def _iris_facts(data: pd.DataFrame) -> dict:
    fit = lmer(FORMULAS["iris"]["both"], data)
    fixef, ranef, coef = fit.fixef, fit.ranef["Species"], fit.coef["Species"]
    weight = mean_shrinkage_factor(fit)
    pooled = compare_pooling(data, "Petal.Width", "Species", "Sepal.Length", random="both",
                             extra_covariates=("Sepal.Width",))
    setosa = pooled.table[pooled.table["group"] == "setosa"].set_index("method")
    profile = criterion_profile(FORMULAS["iris"]["intercept"], data, THETA_MAX["iris"])
    lo, hi = profile.plausible
    return {
        "b0": fixef["(Intercept)"], "b_len": fixef["Sepal.Length"], "b_width": fixef["Sepal.Width"],
        "w0": float(weight.iloc[0]), "w1": float(weight.iloc[1]),
        "setosa_b0": ranef.loc["setosa", "(Intercept)"], "setosa_b_len": ranef.loc["setosa", "Sepal.Length"],
        "setosa_coef0": coef.loc["setosa", "(Intercept)"], "setosa_coef_len": coef.loc["setosa", "Sepal.Length"],
        "setosa_own_slope": float(setosa.loc["none", "slope"]),
        "setosa_mixed_slope": float(setosa.loc["partial", "slope"]),
        "setosa_slope_pull": float(setosa.loc["partial", "pull_slope"]),
        "width_own": float(pooled.coefficients["none"][0, 2]), "cp_slope": float(setosa.loc["complete", "slope"]),
        "theta_best": profile.best, "theta_lo": lo,
        "theta_hi": f"more than {hi:.0f}" if profile.upper_open else f"{hi:.1f}",
    }


def walkthrough_facts(path: str, data: pd.DataFrame) -> dict:
    """The numbers a walkthrough path quotes in its texts, computed from the data."""
    makers = {"sleepstudy": _sleep_facts, "gpa": _gpa_facts, "iris": _iris_facts}
    if path not in makers:
        raise DataError(f"There is no walkthrough path {path!r}; the paths are {', '.join(makers)}.")
    return makers[path](data)


def aic_verdict(comparison: AicComparison) -> str:
    """The exercise's AIC comparison in words, every claim computed from the table: the winner,
    its margin (and what a margin under 2 means, naming the simpler model), how far behind the
    random-intercept model is, and any singular fit."""
    table = comparison.table
    best = comparison.best
    labels = list(table.index)  # simplest first (SIM_MODELS order)
    others = table["Δ AIC"].drop(best)
    runner = others.idxmin()
    margin = float(others.min())
    text = f"Lowest AIC: **{best}** (`{table.loc[best, 'Formula']}`), {margin:.1f} below the next model ({runner})."
    if margin < 2:
        simpler = min(best, runner, key=labels.index)
        text += (f" A difference under about 2 is too small to prefer one model strongly; then the simpler one, "
                 f"**{simpler}**, is a reasonable choice"
                 + (" (here that is also the winner)." if simpler == best else "."))
    else:
        text += " A difference of 2 or more is usually read as a real preference."
    plain = labels[0]
    if plain != best:
        behind = float(table.loc[plain, "Δ AIC"])
        text += (f" The random-intercept model ignores that slopes differ; that costs it {behind:.1f} AIC points "
                 "here" + (", a lot: the slopes really do differ." if behind >= 10 else "."))
    else:
        text += (" The random-intercept model wins here: in this sample the slopes differ too little to pay for "
                 "the extra parameters.")
    singular = [label for label in labels if bool(table.loc[label, "Singular"])]
    if singular:
        text += (" Singular fit (a variance at 0 or a correlation at ±1): " + ", ".join(singular)
                 + "; that model's extra parameter is not supported by these data.")
    return text
