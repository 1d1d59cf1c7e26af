"""The multi-factor (crossed and nested) path against real lme4 fits of Pastes, Penicillin and InstEval.

The reference numbers and the data come from tests/data/lme4_crossed/make_reference.R
(lme4's own data sets, written out as CSV; InstEval gzipped). The engine must stop at
lme4's optimum or below: criterion ≤ lme4's + 1e-7, SDs within 1e-4 relative.
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lmm_core import lmer

HERE = Path(__file__).resolve().parents[1] / "data" / "lme4_crossed"
REFERENCE = json.loads((HERE / "lme4_crossed.json").read_text())
RESPONSES = {"strength", "diameter", "y"}


def load(name: str) -> pd.DataFrame:
    """Every column but the response as text, so that factors stay factors (service "0"/"1" too)."""
    data = pd.read_csv(HERE / name, dtype=str)
    for column in RESPONSES & set(data.columns):
        data[column] = pd.to_numeric(data[column])
    return data


@pytest.fixture(scope="module", params=sorted(REFERENCE))
def pair(request):
    ref = REFERENCE[request.param]
    return lmer(ref["formula"], load(ref["data"]), reml=ref["reml"]), ref


def test_criterion_at_lme4s_optimum_or_below(pair):
    fit, ref = pair
    assert fit.objective <= ref["objective"] + 1e-7
    assert fit.objective >= ref["objective"] - 1e-4  # and the same criterion, not another one
    assert fit.nobs == ref["nobs"]


def test_standard_deviations(pair):
    fit, ref = pair
    assert [v.group for v in fit.varcorr] == [v["group"] for v in ref["varcorr"]]
    for ours, theirs in zip(fit.varcorr, ref["varcorr"]):
        np.testing.assert_allclose(ours.sd, theirs["sd"], rtol=1e-4)
    assert fit.sigma == pytest.approx(ref["sigma"], rel=1e-4)
    np.testing.assert_allclose(fit.theta, ref["theta"], rtol=1e-3)


def test_fixed_effects(pair):
    fit, ref = pair
    assert list(fit.fixef.index) == list(ref["fixef"])
    for name, value in ref["fixef"].items():
        se = ref["fixef_se"][name]
        assert abs(fit.fixef[name] - value) <= 1e-4 * se
        assert fit.fixef_se[name] == pytest.approx(se, rel=1e-4)


def test_conditional_modes(pair):
    fit, ref = pair
    assert list(fit.ranef) == list(ref["ranef"])
    for group, theirs in ref["ranef"].items():
        ours = fit.ranef[group]
        assert sorted(map(str, ours.index)) == sorted(theirs["levels"])
        values = ours.iloc[:, 0].rename(str)
        expected = pd.Series(theirs["condval"], index=theirs["levels"])
        condsd = pd.Series(theirs["condsd"], index=theirs["levels"])
        np.testing.assert_array_less(np.abs(values[expected.index] - expected), 1e-3 * condsd + 1e-9)
        sds = fit.ranef_sd[group].iloc[:, 0].rename(str)
        np.testing.assert_allclose(sds[condsd.index], condsd, rtol=1e-3)
