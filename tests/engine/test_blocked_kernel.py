"""The blocked multi-factor kernel against the dense general one, its exact gradient, and the L-BFGS-B driver."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

import datasets
from lmm_core.blocked import BlockedKernel
from lmm_core.kernels import GeneralKernel
from lmm_core.lbfgsb import lbfgsb
from lmm_core.model import LinearMixedModel

DATA = Path(__file__).resolve().parents[1] / "data"
CASES = [
    ("lme4_extra/crossed.csv", "y ~ x + (1 | subj) + (1 | item)"),
    ("lme4_extra/crossed.csv", "y ~ x + (1 + x | subj) + (1 | item)"),  # q = 2 in the block-diagonal part
    ("lme4_extra/crossed.csv", "y ~ x + (1 | subj) + (1 + x | item)"),  # q = 2 in the Schur part
    ("lme4_extra/crossed.csv", "y ~ x + (x || subj) + (1 | item)"),  # two terms share the first factor
    ("lme4_extra/nested.csv", "y ~ x + (1 | school/class)"),
    ("lme4_crossed/pastes.csv", "strength ~ 1 + (1 | batch) + (1 | batch:cask)"),
    ("lme4_crossed/penicillin.csv", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
]


@pytest.fixture(scope="module", params=CASES, ids=[f for _, f in CASES])
def model(request):
    path, formula = request.param
    return LinearMixedModel.from_formula(formula, pd.read_csv(DATA / path))


def dense_kernel(m):
    scaled = [replace(t, Z=t.Z / d) for t, d in zip(m.terms, m.col_scales)]
    return GeneralKernel(m.y, m.X, scaled, m.theta_offsets, m.patterns)


def test_the_multi_factor_path_uses_the_blocked_kernel(model):
    assert isinstance(model.kernel, BlockedKernel)


@pytest.mark.parametrize("seed", [0, 1])
def test_blocked_factor_equals_the_dense_one(model, seed):
    theta = model.theta0 + np.random.default_rng(seed).uniform(-0.3, 0.8, model.n_theta)
    dense = dense_kernel(model)
    logdet_d, Lxy_d, state_d = dense.factor(theta)
    logdet_b, Lxy_b, state_b = model.kernel.factor(theta)
    assert logdet_b == pytest.approx(logdet_d, abs=1e-10)
    np.testing.assert_allclose(Lxy_b, Lxy_d, atol=1e-9 * np.abs(Lxy_d).max())
    p = model.p
    beta = np.linalg.solve(Lxy_d[:p, :p].T, Lxy_d[p, :p])
    for (b_d, cov_d), (b_b, cov_b) in zip(dense.random_effects(theta, beta, state_d),
                                          model.kernel.random_effects(theta, beta, state_b)):
        np.testing.assert_allclose(b_b, b_d, atol=1e-10)
        np.testing.assert_allclose(cov_b, cov_d, atol=1e-10)


@pytest.mark.parametrize("reml", [True, False])
def test_exact_gradient_matches_central_differences(model, reml):
    theta = model.theta0 + np.random.default_rng(2).uniform(-0.3, 0.8, model.n_theta)
    value, grad = model.value_and_gradient(theta, reml)
    h = 1e-5
    numeric = np.array([(model._objective(theta + h * e, reml) - model._objective(theta - h * e, reml)) / (2 * h)
                        for e in np.eye(model.n_theta)])
    np.testing.assert_allclose(grad, numeric, atol=1e-5 * max(1.0, np.abs(numeric).max()))


def test_large_problems_go_without_the_dense_gradient(monkeypatch):
    import lmm_core.blocked as blocked

    monkeypatch.setattr(blocked, "DENSE_GRADIENT_MAX", 10)
    m = LinearMixedModel.from_formula("strength ~ 1 + (1 | batch) + (1 | batch:cask)",
                                      pd.read_csv(DATA / "lme4_crossed/pastes.csv"))
    assert not m.kernel.has_gradient
    fit = m.fit()
    assert fit.objective <= 246.990745853486 + 1e-7  # lme4's REML criterion: the derivative-free route gets there too


@pytest.mark.parametrize("formula", ["Reaction ~ Days + (Days | Subject)", "Reaction ~ Days + (1 | Subject)"])
def test_lbfgsb_driver_visits_what_scipy_visits(formula):
    m = LinearMixedModel.from_formula(formula, datasets.load("sleepstudy"))
    bounds = [(lo if np.isfinite(lo) else None, None) for lo in m.lower]
    ref = minimize(m.value_and_gradient, m.theta0, args=(True,), jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"ftol": 1e-12, "gtol": 1e-6, "maxiter": 2000, "maxls": 50})
    ours = lbfgsb(lambda x: m.value_and_gradient(x, True), m.theta0, m.lower, ftol=1e-12, gtol=1e-6, maxls=50,
                  stop_at_stationary=False)
    np.testing.assert_array_equal(ours.x, ref.x)
    assert (ours.fun, ours.nfev, ours.success, ours.message) == (ref.fun, ref.nfev, ref.success, ref.message)
    # by default it also stops at a stationary line-search trial point: never later, at the same optimum
    quick = lbfgsb(lambda x: m.value_and_gradient(x, True), m.theta0, m.lower, ftol=1e-12, gtol=1e-6, maxls=50)
    assert quick.success and quick.nfev <= ref.nfev
    assert quick.fun <= ref.fun + 1e-11 * abs(ref.fun)
    np.testing.assert_allclose(quick.x, ref.x, rtol=0, atol=1e-6)


def test_lbfgsb_stops_at_a_stationary_trial_point():
    """A rejected trial point that already meets gtol ends the search: never more evaluations than
    L-BFGS-B alone, and far fewer where rounding noise makes its line search reject the optimum
    (ML fits of sleepstudy's random intercept: 23 -> 8 when measured)."""
    cases = [("Reaction ~ Days + (Days | Subject)", "sleepstudy"), ("Reaction ~ Days + (1 | Subject)", "sleepstudy"),
             ("gpa ~ occasion + (occasion | student)", "gpa")]
    saved = 0
    for formula, data in cases:
        m = LinearMixedModel.from_formula(formula, datasets.load(data))
        for reml in (True, False):
            full = lbfgsb(lambda x: m.value_and_gradient(x, reml), m.theta0, m.lower, stop_at_stationary=False)
            quick = lbfgsb(lambda x: m.value_and_gradient(x, reml), m.theta0, m.lower)
            assert quick.success and quick.nfev <= full.nfev
            assert quick.fun <= full.fun + 1e-11 * abs(full.fun)
            if quick.message != full.message:  # it stopped early, at a point within gtol
                _, grad = m.value_and_gradient(quick.x, reml)
                assert np.max(np.abs(np.where(quick.x > m.lower, grad, np.minimum(grad, 0)))) <= 1e-6
            saved += full.nfev - quick.nfev
    assert saved >= 5


@pytest.mark.parametrize("build", ["sparse, dense product", "sparse, sparse product"])
def test_the_sparse_build_of_large_designs_equals_the_dense_one(model, build, monkeypatch):
    """Small designs are built on plain arrays (SMALL_DESIGN); large ones (InstEval) on scipy.sparse,
    with the Schur product dense or sparse: every way gives the dense kernel's numbers."""
    import lmm_core.blocked as blocked

    monkeypatch.setattr(blocked, "SMALL_DESIGN", 0)
    m = LinearMixedModel(model.design)
    assert not isinstance(m.kernel.C[0], np.ndarray)
    if build == "sparse, sparse product":
        m.kernel.dense_product, m.kernel.C1dense = False, None
    theta = m.theta0 + np.random.default_rng(5).uniform(-0.3, 0.8, m.n_theta)
    dense = dense_kernel(m)
    logdet_d, Lxy_d, state_d = dense.factor(theta)
    logdet_b, Lxy_b, state_b = m.kernel.factor(theta)
    assert logdet_b == pytest.approx(logdet_d, abs=1e-10)
    np.testing.assert_allclose(Lxy_b, Lxy_d, atol=1e-9 * np.abs(Lxy_d).max())
    beta = np.linalg.solve(Lxy_d[:m.p, :m.p].T, Lxy_d[m.p, :m.p])
    for (b_d, cov_d), (b_b, cov_b) in zip(dense.random_effects(theta, beta, state_d),
                                          m.kernel.random_effects(theta, beta, state_b)):
        np.testing.assert_allclose(b_b, b_d, atol=1e-10)
        np.testing.assert_allclose(cov_b, cov_d, atol=1e-10)
