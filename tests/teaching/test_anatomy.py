"""Under-the-hood numerics (teaching.anatomy) checked against the engine, dense algebra, OLS and lme4."""
from __future__ import annotations

import numpy as np
import pytest
import statsmodels.formula.api as smf

import datasets
from lmm_core import lmer
from teaching import anatomy
from lmm_core import DataError

CASES = [(d, m.formula) for d in datasets.names() for m in datasets.info(d).models]


@pytest.fixture(scope="module")
def fits():
    return {(d, f): lmer(f, datasets.load(d)) for d, f in CASES}


def dense_reml(fit, theta):
    """The REML criterion straight from its definition with dense V (an independent check)."""
    X, y = fit.model.X, fit.model.y
    Z, _ = anatomy._dense_z(fit)
    at = anatomy.fit_at_theta(fit, theta)
    Lam = anatomy._lambda_matrix(at)
    n, p = X.shape
    V0 = np.eye(n) + Z @ Lam @ Lam.T @ Z.T
    Vi = np.linalg.inv(V0)
    beta = np.linalg.solve(X.T @ Vi @ X, X.T @ Vi @ y)
    r = y - X @ beta
    sigma2 = r @ Vi @ r / (n - p)
    logdet_v = np.linalg.slogdet(sigma2 * V0)[1]
    logdet_x = np.linalg.slogdet(X.T @ Vi @ X / sigma2)[1]
    return logdet_v + logdet_x + (n - p) * (1 + np.log(2 * np.pi)), beta


@pytest.mark.parametrize("data,formula", CASES)
def test_fit_at_the_fitted_theta_is_the_fit(fits, data, formula):
    fit = fits[data, formula]
    at = anatomy.fit_at_theta(fit, fit.theta)
    assert at.objective == pytest.approx(fit.objective, abs=1e-9)
    np.testing.assert_allclose(at.beta, fit.fixef.to_numpy(), rtol=1e-10)
    group = fit.model.terms[0].group
    np.testing.assert_allclose(at.ranef[group].to_numpy(), fit.ranef[group].to_numpy(), rtol=1e-8, atol=1e-12)
    # θ -> SD ratios and correlations -> θ is the identity.
    np.testing.assert_allclose(anatomy.theta_from_scales(fit, anatomy.scale_parts(fit).ratios), fit.theta,
                               atol=1e-12)


@pytest.mark.parametrize("data,formula", [c for c in CASES if c[0] != "gpa"])
def test_criterion_matches_the_dense_definition(fits, data, formula):
    fit = fits[data, formula]
    for factor in (0.3, 1.0, 2.5):
        theta = fit.theta * factor
        value, beta = dense_reml(fit, theta)
        assert anatomy.fit_at_theta(fit, theta).objective == pytest.approx(value, rel=1e-9)
        np.testing.assert_allclose(anatomy.fit_at_theta(fit, theta).beta, beta, rtol=1e-8)


def test_criterion_curve_has_its_minimum_at_the_fit(fits):
    fit = fits["sleepstudy", "Reaction ~ Days + (1 | Subject)"]
    curve = anatomy.criterion_curve(fit)
    assert curve["criterion"].min() == pytest.approx(fit.objective, abs=1e-9)
    best = curve.loc[curve["criterion"].idxmin()]
    assert best["ratio"] == pytest.approx(fit.theta[0], rel=1e-12)
    assert best["group_sd"] == pytest.approx(fit.varcorr[0].sd[0], rel=1e-9)
    assert curve["ratio"].min() == 0 and curve["ratio"].max() == pytest.approx(3 * fit.theta[0])
    with pytest.raises(DataError):
        anatomy.criterion_curve(fits["sleepstudy", "Reaction ~ Days + (Days | Subject)"])


@pytest.mark.parametrize("formula", ["Reaction ~ Days + (Days | Subject)",
                                     "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)"])
def test_criterion_grid_is_never_below_the_fit(fits, formula):
    fit = fits["sleepstudy", formula]
    xs, ys, z = anatomy.criterion_grid(fit, n_points=21)
    assert z.shape == (21, 21) and xs[0] == 0 and ys[0] == 0
    assert z.min() >= fit.objective - 1e-9
    assert z.min() - fit.objective < 2.0  # the grid passes close to the optimum


