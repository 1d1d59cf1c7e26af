"""The engine against real lme4 fits (../shared/reference/lme4_reference.json).

Every model in the reference file is refitted on the same CSV file and compared
number by number and name by name. Tolerances:

* objective (REML criterion or deviance), loglik, AIC, BIC: 1e-4 absolute;
* fixed effects: 1e-3 of their standard error;
* standard errors, sigma, random-effect SDs, conditional SDs: 1e-3 relative;
* correlations of random effects: 5e-3 absolute;
* conditional modes and coef: 1e-3 of the conditional SD (coef columns that have
  no random effect: 1e-3 of the fixed effect's standard error);
* fitted values (first 12): 1e-6 relative;
* counts, flags and every name (in lme4's order): exactly equal.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lmm_core import lmer

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / ".." / "shared" / "reference" / "lme4_reference.json"
DATA_DIRS = [REPO / "datasets", REPO / ".." / "shared" / "data"]

if not REFERENCE.is_file():  # pragma: no cover - the shared folder is part of the project set-up
    pytest.skip(f"lme4 reference file not found at {REFERENCE}", allow_module_level=True)

REF: dict = json.loads(REFERENCE.read_text())
IDS = sorted(REF)


def _data_path(name: str) -> Path:
    for d in DATA_DIRS:
        if (d / name).is_file():
            return d / name
    raise FileNotFoundError(name)


@lru_cache(maxsize=None)
def fitted(model_id: str):
    entry = REF[model_id]
    data = pd.read_csv(_data_path(entry["data"]))
    return lmer(entry["formula"], data, reml=bool(entry["reml"]))


def _ref(model_id):
    return REF[model_id]


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))


# -- criterion and fit statistics ----------------------------------------------
@pytest.mark.parametrize("model_id", IDS)
def test_objective(model_id):
    assert fitted(model_id).objective == pytest.approx(_ref(model_id)["objective"], abs=1e-4)


@pytest.mark.parametrize("model_id", IDS)
def test_loglik_aic_bic(model_id):
    fit, ref = fitted(model_id), _ref(model_id)
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-4)
    assert fit.aic == pytest.approx(ref["aic"], abs=1e-4)
    assert fit.bic == pytest.approx(ref["bic"], abs=1e-4)


@pytest.mark.parametrize("model_id", IDS)
def test_counts_and_flags(model_id):
    fit, ref = fitted(model_id), _ref(model_id)
    assert fit.df == ref["df"]
    assert fit.nobs == ref["nobs"]
    assert dict(fit.ngroups) == ref["ngroups"]
    assert list(fit.ngroups) == list(ref["ngroups"])
    assert fit.singular == ref["singular"]
    assert fit.reml == ref["reml"]


# -- fixed effects --------------------------------------------------------------
@pytest.mark.parametrize("model_id", IDS)
def test_fixef_names(model_id):
    assert list(fitted(model_id).fixef.index) == list(_ref(model_id)["fixef"])
    assert list(fitted(model_id).fixef_se.index) == list(_ref(model_id)["fixef_se"])


@pytest.mark.parametrize("model_id", IDS)
def test_fixef_within_a_thousandth_of_their_se(model_id):
    fit, ref = fitted(model_id), _ref(model_id)
    for name, value in ref["fixef"].items():
        se = ref["fixef_se"][name]
        assert abs(fit.fixef[name] - value) <= 1e-3 * se, name


@pytest.mark.parametrize("model_id", IDS)
def test_fixef_se(model_id):
    fit, ref = fitted(model_id), _ref(model_id)
    names = list(ref["fixef_se"])
    assert _rel(fit.fixef_se[names].to_numpy(), [ref["fixef_se"][n] for n in names]) <= 1e-3


@pytest.mark.parametrize("model_id", IDS)
def test_vcov(model_id):
    fit, ref = fitted(model_id), _ref(model_id)
    V, R = fit.vcov.to_numpy(), np.asarray(ref["vcov"], float)
    assert V.shape == R.shape
    scale = np.sqrt(np.outer(np.diag(R), np.diag(R)))
    assert np.all(np.abs(V - R) <= 1e-3 * scale)


# -- variance components -------------------------------------------------------
@pytest.mark.parametrize("model_id", IDS)
def test_sigma(model_id):
    assert _rel(fitted(model_id).sigma, _ref(model_id)["sigma"]) <= 1e-3


@pytest.mark.parametrize("model_id", IDS)
def test_varcorr_names(model_id):
    fit, ref = fitted(model_id), _ref(model_id)
    assert [v.group for v in fit.varcorr] == [v["group"] for v in ref["varcorr"]]
    assert [list(v.terms) for v in fit.varcorr] == [v["terms"] for v in ref["varcorr"]]


@pytest.mark.parametrize("model_id", IDS)
def test_random_effect_sds(model_id):
    fit, ref = fitted(model_id), _ref(model_id)
    for ours, theirs in zip(fit.varcorr, ref["varcorr"]):
        assert _rel(ours.sd, theirs["sd"]) <= 1e-3, theirs["group"]


@pytest.mark.parametrize("model_id", IDS)
def test_random_effect_correlations(model_id):
    fit, ref = fitted(model_id), _ref(model_id)
    for ours, theirs in zip(fit.varcorr, ref["varcorr"]):
        R = np.asarray(theirs["corr"], float)
        assert np.asarray(ours.corr).shape == R.shape
        assert np.nanmax(np.abs(np.asarray(ours.corr, float) - R)) <= 5e-3, theirs["group"]


# -- conditional modes, their SDs, and coef ------------------------------------------
@pytest.mark.parametrize("model_id", IDS)
def test_ranef_names_and_levels(model_id):
    fit, ref = fitted(model_id), _ref(model_id)
    assert list(fit.ranef) == list(ref["ranef"])
    for factor, rows in ref["ranef"].items():
        table = fit.ranef[factor]
        assert [str(level) for level in table.index] == [r["level"] for r in rows]
        assert list(table.columns) == list(rows[0]["values"])
        assert list(fit.ranef_sd[factor].columns) == list(rows[0]["cond_sd"])


@pytest.mark.parametrize("model_id", IDS)
def test_conditional_modes(model_id):
    fit, ref = fitted(model_id), _ref(model_id)
    for factor, rows in ref["ranef"].items():
        modes = fit.ranef[factor]
        for i, row in enumerate(rows):
            for col, value in row["values"].items():
                tol = 1e-3 * row["cond_sd"][col]
                assert abs(modes.iloc[i][col] - value) <= tol, (factor, row["level"], col)


@pytest.mark.parametrize("model_id", IDS)
def test_conditional_sds(model_id):
    fit, ref = fitted(model_id), _ref(model_id)
    for factor, rows in ref["ranef"].items():
        sds = fit.ranef_sd[factor]
        ours = np.array([[sds.iloc[i][c] for c in row["cond_sd"]] for i, row in enumerate(rows)])
        theirs = np.array([[row["cond_sd"][c] for c in row["cond_sd"]] for row in rows])
        assert _rel(ours, theirs) <= 1e-3, factor


@pytest.mark.parametrize("model_id", IDS)
def test_coef_names_and_levels(model_id):
    fit, ref = fitted(model_id), _ref(model_id)
    assert list(fit.coef) == list(ref["coef"])
    for factor, rows in ref["coef"].items():
        table = fit.coef[factor]
        assert [str(level) for level in table.index] == [r["level"] for r in rows]
        assert list(table.columns) == list(rows[0]["values"])


@pytest.mark.parametrize("model_id", IDS)
def test_coef(model_id):
    fit, ref = fitted(model_id), _ref(model_id)
    for factor, rows in ref["coef"].items():
        table = fit.coef[factor]
        cond_sd = {r["level"]: r["cond_sd"] for r in ref["ranef"][factor]}
        for i, row in enumerate(rows):
            for col, value in row["values"].items():
                scale = cond_sd[row["level"]].get(col, ref["fixef_se"].get(col))
                assert abs(table.iloc[i][col] - value) <= 1e-3 * scale, (factor, row["level"], col)


# lme4's optimizer stops a little short on sleep_rs_ml: at lme4's theta the deviance is
# 2.6e-8 above the engine's optimum (a polished Nelder-Mead agrees with the engine), and the
# fitted values move by 3e-6 relative along that flat direction. The engine is right there;
# the 1e-6 tolerance asks more of lme4's answer than lme4's stopping rule gives.
# test_fitted_head_at_lme4_theta checks the same numbers with lme4's own theta.
LME4_STOPPED_SHORT = {"sleep_rs_ml"}


@pytest.mark.parametrize(
    "model_id",
    [
        pytest.param(
            m,
            marks=pytest.mark.xfail(
                strict=True, reason="lme4's optimum is 2.6e-8 above the true one; fitted differ by 3e-6"
            ),
        )
        if m in LME4_STOPPED_SHORT
        else m
        for m in IDS
    ],
)
def test_fitted_head(model_id):
    fit, ref = fitted(model_id), _ref(model_id)
    head = np.asarray(fit.fitted, float)[: len(ref["fitted_head"])]
    assert _rel(head, ref["fitted_head"]) <= 1e-6


@pytest.mark.parametrize("model_id", IDS)
def test_engine_optimum_is_no_worse_than_lme4s(model_id):
    """At lme4's own theta the engine's criterion is lme4's objective, and the engine's optimum is not above it."""
    fit, ref = fitted(model_id), _ref(model_id)
    at_lme4 = fit.model.objective(np.asarray(ref["theta"], float), fit.reml)
    assert at_lme4 == pytest.approx(ref["objective"], abs=1e-6)
    assert fit.objective <= at_lme4 + 1e-7


@pytest.mark.parametrize("model_id", IDS)
def test_fitted_head_at_lme4_theta(model_id):
    """Given lme4's theta, the engine's fitted values are lme4's to 1e-6 relative."""
    from lmm_core.model import Optimum
    from lmm_core.results import LmerFit

    fit, ref = fitted(model_id), _ref(model_id)
    theta = np.asarray(ref["theta"], float)
    at = LmerFit(fit.model, Optimum(theta, fit.model.objective(theta, fit.reml), True, 0, ""), fit.reml)
    head = np.asarray(at.fitted, float)[: len(ref["fitted_head"])]
    assert _rel(head, ref["fitted_head"]) <= 1e-6


@pytest.mark.parametrize("model_id", IDS)
def test_to_dict_has_the_reference_shapes(model_id):
    """fit.to_dict() mirrors a reference entry: same keys, same nesting, same names."""
    d, ref = fitted(model_id).to_dict(), _ref(model_id)

    def shape(x):
        if isinstance(x, dict):
            return {k: shape(v) for k, v in x.items()}
        if isinstance(x, list):
            return [shape(v) for v in x]
        return "number" if isinstance(x, (int, float)) and not isinstance(x, bool) else type(x).__name__

    for key in ("nobs", "ngroups", "fixef", "fixef_se", "vcov", "theta", "sigma", "objective", "loglik",
                "aic", "bic", "df", "singular", "varcorr", "ranef", "coef"):
        assert shape(d[key]) == shape(ref[key]), key
