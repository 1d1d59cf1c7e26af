"""The machinery that keeps a small fit's fixed cost low gives the same answers as the plain way:
columns read once and the data frame built on demand (Design.frame), the parse remembered per
formula, the direct LAPACK calls, the evaluation at the optimum reused."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.linalg as sla

import datasets
from lmm_core import FormulaError, build_design, lmer
from lmm_core import lapack


@pytest.fixture(scope="module")
def sleep():
    return datasets.load("sleepstudy")


def test_design_frame_is_the_complete_rows_of_the_used_columns(sleep):
    d = sleep.assign(note=["a", "b", "c"] * 60, unused=np.nan, ward=list("xyz") * 60)
    d.loc[[3, 50], "Reaction"] = np.nan
    d.loc[7, "ward"] = None
    design = build_design("Reaction ~ Days + ward + (Days | Subject)", d)
    frame = design.frame
    assert list(frame.columns) == list(design.formula.variables)
    assert sorted(frame.columns) == ["Days", "Reaction", "Subject", "ward"]
    assert list(frame.index) == [i for i in d.index if i not in (3, 7, 50)]
    assert design.n_dropped == 3 and len(design.y) == 177
    np.testing.assert_array_equal(frame["Reaction"].to_numpy(), design.y)
    assert isinstance(frame["ward"].dtype, pd.CategoricalDtype)  # a text fixed effect became a factor
    assert design.frame is frame  # built once
    fit = lmer("Reaction ~ Days + ward + (Days | Subject)", d)
    assert list(fit.fitted.index) == list(frame.index)


def test_design_frame_can_still_be_given(sleep):
    design = build_design("Reaction ~ Days + (1 | Subject)", sleep)
    design.frame = sleep.head(3)
    assert design.frame.shape == (3, 3)


def test_parse_is_remembered_per_formula_and_columns(sleep):
    formula = "Reaction ~ Days + (1 | Subject)"
    a, b = build_design(formula, sleep), build_design(formula, sleep)
    assert a.formula is b.formula
    renamed = sleep.rename(columns={"Days": "Tage"})
    with pytest.raises(FormulaError, match="Days"):  # other columns: parsed again, and refused
        build_design(formula, renamed)
    assert build_design("Reaction ~ Tage + (1 | Subject)", renamed).fixed_names == ["(Intercept)", "Tage"]


def test_lapack_calls_match_scipy():
    rng = np.random.default_rng(3)
    for n in (1, 3, 8, 40):
        A = rng.normal(size=(n, n))
        S = A @ A.T + n * np.eye(n)
        B = rng.normal(size=(n, 3))
        L = lapack.cholesky(S)
        np.testing.assert_allclose(L, sla.cholesky(S, lower=True), rtol=1e-13, atol=1e-13)
        assert np.all(np.triu(L, 1) == 0)
        np.testing.assert_allclose(lapack.solve_triangular(L, B), sla.solve_triangular(L, B, lower=True),
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(lapack.solve_triangular(L, B[:, 0], trans=True),
                                   sla.solve_triangular(L, B[:, 0], lower=True, trans="T"), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(lapack.cho_solve(L, B), np.linalg.solve(S, B), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(lapack.inv_upper(L.T), np.linalg.inv(L.T), rtol=1e-12, atol=1e-12)
    with pytest.raises(np.linalg.LinAlgError):
        lapack.cholesky(np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(np.linalg.LinAlgError):
        lapack.solve_triangular(np.zeros((2, 2)), np.ones(2))
    assert lapack.cholesky(np.zeros((0, 0))).shape == (0, 0)


def test_results_at_the_optimum_equal_a_fresh_evaluation(sleep):
    fit = lmer("Reaction ~ Days + (Days | Subject)", sleep)
    assert fit.model._last is None  # the remembered evaluation is dropped after the fit
    value, Lxy, _ = fit.model.profiled(fit.theta, True)
    assert fit.objective == pytest.approx(value, abs=1e-9)
    beta = np.linalg.solve(Lxy[:2, :2].T, Lxy[2, :2])
    np.testing.assert_allclose(fit.beta, beta, rtol=1e-10)