@pytest.mark.parametrize("data,formula", CASES)
def test_henderson_equations_give_the_engine_answer(fits, data, formula):
    check = anatomy.henderson_check(fits[data, formula])
    assert check.beta_difference < 1e-6 and check.b_difference < 1e-6
    assert check.form == "classic"


@pytest.mark.parametrize("data,formula", CASES)
def test_shrinkage_identity_reproduces_every_conditional_mode(fits, data, formula):
    fit = fits[data, formula]
    group = fit.model.terms[0].group
    for level in fit.model.terms[0].levels[:20]:
        ident = anatomy.shrinkage_identity(fit, level)
        np.testing.assert_allclose(ident.by_hand, fit.ranef[group].loc[level].to_numpy(), rtol=1e-8, atol=1e-10)
    if formula.endswith("(1 | Subject)") or formula.endswith("(1 | student)") or formula.endswith("(1 | Species)"):
        assert ident.kind == "intercept"
        assert ident.lam == pytest.approx(ident.tau2 / (ident.tau2 + ident.sigma2 / ident.n))
        assert ident.by_hand[0] == pytest.approx(ident.lam * (ident.ybar - ident.xbar_beta))


def test_sleepstudy_identity_for_subject_308(fits):
    ident = anatomy.shrinkage_identity(fits["sleepstudy", "Reaction ~ Days + (1 | Subject)"], "308")
    assert ident.by_hand[0] == pytest.approx(40.783710, abs=5e-6)  # lme4's ranef in the seed material
    with pytest.raises(DataError):
        anatomy.shrinkage_identity(fits["sleepstudy", "Reaction ~ Days + (1 | Subject)"], "999")


def test_balanced_sleepstudy_fixed_effects_equal_ols(fits, sleep):
    fit = fits["sleepstudy", "Reaction ~ Days + (1 | Subject)"]
    comp = anatomy.balance_comparison(fit)
    ols = smf.ols("Reaction ~ Days", sleep).fit().params
    np.testing.assert_allclose(fit.fixef.to_numpy(), ols.to_numpy(), atol=1e-8)
    assert comp.balanced and comp.table["Difference"].abs().max() < 1e-8
    ufit, thinned = anatomy.unbalanced_fit("Reaction ~ Days + (1 | Subject)", sleep, "Subject", "Days")
    assert len(thinned) == 9 and ufit.model.n == 180 - 9 * 6
    ucomp = anatomy.balance_comparison(ufit)
    assert not ucomp.balanced and ucomp.table["Difference"].abs().min() > 0.1
    kept = sleep[(~sleep["Subject"].astype(str).isin(thinned)) | (sleep["Days"] < 4)]
    np.testing.assert_allclose(ucomp.table["One regression (OLS)"],
                               smf.ols("Reaction ~ Days", kept).fit().params, rtol=1e-10)


def test_iris_is_not_balanced(fits):
    assert not anatomy.same_design_in_every_group(fits["iris", datasets.info("iris").model("ri").formula])


@pytest.mark.parametrize("data,formula", CASES)
def test_zero_variance_is_complete_pooling(fits, data, formula):
    zero = anatomy.zero_variance_check(fits[data, formula])
    np.testing.assert_allclose(zero.beta_at_zero, zero.ols, rtol=1e-9, atol=1e-12)
    assert zero.largest_mode == 0 and zero.singular_terms == []


@pytest.mark.parametrize("data", ["sleepstudy", "gpa"])
def test_modes_spread_less_than_the_variance_says(fits, data):
    fit = fits[data, datasets.info(data).model("rs").formula]
    spread = anatomy.spread_vs_variance(fit)
    assert (spread["SD of the modes"] < spread["Estimated SD"]).all()
    b = fit.ranef[fit.model.terms[0].group]["(Intercept)"].to_numpy()
    assert spread.loc[0, "SD of the modes"] == pytest.approx(np.std(b, ddof=1))
    # Adding back the mean conditional variance nearly recovers the estimate (many groups).
    assert spread["Modes + conditional variance"].to_numpy() == pytest.approx(spread["Estimated SD"].to_numpy(), rel=0.05)


