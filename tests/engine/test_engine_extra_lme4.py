"""The engine against real lme4 on models beyond the shared reference (see tests/data/lme4_extra)."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import datasets
from lmm_core import lmer

HERE = Path(__file__).resolve().parents[1] / "data" / "lme4_extra"
REFERENCE = json.loads((HERE / "lme4_extra.json").read_text())


def load(name: str) -> pd.DataFrame:
    local = HERE / name
    return pd.read_csv(local) if local.exists() else pd.read_csv(datasets.DATA_DIR / name)


@pytest.fixture(scope="module", params=sorted(REFERENCE))
def pair(request):
    ref = REFERENCE[request.param]
    fit = lmer(ref["formula"], load(ref["data"]), reml=ref["reml"])
    return fit.to_dict(), ref


def test_objective_and_counts(pair):
    ours, ref = pair
    assert ours["objective"] == pytest.approx(ref["objective"], abs=1e-4)
    assert ours["loglik"] == pytest.approx(ref["loglik"], abs=1e-4)
    assert ours["aic"] == pytest.approx(ref["aic"], abs=1e-4)
    assert ours["bic"] == pytest.approx(ref["bic"], abs=1e-4)
    assert (ours["nobs"], ours["df"], ours["singular"]) == (ref["nobs"], ref["df"], ref["singular"])
    assert ours["ngroups"] == ref["ngroups"]


def test_fixed_effects(pair):
    ours, ref = pair
    assert list(ours["fixef"]) == list(ref["fixef"])
    for name, value in ref["fixef"].items():
        se = ref["fixef_se"][name]
        assert abs(ours["fixef"][name] - value) <= 1e-3 * se
        assert ours["fixef_se"][name] == pytest.approx(se, rel=1e-3)
    assert ours["sigma"] == pytest.approx(ref["sigma"], rel=1e-3)


def test_variance_components(pair):
    ours, ref = pair
    assert [v["group"] for v in ours["varcorr"]] == [v["group"] for v in ref["varcorr"]]
    for a, b in zip(ours["varcorr"], ref["varcorr"]):
        assert a["terms"] == list(b["terms"])
        # an SD estimated at 0 is compared on the residual's scale
        floor = 1e-2 * ref["sigma"] if ref["singular"] else 0.0
        np.testing.assert_allclose(a["sd"], b["sd"], rtol=1e-3, atol=1e-3 * floor + 1e-9)
        if len(b["sd"]) > 1 and min(b["sd"]) > 0:
            np.testing.assert_allclose(np.array(a["corr"], float), np.array(b["corr"], float), atol=5e-3)


def test_conditional_modes(pair):
    ours, ref = pair
    assert list(ours["ranef"]) == list(ref["ranef"])
    for group, rows in ref["ranef"].items():
        assert [r["level"] for r in ours["ranef"][group]] == [r["level"] for r in rows]
        for mine, theirs in zip(ours["ranef"][group], rows):
            for term, value in theirs["values"].items():
                sd = theirs["cond_sd"][term]
                assert abs(mine["values"][term] - value) <= 1e-3 * sd + 1e-9
                assert mine["cond_sd"][term] == pytest.approx(sd, rel=1e-3, abs=1e-9)
