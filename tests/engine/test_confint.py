"""Confidence intervals against real lme4 (tests/data/lme4_confint, made by make_reference.R
with lme4 1.1-31): confint(fit, method = "profile" | "Wald", oldNames = FALSE).

Tolerances:
* Wald: 1e-6 of the standard error (it is estimate ± z·SE; what remains is the fit's own
  agreement with lme4's optimum).
* profile: 1e-3 relative, of max(|bound|, interval width) so that a bound near 0 (cake's
  ``recipeC:temperature^4`` ends at −0.0046) is not held to a relative test of a tiny number.
  The agreement found is ≤ 5e-5: lme4 interpolates a spline through its profile points, this
  engine solves for the end points exactly.
* the three models where lme4 itself warned ("non-monotonic profile", "bad spline fit ...:
  falling back to linear interpolation": iris_slope, boundary_ri, sleep_quad) are tested separately:
  where lme4's bound is provably not the profile bound (lme4's own deviance function, at the
  parameter values stored in the reference, is below the χ² cut-off there: ``_checks``), this
  engine's interval must be wider; where lme4 fell back to linear interpolation, 2e-2; the
  other parameters of those models at 1e-3.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import datasets
from lmm_core import LmmError, format_confint, lmer, profile
from lmm_core.intervals import level_labels

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
REF = json.loads((DATA / "lme4_confint" / "lme4_confint.json").read_text())
MODELS = [k for k in REF if not k.startswith("_")]
CLEAN = ["sleep_corr", "sleep_corr_ml", "sleep_diag", "sleep_ri", "penicillin_ml", "gpa_cat", "gpa_slope", "cake"]
WARNED = ["iris_slope", "boundary_ri", "sleep_quad"]
CHI2 = float(stats.chi2.ppf(0.95, 1))


def load_cake() -> pd.DataFrame:
    """lme4's cake: temperature is an ordered factor (R's Ord.factor) with 6 levels."""
    cake = pd.read_csv(DATA / "lme4_confint" / "cake.csv", dtype={"replicate": str, "recipe": str})
    cake["temperature"] = pd.Categorical(cake["temperature"], categories=[175, 185, 195, 205, 215, 225],
                                         ordered=True)
    return cake


def load(name: str) -> pd.DataFrame:
    if name in ("sleepstudy", "iris", "gpa"):
        return datasets.load(name)
    if name == "sleepstudy_quad":  # a third random-effects column: three correlations
        data = datasets.load("sleepstudy")
        data["D2"] = (data["Days"] - 4.5) ** 2 / 10
        return data
    if name == "penicillin":
        return pd.read_csv(DATA / "lme4_confint" / "penicillin.csv", dtype={"plate": str, "sample": str})
    if name == "boundary":
        return pd.read_csv(DATA / "lme4_extra" / "boundary.csv", dtype={"g": str})
    if name == "cake":
        return load_cake()
    raise KeyError(name)


@lru_cache(maxsize=None)
def fit_of(model_id: str):
    ref = REF[model_id]
    return lmer(ref["formula"], load(ref["data"]), reml=ref["reml"])


@lru_cache(maxsize=None)
def profile_of(model_id: str, level: float = 0.95):
    return profile(fit_of(model_id), level=level)


def ref_table(model_id: str, method: str, level: str = "0.95") -> pd.DataFrame:
    t = REF[model_id][method][level]
    lower = [math.nan if v is None else v for v in t["lower"]]
    upper = [math.nan if v is None else v for v in t["upper"]]
    return pd.DataFrame({t["columns"][0]: lower, t["columns"][1]: upper}, index=t["names"], dtype=float)


def assert_close_intervals(mine: pd.DataFrame, theirs: pd.DataFrame, rel: float, rows=None):
    rows = list(theirs.index) if rows is None else rows
    for name in rows:
        lo, hi = theirs.loc[name]
        scale = max(abs(lo), abs(hi), hi - lo)
        for mine_v, ref_v in zip(mine.loc[name], (lo, hi)):
            assert abs(mine_v - ref_v) <= rel * max(abs(ref_v), hi - lo, 1e-12 * scale), (name, mine_v, ref_v)


# -- the fits themselves (the data are loaded as lme4 had them) ------------------------------
@pytest.mark.parametrize("model_id", MODELS)
def test_fit_is_lme4s(model_id):
    ref, fit = REF[model_id], fit_of(model_id)
    # 1e-5: the crossed fit (Penicillin, no analytic gradient) stops 1.1e-6 above lme4's deviance
    assert fit.objective == pytest.approx(ref["objective"], abs=1e-5)
    assert list(fit.fixef.index) == list(ref["fixef"])
    se = np.array(list(ref["fixef_se"].values()))
    assert np.all(np.abs(fit.fixef.to_numpy() - np.array(list(ref["fixef"].values()))) <= 1e-5 * se)


# -- Wald ------------------------------------------------------------------------------------
# Wald bounds are β ± z·SE, so they agree with lme4's as far as the fits agree. Relative
# tolerance 1e-6 where the optima agree to ~1e-6 in θ; looser where one optimiser stopped
# earlier: sleep_corr_ml (lme4 stopped 2.6e-8 above this engine's deviance, θ differs by
# 3.5e-5), iris_slope (θ differs by 1.3e-5), penicillin_ml (this engine's crossed fit, with a
# numerical gradient, stops 1.1e-6 above lme4's deviance), sleep_quad (lme4 stopped 7.9e-9
# above this engine's REML criterion, θ differs by up to 4.3e-4), gpa_slope (lme4 stopped 2.2e-7
# above, θ differs by 1.9e-4). test_wald_is_estimate_pm_z_se shows that the definition itself
# is lme4's to 1e-9.
WALD_REL = {"sleep_corr_ml": 3e-6, "iris_slope": 1e-5, "penicillin_ml": 3e-5, "sleep_quad": 2e-5,
            "gpa_slope": 1e-5}


@pytest.mark.parametrize("model_id", MODELS)
def test_wald_matches_lme4(model_id):
    fit, theirs = fit_of(model_id), ref_table(model_id, "wald")
    mine = fit.confint(method="Wald")
    assert list(mine.index) == list(theirs.index)
    assert list(mine.columns) == list(theirs.columns)
    n_var = len(mine) - len(fit.fixed_names)
    assert mine.iloc[:n_var].isna().all().all()  # lme4 prints NA for the variance parameters
    assert theirs.iloc[:n_var].isna().all().all()
    rel = WALD_REL.get(model_id, 1e-6)
    names = fit.fixed_names
    assert np.allclose(mine.loc[names].to_numpy(), theirs.loc[names].to_numpy(), rtol=rel, atol=0)


@pytest.mark.parametrize("model_id", MODELS)
def test_wald_is_estimate_pm_z_se(model_id):
    ref, theirs = REF[model_id], ref_table(model_id, "wald")
    z = stats.norm.ppf(0.975)
    beta, se = np.array(list(ref["fixef"].values())), np.array(list(ref["fixef_se"].values()))
    names = list(ref["fixef"])
    assert np.allclose(theirs.loc[names].to_numpy(), np.column_stack([beta - z * se, beta + z * se]),
                       rtol=1e-9)
    fit = fit_of(model_id)
    mine = fit.confint("Wald").loc[names].to_numpy()
    b, s = fit.fixef.to_numpy(), fit.fixef_se.to_numpy()
    assert np.allclose(mine, np.column_stack([b - z * s, b + z * s]), rtol=1e-12)


def test_wald_at_other_levels():
    fit = fit_of("sleep_corr")
    for level in ("0.9", "0.99"):
        theirs = ref_table("sleep_corr", "wald", level)
        mine = fit.confint("wald", level=float(level))
        assert list(mine.columns) == list(theirs.columns)
        names = fit.fixed_names
        assert np.allclose(mine.loc[names].to_numpy(), theirs.loc[names].to_numpy(), rtol=1e-6, atol=0)


# -- profile ---------------------------------------------------------------------------------
@pytest.mark.parametrize("model_id", CLEAN)
def test_profile_matches_lme4(model_id):
    theirs = ref_table(model_id, "profile")
    mine = profile_of(model_id).confint()
    assert list(mine.index) == list(theirs.index)
    assert list(mine.columns) == list(theirs.columns)
    assert_close_intervals(mine, theirs, 1e-3)


@pytest.mark.parametrize("level", ["0.9", "0.99"])
def test_profile_at_other_levels(level):
    theirs = ref_table("sleep_corr", "profile", level)
    mine = fit_of("sleep_corr").confint(level=float(level))
    assert list(mine.columns) == list(theirs.columns)
    assert_close_intervals(mine, theirs, 1e-3)


def test_reml_fit_is_profiled_on_the_ml_deviance():
    # lme4 refits by ML first: the REML and the ML fit give the same profile intervals
    reml, ml = profile_of("sleep_corr").confint(), profile_of("sleep_corr_ml").confint()
    assert np.allclose(reml.to_numpy(), ml.to_numpy(), rtol=1e-5)
    assert profile_of("sleep_corr").base_deviance == pytest.approx(REF["sleep_corr_ml"]["objective"], abs=1e-6)


def test_end_points_are_where_zeta_is_z():
    prof = profile_of("sleep_corr")
    z = stats.norm.ppf(0.975)
    for name, p in prof.parameters.items():
        curve = p.curve.set_index("value")["zeta"]
        assert curve[p.lower] == pytest.approx(-z, abs=1e-6), name
        assert curve[p.upper] == pytest.approx(z, abs=1e-6), name
        assert curve[p.estimate] == 0.0
        assert np.all(np.diff(p.curve["zeta"]) > 0), name  # monotone walk
        assert (p.curve["value"] == p.curve[name]).all()


def test_warned_models_bounds_at_the_limits():
    # an SD whose profile stays below the cut-off down to 0, a correlation at -1
    boundary = profile_of("boundary_ri").confint()
    assert boundary.loc["sd_(Intercept)|g"].iloc[0] == 0.0
    iris = profile_of("iris_slope").confint()
    assert iris.loc["cor_Petal.Length.(Intercept)|Species"].iloc[0] == -1.0
    for model_id, table in (("boundary_ri", boundary), ("iris_slope", iris)):
        theirs = ref_table(model_id, "profile")
        assert list(table.index) == list(theirs.index) and list(table.columns) == list(theirs.columns)


def test_where_lme4s_bound_is_inside_the_region_ours_is_wider():
    for check in REF["_checks"]:
        # lme4's own deviance at the stored point is below the cut-off: its bound is not the end
        assert check["deviance_minus_minimum"] < CHI2 - 1e-3, check
        table = profile_of(check["model"]).confint()
        lo, hi = table.loc[check["parameter"]]
        if check["side"] == "lower":
            assert lo < check["reported"], check
        else:
            assert hi > check["reported"], check
        # and our own deviance at that point is the one lme4's deviance function gives
        fit = fit_of(check["model"])
        if "at" in check:
            from lmm_core.intervals import _Profiler

            prof = _Profiler(fit)
            assert prof.deviance_v(np.array(check["at"])) - prof.base == pytest.approx(
                check["deviance_minus_minimum"], abs=1e-5)


def test_warned_models_other_parameters():
    checked = {(c["model"], c["parameter"], c["side"]) for c in REF["_checks"]}
    linear_fallback = {  # lme4: "bad spline fit for ...: falling back to linear interpolation"
        ("iris_slope", "sd_(Intercept)|Species"), ("iris_slope", "cor_Petal.Length.(Intercept)|Species"),
        ("iris_slope", "sd_Petal.Length|Species"), ("boundary_ri", "sd_(Intercept)|g"),
        ("sleep_quad", "cor_Days.(Intercept)|Subject"), ("sleep_quad", "cor_D2.(Intercept)|Subject"),
        ("sleep_quad", "cor_D2.Days|Subject"),
    }
    for model_id in WARNED:
        theirs = ref_table(model_id, "profile")
        mine = profile_of(model_id).confint()
        for name in theirs.index:
            rel = 2e-2 if (model_id, name) in linear_fallback else 1e-3
            lo, hi = theirs.loc[name]
            for side, mine_v, ref_v in (("lower", mine.loc[name].iloc[0], lo), ("upper", mine.loc[name].iloc[1], hi)):
                if (model_id, name, side) in checked:
                    continue  # test_where_lme4s_bound_is_inside_the_region_ours_is_wider
                assert abs(mine_v - ref_v) <= rel * max(abs(ref_v), hi - lo), (model_id, name, side, mine_v, ref_v)


# -- names, levels, parm, errors ---------------------------------------------------------------
@pytest.mark.parametrize("level, labels", [
    (0.95, ["2.5 %", "97.5 %"]), (0.9, ["5 %", "95 %"]), (0.99, ["0.5 %", "99.5 %"]),
    (0.999, ["0.05 %", "99.95 %"]), (0.8, ["10 %", "90 %"]), (0.68, ["16 %", "84 %"]),
    (0.975, ["1.25 %", "98.75 %"]), (1 / 3, ["33.3 %", "66.7 %"]), (0.9999, ["0.005 %", "99.995 %"]),
    (0.12345, ["43.8 %", "56.2 %"]),
])
def test_level_labels_as_r_formats_them(level, labels):
    assert level_labels(level) == labels  # lme4:::format.perc(c(a, 1 - a), 3), checked in R


def test_parm_selection():
    fit = fit_of("sleep_corr")
    assert list(fit.confint("Wald", parm="beta_").index) == ["(Intercept)", "Days"]
    assert list(fit.confint("Wald", parm="theta_").index) == [
        "sd_(Intercept)|Subject", "cor_Days.(Intercept)|Subject", "sd_Days|Subject", "sigma"]
    assert list(fit.confint("Wald", parm=[5, 0]).index) == ["sd_(Intercept)|Subject", "Days"]
    one = fit.confint(parm="sigma")
    assert list(one.index) == ["sigma"]
    assert_close_intervals(one, ref_table("sleep_corr", "profile").loc[["sigma"]], 1e-3)
    with pytest.raises(LmmError, match="Unknown parameter"):
        fit.confint(parm="nope")
    with pytest.raises(LmmError, match="method"):
        fit.confint(method="bootstrap")
    with pytest.raises(LmmError, match="level"):
        fit.confint(level=95)


def test_diagonal_terms_are_named_without_suffix():
    # (Days || Subject) is two terms of one factor; lme4 names both "...|Subject"
    assert list(fit_of("sleep_diag").confint("Wald").index)[:3] == [
        "sd_(Intercept)|Subject", "sd_Days|Subject", "sigma"]


@pytest.mark.parametrize("model_id, method", [("cake", "profile"), ("boundary_ri", "wald"),
                                              ("sleep_corr", "wald"), ("sleep_diag", "profile")])
def test_printed_as_r_prints_it(model_id, method):
    t = REF[model_id][method]["0.95"]
    assert format_confint(ref_table(model_id, method)) == "\n".join(t["printed"])


def test_profile_curve_interpolation_and_other_levels():
    prof = profile_of("sleep_corr")
    p = prof["sd_Days|Subject"]
    assert p.zeta_at([p.estimate])[0] == pytest.approx(0.0, abs=1e-9)
    # a narrower level from the same walk (interpolated, as lme4's confint of a profile)
    lo, hi = p.interval(0.9)
    theirs = ref_table("sleep_corr", "profile", "0.9").loc["sd_Days|Subject"]
    assert lo == pytest.approx(theirs.iloc[0], rel=1e-2) and hi == pytest.approx(theirs.iloc[1], rel=1e-2)
    frame = prof.frame()
    assert set(frame[".par"]) == set(prof.parameters)


# -- ordered factors: R's polynomial contrasts -------------------------------------------------
def test_cake_ordered_factor_gets_polynomial_contrasts():
    ref, fit = REF["cake"], fit_of("cake")
    assert fit.fixed_names == list(ref["fixef"])
    assert fit.fixed_names[3:8] == ["temperature.L", "temperature.Q", "temperature.C", "temperature^4",
                                    "temperature^5"]
    se = np.array(list(ref["fixef_se"].values()))
    assert np.all(np.abs(fit.fixef.to_numpy() - np.array(list(ref["fixef"].values()))) <= 1e-6 * se)
    assert np.allclose(fit.fixef_se.to_numpy(), se, rtol=1e-6)
    assert fit.objective == pytest.approx(ref["objective"], abs=1e-6)
    assert fit.sigma == pytest.approx(ref["sigma"], rel=1e-6)
    assert fit.varcorr[0].sd[0] == pytest.approx(ref["sd"][0], rel=1e-6)
    assert fit.theta == pytest.approx(ref["theta"], rel=1e-6)


def test_contr_poly_columns_are_rs():
    fit = fit_of("cake")
    X = pd.DataFrame(fit.model.X, columns=fit.fixed_names)
    first = X.iloc[:6][["temperature.L", "temperature.Q", "temperature.C", "temperature^4", "temperature^5"]]
    r_contr_poly_6 = np.array([  # print(contr.poly(6)) in R
        [-0.5976143, 0.5455447, -0.3726780, 0.1889822, -0.06299408],
        [-0.3585686, -0.1091089, 0.5217492, -0.5669467, 0.31497039],
        [-0.1195229, -0.4364358, 0.2981424, 0.3779645, -0.62994079],
        [0.1195229, -0.4364358, -0.2981424, 0.3779645, 0.62994079],
        [0.3585686, -0.1091089, -0.5217492, -0.5669467, -0.31497039],
        [0.5976143, 0.5455447, 0.3726780, 0.1889822, 0.06299408],
    ])
    assert np.allclose(first.to_numpy(), r_contr_poly_6, atol=1e-7)


def test_unordered_factor_keeps_treatment_contrasts():
    cake = load_cake()
    cake["temperature"] = cake["temperature"].cat.as_unordered()
    fit = lmer("angle ~ recipe + temperature + (1 | recipe:replicate)", cake)
    assert fit.fixed_names == ["(Intercept)", "recipeB", "recipeC", "temperature185", "temperature195",
                               "temperature205", "temperature215", "temperature225"]


def test_ordered_factor_predictions_use_the_same_coding():
    fit = fit_of("cake")
    new = load_cake().iloc[:12]
    assert np.allclose(fit.predict(new), fit.fitted_values[:12])
    assert np.allclose(fit.predict(new, include_random=False), fit.model.X[:12] @ fit.beta)