def test_correlation_of_modes_is_not_the_estimate(fits):
    fit = fits["sleepstudy", "Reaction ~ Days + (Days | Subject)"]
    table = anatomy.correlation_vs_estimate(fit)
    modes = fit.ranef["Subject"].to_numpy()
    assert table.loc[0, "Correlation of the modes"] == pytest.approx(np.corrcoef(modes.T)[0, 1])
    assert table.loc[0, "Estimated correlation"] == pytest.approx(fit.varcorr[0].corr[0, 1])
    assert table.loc[0, "Estimated correlation"] == pytest.approx(0.066, abs=1e-3)  # lme4: 0.07
    assert anatomy.correlation_vs_estimate(fits["sleepstudy", "Reaction ~ Days + (1 | Subject)"]).empty


# lme4 1.1: confint(lmer(<ri model>), parm = 1, oldNames = FALSE) (profile; spline-interpolated ends)
LME4_PROFILE = {"sleepstudy": (26.007120, 52.935984), "iris": (0.38817716, 2.1813278), "gpa": (0.22517423, 0.28246039)}


@pytest.mark.parametrize("data", datasets.names())
def test_sd_profile_interval_matches_lme4(fits, data):
    fit = fits[data, datasets.info(data).model("ri").formula]
    prof = anatomy.sd_profile(fit)
    lower, upper = LME4_PROFILE[data]
    assert prof.lower == pytest.approx(lower, rel=5e-4) and prof.upper == pytest.approx(upper, rel=5e-4)
    ml = lmer(datasets.info(data).model("ri").formula, datasets.load(data), reml=False)
    assert prof.estimate == pytest.approx(ml.varcorr[0].sd[0], rel=1e-6)
    assert prof.curve["change"].min() == pytest.approx(0, abs=1e-6)
    assert prof.n_groups == datasets.info(data).n_groups


def test_three_species_give_a_far_wider_interval(fits):
    ratio = {d: (lambda p: p.upper / p.lower)(anatomy.sd_profile(fits[d, datasets.info(d).model("ri").formula]))
             for d in datasets.names()}
    assert ratio["iris"] > 5 > ratio["sleepstudy"] > ratio["gpa"]


def test_design_view_and_one_row(fits):
    fit = fits["sleepstudy", "Reaction ~ Days + (Days | Subject)"]
    view = anatomy.design_view(fit, first="309", rows_per_group=10)
    assert list(view.Z.columns[:2]) == ["309 (Intercept)", "309 Days"] and view.Z.shape == (30, 6)
    assert view.q == 36 and view.hidden_z_columns == 30 and view.n == 180 and view.p == 2
    assert list(view.X.columns) == ["(Intercept)", "Days"]
    for label, grp in view.group.items():  # each row has entries only in its own group's columns
        nonzero = [c.split()[0] for c, v in view.Z.loc[label].items() if v != 0]
        assert set(nonzero) <= {grp}
    np.testing.assert_allclose(view.X.to_numpy(), fit.model.X[view.rows])
    row = anatomy.explain_row(fit, int(view.rows[3]))
    assert row.group == "309"
    assert row.fixed_part + row.random_part == pytest.approx(row.fitted)
    assert row.fitted == pytest.approx(fit.fitted.iloc[row.row])
    with pytest.raises(DataError):
        anatomy.explain_row(fit, 999)


def test_theta_from_scales_checks_its_input(fits):
    fit = fits["sleepstudy", "Reaction ~ Days + (Days | Subject)"]
    theta = anatomy.theta_from_scales(fit, [1.0, 0.5], [0.3])
    parts = anatomy.scale_parts(fit, theta)
    np.testing.assert_allclose(parts.ratios, [1.0, 0.5]) and np.testing.assert_allclose(parts.corrs, [0.3])
    with pytest.raises(DataError):
        anatomy.theta_from_scales(fit, [1.0])
    with pytest.raises(DataError):
        anatomy.theta_from_scales(fit, [-1.0, 1.0])
    with pytest.raises(DataError):
        anatomy.fit_at_theta(fit, [-1.0, 0.0, 1.0])
