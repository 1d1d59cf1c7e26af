"""Predictions of three kinds, thinning, and the hold-out comparison."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy.stats import norm

import datasets
from lmm_core import lmer
from lmm_core import DataError
from teaching.pooling import compare_pooling
from teaching.predictions import (
    holdout_comparison,
    known_group_prediction,
    new_group_prediction,
    partial_data_path,
    partial_data_prediction,
    prediction_curves,
    thin_groups,
    three_kinds,
)

Z95 = norm.ppf(0.975)


@pytest.fixture(scope="module")
def result(sleep):
    return compare_pooling(sleep, "Reaction", "Subject", "Days")


@pytest.fixture(scope="module")
def reference(sleep):
    return lmer("Reaction ~ Days + (Days | Subject)", sleep)


def test_known_group_matches_lmer_predict(result, reference):
    x = np.array([0.0, 2.5, 9.0])
    curve = known_group_prediction(result, 308, x)
    assert list(curve.columns) == ["x", "fit", "lower", "upper", "se_line", "kind", "group"]
    assert set(curve["kind"]) == {"known"} and set(curve["group"]) == {"308"}
    newdata = pd.DataFrame({"Days": x, "Subject": "308"})
    np.testing.assert_allclose(curve["fit"], reference.predict(newdata), rtol=1e-7)
    # The band: conditional covariance of the group's effects (lme4's condVar) plus σ².
    C = reference.ranef_condvar()[0][2][0]
    Z = np.column_stack([np.ones(3), x])
    var_line = np.einsum("na,ab,nb->n", Z, C, Z)
    np.testing.assert_allclose(curve["se_line"], np.sqrt(var_line), rtol=1e-5)
    np.testing.assert_allclose(curve["upper"] - curve["fit"], Z95 * np.sqrt(var_line + reference.sigma**2), rtol=1e-5)


def test_new_group_uses_the_random_effect_covariance(result, reference):
    x = np.linspace(0, 9, 7)
    curve = new_group_prediction(result, x)
    newdata = pd.DataFrame({"Days": x, "Subject": "nobody"})
    np.testing.assert_allclose(curve["fit"], reference.predict(newdata, include_random=False), rtol=1e-7)
    Sigma = reference.varcorr[0].cov
    Z = np.column_stack([np.ones_like(x), x])
    var = np.einsum("na,ab,nb->n", Z, Sigma, Z) + reference.sigma**2
    np.testing.assert_allclose(curve["upper"] - curve["fit"], Z95 * np.sqrt(var), rtol=1e-5)
    np.testing.assert_allclose(curve["fit"] - curve["lower"], Z95 * np.sqrt(var), rtol=1e-5)
    wider = new_group_prediction(result, x, fixed_uncertainty=True)
    V = reference.vcov.to_numpy()
    np.testing.assert_allclose(wider["upper"] - wider["fit"],
                               Z95 * np.sqrt(var + np.einsum("na,ab,nb->n", Z, V, Z)), rtol=1e-5)
    # A new group is far less certain than a group with ten observations.
    known = known_group_prediction(result, "308", x)
    assert (curve["upper"] - curve["lower"] > known["upper"] - known["lower"]).all()


def test_random_intercept_and_random_slope_only_bands(sleep):
    x = np.array([0.0, 5.0])
    ri = compare_pooling(sleep, "Reaction", "Subject", "Days", random="intercept")
    tau2, s2 = ri.fit.varcorr[0].cov[0, 0], ri.fit.sigma**2
    band = new_group_prediction(ri, x)
    np.testing.assert_allclose(band["upper"] - band["fit"], Z95 * np.sqrt(tau2 + s2), rtol=1e-9)
    rs = compare_pooling(sleep, "Reaction", "Subject", "Days", random="slope")
    v, s2 = rs.fit.varcorr[0].cov[0, 0], rs.fit.sigma**2
    band = new_group_prediction(rs, x)
    np.testing.assert_allclose(band["upper"] - band["fit"], Z95 * np.sqrt(v * x**2 + s2), rtol=1e-9)


def test_prediction_curves_stack_known_and_new(result):
    curves = prediction_curves(result, "309")
    assert curves.groupby("kind").size().to_dict() == {"known": 50, "new": 50}
    assert curves["x"].min() == 0 and curves["x"].max() == 9
    with pytest.raises(DataError, match="no group"):
        known_group_prediction(result, "999")


def test_partial_data_prediction_refits_with_the_thinned_group(sleep):
    pred = partial_data_prediction(sleep, "Reaction", "Subject", "Days", "308", 3)
    assert list(pred.shown["x"]) == [0, 1, 2] and len(pred.hidden) == 7
    thinned = sleep[(sleep["Subject"] != "308") | (sleep["Days"] < 3)]
    reference = lmer("Reaction ~ Days + (Days | Subject)", thinned)
    np.testing.assert_allclose(pred.coef, reference.coef["Subject"].loc["308", ["(Intercept)", "Days"]], rtol=1e-5)
    np.testing.assert_allclose(pred.coef_sd, reference.ranef_sd["Subject"].loc["308"], rtol=1e-4)
    own = smf.ols("Reaction ~ Days", thinned[thinned["Subject"] == "308"]).fit().params.to_numpy()
    np.testing.assert_allclose(pred.own, own, rtol=1e-9)
    curve = pred.curve
    assert set(curve["kind"]) == {"partial"} and curve["x"].max() == 9  # reaches over the hidden days
    newdata = pd.DataFrame({"Days": curve["x"], "Subject": "308"})
    np.testing.assert_allclose(curve["fit"], reference.predict(newdata), rtol=1e-6)
    # Fewer observations, a wider band than with all ten.
    full = known_group_prediction(compare_pooling(sleep, "Reaction", "Subject", "Days"), "308", curve["x"])
    assert (curve["se_line"].to_numpy()[-1] > full["se_line"].to_numpy()[-1])


def test_partial_data_with_one_observation_still_predicts(sleep):
    pred = partial_data_prediction(sleep, "Reaction", "Subject", "Days", 309, 1)
    assert len(pred.shown) == 1 and np.isnan(pred.own).all()
    assert np.isfinite(pred.curve[["fit", "lower", "upper"]].to_numpy()).all()


def test_three_kinds(sleep):
    frame = three_kinds(sleep, "Reaction", "Subject", "Days", "308", 2)
    assert frame.groupby("kind").size().to_dict() == {"known": 50, "new": 50, "partial": 50}
    widths = frame.assign(w=frame["upper"] - frame["lower"]).groupby("kind")["w"].mean()
    assert widths["known"] < widths["partial"] < widths["new"]


def test_thin_groups(sleep):
    shuffled = sleep.sample(frac=1.0, random_state=0)
    thin = thin_groups(shuffled, "Subject", "Days", 2, groups=["308", 309])
    assert len(thin) == 180 - 16
    for subject in ("308", "309"):
        assert sorted(thin.loc[thin["Subject"] == subject, "Days"]) == [0, 1]
    assert (thin["Subject"] == "310").sum() == 10
    assert list(thin.index) == [i for i in shuffled.index if i in set(thin.index)]  # order kept
    every = thin_groups(sleep, "Subject", "Days", 3)
    assert (every.groupby("Subject", observed=True)["Days"].max() == 2).all()
    assert len(thin_groups(sleep, "Subject", "Days", 0, groups=["308"])) == 170
    with pytest.raises(DataError):
        thin_groups(sleep, "Subject", "Days", 2, groups=["nobody"])
    with pytest.raises(DataError):
        thin_groups(sleep, "Subject", "Nope", 2)


def test_holdout_comparison(sleep):
    h = holdout_comparison(sleep, "Reaction", "Subject", "Days", holdout_last=3)
    table = h.table.set_index("method")
    assert (table["n_predicted"] == 54).all()
    train = sleep[sleep["Days"] < 7]
    test = sleep[sleep["Days"] >= 7]
    ols = smf.ols("Reaction ~ Days", train).fit()
    expected = np.sqrt(np.mean((ols.predict(test) - test["Reaction"]) ** 2))
    assert table.loc["complete", "rmse"] == pytest.approx(expected, rel=1e-9)
    reference = lmer("Reaction ~ Days + (Days | Subject)", train)
    partial = np.sqrt(np.mean((reference.predict(test) - test["Reaction"]) ** 2))
    assert table.loc["partial", "rmse"] == pytest.approx(partial, rel=1e-5)
    none = []
    for _, part in sleep.groupby("Subject", observed=True):
        fit = smf.ols("Reaction ~ Days", part[part["Days"] < 7]).fit()
        none.append(fit.predict(part[part["Days"] >= 7]) - part.loc[part["Days"] >= 7, "Reaction"])
    assert table.loc["none", "rmse"] == pytest.approx(np.sqrt(np.mean(np.concatenate(none) ** 2)), rel=1e-9)
    assert table.loc["partial", "rmse"] < table.loc["none", "rmse"] < table.loc["complete", "rmse"]
    assert set(h.predictions["method"]) == {"complete", "none", "partial"} and len(h.predictions) == 3 * 54


def test_holdout_with_groups_left_without_training_data(sleep):
    small = pd.concat([sleep.astype({"Subject": str}),
                       pd.DataFrame({"Reaction": [250.0, 260.0], "Days": [0, 1], "Subject": ["new", "new"]})],
                      ignore_index=True)
    h = holdout_comparison(small, "Reaction", "Subject", "Days", holdout_last=2)
    table = h.table.set_index("method")
    assert table.loc["partial", "n_predicted"] == table.loc["complete", "n_predicted"] == 38
    assert table.loc["none", "n_predicted"] == 36 and table.loc["none", "n_common"] == 36
    rows = h.predictions[(h.predictions["group"] == "new") & (h.predictions["method"] == "partial")]
    fe = h.result.fit.beta
    np.testing.assert_allclose(rows["prediction"], fe[0] + fe[1] * rows["x"])  # the population line


def test_holdout_iris_with_extra_covariate():
    iris = datasets.load("iris")
    h = holdout_comparison(iris, "Petal.Width", "Species", "Sepal.Length", holdout_last=10,
                           extra_covariates=("Sepal.Width",))
    assert (h.table["n_predicted"] == 30).all()
    assert np.isfinite(h.table["rmse"]).all()
    with pytest.raises(DataError):
        holdout_comparison(iris, "Petal.Width", "Species", "Sepal.Length", holdout_last=0)


def test_partial_data_path_runs_from_the_population_to_the_full_fit(sleep, result):
    path = partial_data_path(sleep, "Reaction", "Subject", "Days", "308")
    table = path.table.set_index("k")
    assert list(table.index) == list(range(11))
    # k = 0: a new subject, the population line with Σ's SDs.
    Sigma = result.fit.varcorr[0].cov
    assert table.loc[0, "intercept"] == pytest.approx(result.population["intercept"])
    assert table.loc[0, "slope_sd"] == pytest.approx(np.sqrt(Sigma[1, 1]))
    # k = 10: the full fit's coefficients and conditional SDs.
    coef = result.fit.coef["Subject"].loc["308"]
    assert table.loc[10, "intercept"] == pytest.approx(coef["(Intercept)"]) and table.loc[10, "slope"] == pytest.approx(coef["Days"])
    np.testing.assert_allclose(table.loc[10, ["intercept_sd", "slope_sd"]].to_numpy(float),
                               result.fit.ranef_sd["Subject"].loc["308"].to_numpy(), rtol=1e-6)
    # In between: the refit on the thinned data (as partial_data_prediction does).
    part = partial_data_prediction(sleep, "Reaction", "Subject", "Days", "308", 4)
    assert table.loc[4, "intercept"] == pytest.approx(part.coef["(Intercept)"], rel=1e-5)
    assert table.loc[4, "slope_sd"] == pytest.approx(part.coef_sd["Days"], rel=1e-4)
    assert table.loc[4, "fit_end"] == pytest.approx(part.coef["(Intercept)"] + 9 * part.coef["Days"], rel=1e-5)
    # Seeing more days narrows the slope's uncertainty.
    assert table["slope_sd"].is_monotonic_decreasing
    assert path.own == pytest.approx(tuple(smf.ols("Reaction ~ Days", sleep[sleep["Subject"] == "308"]).fit().params))


def test_partial_data_path_for_a_random_intercept_with_steps():
    iris = datasets.load("iris")
    path = partial_data_path(iris, "Petal.Width", "Species", "Sepal.Length", "setosa", ks=[0, 25, 50, 99],
                             random="intercept", extra_covariates=("Sepal.Width",))
    assert list(path.table["k"]) == [0, 25, 50]
    assert (path.table["slope_sd"] == 0).all()  # the slope does not vary by species in this model
    assert path.table["intercept_sd"].iloc[0] > 10 * path.table["intercept_sd"].iloc[-1]
