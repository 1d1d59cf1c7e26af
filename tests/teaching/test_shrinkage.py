"""The shrinkage formulas reproduce the engine's conditional modes exactly."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

import datasets
from lmm_core import lmer
from lmm_core import DataError
from teaching.pooling import compare_pooling
from teaching.shrinkage import ellipse, intercept_shrinkage, matrix_shrinkage, mean_shrinkage_factor


@pytest.fixture(scope="module")
def unbalanced(sleep):
    rng = np.random.default_rng(1)
    return sleep.drop(index=rng.choice(len(sleep), 70, replace=False))


# -- λ for a random intercept -------------------------------------------------------------
def test_lambda_identity_is_the_conditional_mode(sleep):
    fit = lmer("Reaction ~ Days + (1 | Subject)", sleep)
    s = intercept_shrinkage(fit)
    modes = fit.ranef["Subject"]["(Intercept)"].loc[s.table["group"]].to_numpy()
    np.testing.assert_allclose(s.table["conditional_mode"], modes, rtol=0, atol=1e-8)
    tau2 = fit.varcorr[0].sd[0] ** 2
    assert s.tau2 == pytest.approx(tau2) and s.sigma2 == pytest.approx(fit.sigma**2)
    np.testing.assert_allclose(s.lambdas, tau2 / (tau2 + fit.sigma**2 / 10))
    ybar = sleep.groupby("Subject", observed=True)["Reaction"].mean().to_numpy()
    np.testing.assert_allclose(s.table["ybar"], ybar)
    days_mean = sleep["Days"].mean()  # every subject has days 0..9
    np.testing.assert_allclose(s.table["xbar_beta"], fit.fixef["(Intercept)"] + fit.fixef["Days"] * days_mean)


def test_lambda_identity_unbalanced_from_pooling_result(unbalanced):
    result = compare_pooling(unbalanced, "Reaction", "Subject", "Days", random="intercept")
    s = intercept_shrinkage(result)
    modes = result.fit.ranef["Subject"]["(Intercept)"].to_numpy()
    np.testing.assert_allclose(s.table["conditional_mode"], modes, atol=1e-8)
    n = s.table["n"].to_numpy()
    assert len(set(n)) > 1
    # More observations, more weight on the group's own data.
    assert np.all(np.diff(s.lambdas[np.argsort(n)]) >= -1e-12)
    partial = result.coefficients["partial"][:, 0]
    np.testing.assert_allclose(partial, result.fit.beta[0] + s.table["conditional_mode"], atol=1e-8)


def test_intercept_shrinkage_needs_a_random_intercept_only(sleep):
    with pytest.raises(DataError):
        intercept_shrinkage(lmer("Reaction ~ Days + (Days | Subject)", sleep))
    with pytest.raises(DataError):
        intercept_shrinkage("not a fit")


# -- the matrix version ----------------------------------------------------------------------
def test_matrix_shrinkage_equals_coef_and_precision_formula(sleep):
    fit = lmer("Reaction ~ Days + (Days | Subject)", sleep)
    ms = matrix_shrinkage(fit)
    coef = fit.coef["Subject"].loc[ms.levels, ["(Intercept)", "Days"]].to_numpy()
    np.testing.assert_allclose(ms.compromise, coef, rtol=0, atol=1e-6)
    assert ms.estimable.all()
    Sigma = fit.varcorr[0].cov
    np.testing.assert_allclose(ms.prior_cov, Sigma)
    sigma2 = fit.sigma**2
    for j, subject in enumerate(ms.levels):
        part = sleep[sleep["Subject"] == subject]
        Xj = np.column_stack([np.ones(len(part)), part["Days"]])
        own = np.linalg.lstsq(Xj, part["Reaction"].to_numpy(), rcond=None)[0]
        np.testing.assert_allclose(ms.own_estimate[j], own, rtol=1e-9)
        np.testing.assert_allclose(ms.own_cov[j], sigma2 * np.linalg.inv(Xj.T @ Xj), rtol=1e-9)
        # The textbook precision-weighted compromise.
        P_own, P_prior = Xj.T @ Xj / sigma2, np.linalg.inv(Sigma)
        textbook = np.linalg.solve(P_prior + P_own, P_own @ own + P_prior @ fit.beta)
        np.testing.assert_allclose(textbook, coef[j], rtol=0, atol=1e-6)
        W = ms.weight[j]
        np.testing.assert_allclose(W @ own + (np.eye(2) - W) @ ms.population, coef[j], atol=1e-6)
    np.testing.assert_allclose(ms.posterior_cov, fit.ranef_condvar()[0][2], rtol=1e-9)
    assert list(ms.table().columns) == ["group", "n", "estimable", "own_(Intercept)", "own_Days",
                                        "partial_(Intercept)", "partial_Days"]


@pytest.mark.parametrize("formula", [
    "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)",
    "Reaction ~ Days + (0 + Days | Subject)",
    "Reaction ~ Days + (1 | Subject)",
])
def test_matrix_shrinkage_other_random_terms(unbalanced, formula):
    fit = lmer(formula, unbalanced)
    ms = matrix_shrinkage(fit)
    coef = fit.coef["Subject"].loc[ms.levels, ms.names].to_numpy()
    np.testing.assert_allclose(ms.compromise, coef, atol=1e-6)


def test_matrix_shrinkage_with_extra_fixed_covariate_and_non_estimable_group(sleep):
    data = pd.concat([sleep.astype({"Subject": str}), pd.DataFrame(
        {"Reaction": [300.0, 310.0], "Days": [3.0, 3.0], "Subject": ["flat", "flat"]})], ignore_index=True)
    data["noise"] = np.random.default_rng(3).normal(size=len(data))
    result = compare_pooling(data, "Reaction", "Subject", "Days", extra_covariates=("noise",))
    ms = matrix_shrinkage(result)
    j = ms.levels.index("flat")
    assert not ms.estimable[j] and np.isnan(ms.own_estimate[j]).all()
    coef = result.fit.coef["Subject"].loc[ms.levels, ["(Intercept)", "Days"]].to_numpy()
    np.testing.assert_allclose(ms.compromise, coef, atol=1e-6)


def test_iris_matrix_shrinkage(sleep):
    iris = datasets.load("iris")
    fit = lmer("Petal.Width ~ Sepal.Width + Sepal.Length + (1 + Sepal.Length | Species)", iris)
    ms = matrix_shrinkage(fit)
    coef = fit.coef["Species"].loc[ms.levels, ["(Intercept)", "Sepal.Length"]].to_numpy()
    np.testing.assert_allclose(ms.compromise, coef, atol=1e-6)


# -- summaries and drawing ---------------------------------------------------------------------
def test_mean_shrinkage_factor(sleep, unbalanced):
    fit = lmer("Reaction ~ Days + (1 | Subject)", unbalanced)
    factor = mean_shrinkage_factor(fit)
    assert factor["(Intercept)"] == pytest.approx(intercept_shrinkage(fit).lambdas.mean(), rel=1e-10)
    both = lmer("Reaction ~ Days + (Days | Subject)", sleep)
    factor = mean_shrinkage_factor(both)
    ms = matrix_shrinkage(both)
    expected = 1 - np.einsum("mii->mi", ms.posterior_cov) / np.diag(ms.prior_cov)
    np.testing.assert_allclose(factor.to_numpy(), expected.mean(axis=0), rtol=1e-9)
    assert ((factor > 0) & (factor < 1)).all()


def test_mean_shrinkage_factor_singular_fit_counts_as_fully_pulled():
    rng = np.random.default_rng(5)
    data = pd.DataFrame({"g": np.repeat(list("abcdefgh"), 5), "y": rng.normal(size=40)})
    data.loc[:, "y"] -= data.groupby("g")["y"].transform("mean")  # no group differences at all
    fit = lmer("y ~ 1 + (1 | g)", data)
    assert fit.singular
    assert mean_shrinkage_factor(fit)["(Intercept)"] == pytest.approx(0.0, abs=1e-6)


def test_ellipse_points_lie_on_the_chi_square_contours():
    center, cov = np.array([1.0, -2.0]), np.array([[4.0, 1.2], [1.2, 1.0]])
    points = ellipse(center, cov, levels=(0.5, 0.95), n_points=60)
    assert list(points.columns) == ["level", "x", "y"] and len(points) == 120
    inv = np.linalg.inv(cov)
    for level, part in points.groupby("level"):
        d = part[["x", "y"]].to_numpy() - center
        np.testing.assert_allclose(np.einsum("na,ab,nb->n", d, inv, d), chi2.ppf(level, 2), rtol=1e-10)
        np.testing.assert_allclose(part.iloc[0][["x", "y"]], part.iloc[-1][["x", "y"]], atol=1e-12)
    flat = ellipse([0, 0], [[1.0, 1.0], [1.0, 1.0]], levels=(0.9,))  # singular: a segment
    np.testing.assert_allclose(flat["x"], flat["y"], atol=1e-9)
    assert ellipse([np.nan, 0], np.eye(2)).empty
    with pytest.raises(DataError):
        ellipse([0, 0], np.eye(2), levels=(1.5,))
