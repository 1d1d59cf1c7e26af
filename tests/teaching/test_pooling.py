"""Three ways to pool: each method checked against an independent computation."""
from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.regression.mixed_linear_model import MixedLMParams

import datasets
from lmm_core import lmer
from lmm_core import DataError, LmmError
from teaching.pooling import RANDOM_KINDS, compare_pooling, pool_table_json, safe_start

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def unbalanced(sleep):
    rng = np.random.default_rng(0)
    return sleep.drop(index=rng.choice(len(sleep), 60, replace=False))


def rows(result, method):
    t = result.table
    return t[t["method"] == method].set_index("group")


# -- complete pooling -------------------------------------------------------------------
def test_complete_pooling_is_ols(sleep):
    result = compare_pooling(sleep, "Reaction", "Subject", "Days")
    ols = smf.ols("Reaction ~ Days", sleep).fit().params
    complete = rows(result, "complete")
    np.testing.assert_allclose(complete["intercept"], ols["Intercept"], rtol=1e-10)
    np.testing.assert_allclose(complete["slope"], ols["Days"], rtol=1e-10)


def test_complete_pooling_with_extra_covariate_is_ols_at_mean(iris):
    result = compare_pooling(iris, "Petal.Width", "Species", "Sepal.Length", extra_covariates=("Sepal.Width",))
    frame = iris.rename(columns=lambda c: c.replace(".", "_"))
    ols = smf.ols("Petal_Width ~ Sepal_Length + Sepal_Width", frame).fit().params
    mean_width = iris["Sepal.Width"].mean()
    assert result.held_at_mean == pytest.approx({"Sepal.Width": mean_width})
    np.testing.assert_allclose(result.coefficients["complete"][0], ols.to_numpy(), rtol=1e-10)
    complete = rows(result, "complete")
    np.testing.assert_allclose(complete["intercept"], ols["Intercept"] + ols["Sepal_Width"] * mean_width, rtol=1e-10)
    np.testing.assert_allclose(complete["slope"], ols["Sepal_Length"], rtol=1e-10)


# -- no pooling ---------------------------------------------------------------------------
def test_no_pooling_is_ols_per_group(unbalanced):
    result = compare_pooling(unbalanced, "Reaction", "Subject", "Days")
    none = rows(result, "none")
    for subject, part in unbalanced.groupby("Subject", observed=True):
        params = smf.ols("Reaction ~ Days", part).fit().params
        assert none.loc[str(subject), "intercept"] == pytest.approx(params["Intercept"], rel=1e-9)
        assert none.loc[str(subject), "slope"] == pytest.approx(params["Days"], rel=1e-9)
        assert none.loc[str(subject), "n"] == len(part)


def test_no_pooling_with_extra_covariate_shares_it(iris):
    """Intercept and slope vary: own intercept and Sepal.Length slope per species, one shared
    Sepal.Width coefficient (the fixed-effects model with the mixed model's varying terms)."""
    result = compare_pooling(iris, "Petal.Width", "Species", "Sepal.Length", extra_covariates=("Sepal.Width",))
    frame = iris.rename(columns=lambda c: c.replace(".", "_"))
    ols = smf.ols("Petal_Width ~ 0 + Species + Species:Sepal_Length + Sepal_Width", frame).fit().params
    for j, species in enumerate(result.levels):
        own = result.coefficients["none"][j]
        assert own[0] == pytest.approx(ols[f"Species[{species}]"], rel=1e-8)
        assert own[1] == pytest.approx(ols[f"Species[{species}]:Sepal_Length"], rel=1e-8)
        assert own[2] == pytest.approx(ols["Sepal_Width"], rel=1e-8)
        line = rows(result, "none").loc[species]
        assert line["intercept"] == pytest.approx(own[0] + own[2] * iris["Sepal.Width"].mean())


@pytest.mark.parametrize("random, formula", [
    ("intercept", "Reaction ~ 0 + Subject + Days"),
    ("slope", "Reaction ~ 1 + Subject:Days"),
])
def test_no_pooling_matches_the_random_part(unbalanced, random, formula):
    """Random intercept: y ~ x + group (own intercept, one slope); random slope: one intercept, own slope."""
    result = compare_pooling(unbalanced, "Reaction", "Subject", "Days", random=random)
    frame = unbalanced.assign(Subject=unbalanced["Subject"].astype(str))
    ols = smf.ols(formula, frame).fit().params
    none = rows(result, "none").loc[result.levels]
    if random == "intercept":
        np.testing.assert_allclose(none["slope"], ols["Days"], rtol=1e-9)
        np.testing.assert_allclose(none["intercept"], [ols[f"Subject[{s}]"] for s in result.levels], rtol=1e-9)
    else:
        np.testing.assert_allclose(none["intercept"], ols["Intercept"], rtol=1e-9)
        np.testing.assert_allclose(none["slope"], [ols[f"Subject[{s}]:Days"] for s in result.levels], rtol=1e-9)


@pytest.mark.parametrize("name, random", [("sleepstudy", "intercept"), ("sleepstudy", "slope"),
                                          ("gpa", "intercept")])
def test_partial_pooling_lies_between_complete_and_matched_no_pooling(name, random):
    """Balanced data, one varying coefficient: every group's mixed-model estimate lies between
    complete pooling and its own (matched) no-pooling estimate."""
    from teaching.pooling import between, varying_names

    info = datasets.info(name)
    result = compare_pooling(datasets.load(name), info.response, info.group, info.covariate, random=random)
    (coefficient,) = varying_names(result)
    inside = between(result, coefficient)
    assert len(inside) == result.data.n_groups and inside.all()


def test_partial_pooling_between_in_unbalanced_data_nearly_always(unbalanced):
    from teaching.pooling import between

    result = compare_pooling(unbalanced, "Reaction", "Subject", "Days", random="intercept")
    assert between(result, "intercept").mean() >= 0.8


def test_walkthrough_subject_308_mixed_between_fixed_and_own(sleep):
    """The numbers of walkthrough step 4: fixed 251.4 < mixed < own for subject 308."""
    result = compare_pooling(sleep, "Reaction", "Subject", "Days", random="intercept")
    t = result.table[result.table["group"] == "308"].set_index("method")["intercept"]
    assert t["complete"] < t["partial"] < t["none"]


def test_no_pooling_without_covariate_is_group_mean(sleep):
    result = compare_pooling(sleep, "Reaction", "Subject", random="intercept")
    means = sleep.groupby("Subject", observed=True)["Reaction"].mean()
    none = rows(result, "none")
    np.testing.assert_allclose(none.loc[[str(s) for s in means.index], "intercept"], means.to_numpy(), rtol=1e-12)
    assert result.table["slope"].isna().all()
    assert result.lines.empty
    assert result.formula == "Reaction ~ 1 + (1 | Subject)"
    assert all(row["slope"] is None for row in pool_table_json(result))


# -- partial pooling ---------------------------------------------------------------------
@pytest.mark.parametrize("random, formula", [
    ("intercept", "Reaction ~ Days + (1 | Subject)"),
    ("slope", "Reaction ~ Days + (0 + Days | Subject)"),
    ("both", "Reaction ~ Days + (Days | Subject)"),
    ("uncorrelated", "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)"),
])
def test_partial_pooling_is_lmer_coef(sleep, random, formula):
    result = compare_pooling(sleep, "Reaction", "Subject", "Days", random=random)
    assert result.formula == formula
    reference = lmer(formula, sleep)
    coef = reference.coef["Subject"].loc[result.levels, ["(Intercept)", "Days"]].to_numpy()
    np.testing.assert_allclose(result.coefficients["partial"], coef, rtol=1e-6, atol=1e-6)
    partial = rows(result, "partial")
    np.testing.assert_allclose(partial[["intercept", "slope"]].to_numpy(), coef, rtol=1e-6, atol=1e-6)
    assert result.fit.objective == pytest.approx(reference.objective, abs=1e-6)
    if random == "slope":  # fixed intercept: every group has the population intercept
        np.testing.assert_allclose(partial["intercept"], reference.fixef["(Intercept)"], rtol=1e-9)
    if random == "intercept":  # fixed slope
        np.testing.assert_allclose(partial["slope"], reference.fixef["Days"], rtol=1e-9)


@pytest.mark.parametrize("random", ["both", "uncorrelated"])
def test_partial_pooling_unbalanced_matches_statsmodels(unbalanced, random):
    """An optimizer independent of the engine's: statsmodels' MixedLM (REML)."""
    result = compare_pooling(unbalanced, "Reaction", "Subject", "Days", random=random)
    groups = unbalanced["Subject"].astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if random == "both":
            md = smf.mixedlm("Reaction ~ Days", unbalanced, groups=groups, re_formula="~Days").fit(reml=True)
        else:
            free = MixedLMParams.from_components(fe_params=np.ones(2), cov_re=np.eye(2))
            md = smf.mixedlm("Reaction ~ Days", unbalanced, groups=groups, re_formula="~Days").fit(
                reml=True, free=free)
    assert -result.fit.objective / 2 == pytest.approx(md.llf, abs=1e-4)
    coef = np.array([md.fe_params.to_numpy() + md.random_effects[g].to_numpy() for g in result.levels])
    np.testing.assert_allclose(result.coefficients["partial"], coef, rtol=1e-3)
    # The engine's own formula path reaches the same optimum or a worse one, never a better one.
    reference = lmer(result.formula, unbalanced)
    assert result.fit.objective <= reference.objective + 1e-6


@pytest.mark.parametrize("random", ["intercept", "slope", "both"])
def test_partial_pooling_gpa_is_lmer_coef(random):
    gpa = datasets.load("gpa")
    result = compare_pooling(gpa, "gpa", "student", "occasion", random=random)
    reference = lmer(result.formula, gpa)
    coef = reference.coef["student"].loc[result.levels, ["(Intercept)", "occasion"]].to_numpy()
    np.testing.assert_allclose(result.coefficients["partial"], coef, rtol=1e-5, atol=1e-6)
    assert result.population["intercept"] == pytest.approx(2.599, abs=5e-4)
    assert result.population["slope"] == pytest.approx(0.106, abs=5e-4)


def test_iris_partial_pooling_is_lmer_coef(iris):
    result = compare_pooling(iris, "Petal.Width", "Species", "Sepal.Length", extra_covariates=("Sepal.Width",))
    assert result.formula == "Petal.Width ~ Sepal.Length + Sepal.Width + (Sepal.Length | Species)"
    reference = lmer("Petal.Width ~ Sepal.Width + Sepal.Length + (1 + Sepal.Length | Species)", iris)
    coef = reference.coef["Species"].loc[result.levels, result.fixed_names].to_numpy()
    np.testing.assert_allclose(result.coefficients["partial"], coef, rtol=1e-5, atol=1e-6)
    fe = reference.fixef
    mean_width = iris["Sepal.Width"].mean()
    assert result.population["intercept"] == pytest.approx(fe["(Intercept)"] + fe["Sepal.Width"] * mean_width, rel=1e-6)
    assert result.population["slope"] == pytest.approx(fe["Sepal.Length"], rel=1e-6)


def test_balanced_random_intercept_fixed_effects_equal_ols(sleep, unbalanced):
    ols = smf.ols("Reaction ~ Days", sleep).fit().params.to_numpy()
    balanced = compare_pooling(sleep, "Reaction", "Subject", "Days", random="intercept")
    np.testing.assert_allclose(balanced.fit.beta, ols, rtol=1e-6)
    ols_unbalanced = smf.ols("Reaction ~ Days", unbalanced).fit().params.to_numpy()
    fit_unbalanced = compare_pooling(unbalanced, "Reaction", "Subject", "Days", random="intercept").fit
    assert np.abs(fit_unbalanced.beta - ols_unbalanced).max() > 1e-3


# -- the table, shrinkage and lines ---------------------------------------------------------
def test_table_layout_and_shrinkage(sleep):
    result = compare_pooling(sleep, "Reaction", "Subject", "Days")
    t = result.table
    assert list(t.columns) == ["group", "method", "intercept", "slope", "n", "estimable", "shrinkage",
                               "shrinkage_fraction", "pull_intercept", "pull_slope"]
    assert len(t) == 3 * 18
    assert list(t["method"][:3]) == ["complete", "none", "partial"]
    assert t.loc[t["method"] != "partial", ["shrinkage", "shrinkage_fraction"]].isna().all().all()
    none, partial = rows(result, "none"), rows(result, "partial")
    own = none[["intercept", "slope"]].to_numpy()
    moved = np.hypot(*(partial[["intercept", "slope"]].to_numpy() - own).T)
    pop = np.array([result.population["intercept"], result.population["slope"]])
    np.testing.assert_allclose(partial["shrinkage"], moved, rtol=1e-12)
    np.testing.assert_allclose(partial["shrinkage_fraction"], moved / np.hypot(*(pop - own).T), rtol=1e-12)
    assert result.group_sizes.sum() == 180 and result.dropped_rows == 0


def test_lines(sleep):
    result = compare_pooling(sleep, "Reaction", "Subject", "Days")
    lines = result.lines
    assert set(lines["method"]) == {"complete", "none", "partial", "population"}
    pop = lines[lines["group"] == "(population)"]
    np.testing.assert_allclose(pop["x"], [0, 9])
    np.testing.assert_allclose(pop["y"], result.population["intercept"] + result.population["slope"] * pop["x"])
    one = lines[(lines["group"] == "308") & (lines["method"] == "partial")]
    row = rows(result, "partial").loc["308"]
    np.testing.assert_allclose(one["y"], row["intercept"] + row["slope"] * one["x"])
    assert len(result.method_lines("none")) == 2 * 18 + 2


def test_missing_values_are_dropped_and_counted(sleep):
    holes = sleep.copy()
    holes.loc[[0, 5, 17], "Reaction"] = np.nan
    holes.loc[40, "Days"] = np.nan
    holes["Subject"] = holes["Subject"].astype(object)
    holes.loc[100, "Subject"] = None
    result = compare_pooling(holes, "Reaction", "Subject", "Days")
    assert result.dropped_rows == 5
    assert result.fit.nobs == 175
    reference = lmer("Reaction ~ Days + (Days | Subject)", holes)
    coef = reference.coef["Subject"].loc[result.levels, ["(Intercept)", "Days"]].to_numpy()
    np.testing.assert_allclose(result.coefficients["partial"], coef, rtol=1e-5)


def test_non_estimable_groups_are_kept_and_marked(sleep):
    extra = pd.DataFrame({
        "Reaction": [300.0, 280.0, 290.0, 310.0],
        "Days": [4.0, 5.0, 5.0, 5.0],
        "Subject": ["single", "flat", "flat", "flat"],  # one observation; constant covariate
    })
    data = pd.concat([sleep.astype({"Subject": str}), extra], ignore_index=True)
    result = compare_pooling(data, "Reaction", "Subject", "Days")
    none, partial = rows(result, "none"), rows(result, "partial")
    for g in ("single", "flat"):
        assert not none.loc[g, "estimable"]
        assert np.isnan(none.loc[g, "intercept"]) and np.isnan(none.loc[g, "slope"])
        assert np.isfinite(partial.loc[g, ["intercept", "slope"]].astype(float)).all()
        assert np.isnan(partial.loc[g, "shrinkage"])
    assert none.loc["308", "estimable"]
    assert not result.estimable["flat"]
    assert result.group_sizes["flat"] == 3
    none_lines = result.method_lines("none", include_population=False)
    assert not none_lines["group"].isin(["single", "flat"]).any()
    reference = lmer("Reaction ~ Days + (Days | Subject)", data)
    coef = reference.coef["Subject"].loc[result.levels, ["(Intercept)", "Days"]].to_numpy()
    np.testing.assert_allclose(result.coefficients["partial"], coef, rtol=1e-5)
    json.dumps(pool_table_json(result), allow_nan=False)  # NaN became None


def test_group_column_of_numbers_or_text(sleep):
    as_int = sleep.assign(Subject=sleep["Subject"].astype(int))
    as_text = sleep.assign(Subject=sleep["Subject"].astype(str))
    a = compare_pooling(as_int, "Reaction", "Subject", "Days")
    b = compare_pooling(as_text, "Reaction", "Subject", "Days")
    assert a.levels == b.levels == [str(s) for s in sleep["Subject"].cat.categories]
    np.testing.assert_allclose(a.coefficients["partial"], b.coefficients["partial"])


def test_warm_start_gives_the_same_fit(sleep):
    first = compare_pooling(sleep, "Reaction", "Subject", "Days")
    again = compare_pooling(sleep, "Reaction", "Subject", "Days", start=first.fit.theta)
    np.testing.assert_allclose(again.coefficients["partial"], first.coefficients["partial"], rtol=1e-7)
    # A start on the boundary is moved off it; one of the wrong length is ignored.
    assert safe_start([0.0, 0.0, 0.0], "both")[0] > 0
    assert safe_start([1.0], "both") is None
    third = compare_pooling(sleep, "Reaction", "Subject", "Days", start=[0.0, 0.0, 0.0])
    np.testing.assert_allclose(third.coefficients["partial"], first.coefficients["partial"], rtol=1e-5)


def test_ml_fit(sleep):
    result = compare_pooling(sleep, "Reaction", "Subject", "Days", reml=False)
    reference = lmer("Reaction ~ Days + (Days | Subject)", sleep, reml=False)
    assert not result.reml
    assert result.fit.objective == pytest.approx(reference.objective, abs=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    (dict(response="Nope", group="Subject", covariate="Days"), "no column"),
    (dict(response="Subject", group="Days", covariate=None, random="intercept"), "numeric"),
    (dict(response="Reaction", group="Subject", covariate="Days", random="sideways"), "random must be"),
    (dict(response="Reaction", group="Subject", covariate=None, random="both"), "needs a covariate"),
    (dict(response="Reaction", group="Subject", covariate="Reaction"), "different columns"),
])
def test_bad_input_raises_data_error(sleep, kwargs, message):
    with pytest.raises(DataError, match=message):
        compare_pooling(sleep, **kwargs)


def test_constant_covariate_and_single_group_raise(sleep):
    with pytest.raises(DataError, match="constant or collinear"):
        compare_pooling(sleep.assign(Days=1.0), "Reaction", "Subject", "Days")
    with pytest.raises(LmmError):
        compare_pooling(sleep[sleep["Subject"] == "308"], "Reaction", "Subject", "Days")


# -- random small data: a result or an LmmError, nothing else ----------------------------------
@st.composite
def small_frames(draw):
    n = draw(st.integers(0, 14))
    value = st.one_of(st.floats(-50, 50, allow_nan=False), st.just(np.nan))
    return pd.DataFrame({
        "y": draw(st.lists(value, min_size=n, max_size=n)),
        "x": draw(st.lists(st.sampled_from([0.0, 1.0, 2.0, 3.0, np.nan]), min_size=n, max_size=n)),
        "g": draw(st.lists(st.sampled_from(["a", "b", "c", "d", None]), min_size=n, max_size=n)),
    })


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=small_frames(), random=st.sampled_from(RANDOM_KINDS), with_x=st.booleans())
def test_random_small_frames_give_a_result_or_an_lmm_error(frame, random, with_x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = compare_pooling(frame, "y", "g", "x" if with_x else None, random=random)
        except LmmError:
            return
    m = len(result.levels)
    assert len(result.table) == 3 * m
    assert np.all(np.isfinite(result.coefficients["partial"]))
    assert len(pool_table_json(result)) == 3 * m


# -- the command line ----------------------------------------------------------------------------
def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "lmm_core", "pool", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(not (REPO / "lmm_core" / "cli.py").exists(), reason="no command line module")
def test_cli_pool_json(sleep):
    proc = run_cli("--data", "datasets/sleepstudy.csv", "--response", "Reaction", "--group", "Subject",
                   "--covariate", "Days", "--json")
    assert proc.returncode == 0, proc.stderr
    table = json.loads(proc.stdout)
    assert len(table) == 3 * 18
    assert set(table[0]) == {"group", "method", "intercept", "slope", "n", "estimable", "shrinkage"}
    expected = compare_pooling(sleep, "Reaction", "Subject", "Days")
    assert table == json.loads(json.dumps(pool_table_json(expected)))
    assert [row["group"] for row in table[:6:3]] == ["308", "309"]  # numeric ids in numeric order


@pytest.mark.skipif(not (REPO / "lmm_core" / "cli.py").exists(), reason="no command line module")
def test_cli_pool_text_and_errors():
    proc = run_cli("--data", "datasets/gpa.csv", "--response", "gpa", "--group", "student", "--random",
                   "intercept", "--ml")
    assert proc.returncode == 0, proc.stderr
    assert "gpa ~ 1 + (1 | student)  (ML)" in proc.stdout
    bad = run_cli("--data", "datasets/sleepstudy.csv", "--response", "Reaction", "--group", "Nope")
    assert bad.returncode == 2
    assert bad.stdout == "" and len(bad.stderr.strip().splitlines()) == 1
    assert "Nope" in bad.stderr
    missing = run_cli("--data", "no_such_file.csv", "--response", "y", "--group", "g")
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("random, shared, own", [("intercept", "slope", "intercept"),
                                                 ("slope", "intercept", "slope")])
def test_cli_pool_matched_no_pooling(random, shared, own):
    """--random intercept: every group has the same no-pooling slope (own intercepts);
    --random slope: the same no-pooling intercept (own slopes)."""
    proc = run_cli("--data", "datasets/sleepstudy.csv", "--response", "Reaction", "--group", "Subject",
                   "--covariate", "Days", "--random", random, "--json")
    assert proc.returncode == 0, proc.stderr
    none = [row for row in json.loads(proc.stdout) if row["method"] == "none"]
    assert len(none) == 18
    assert max(r[shared] for r in none) - min(r[shared] for r in none) < 1e-9
    assert max(r[own] for r in none) - min(r[own] for r in none) > 10
    text = run_cli("--data", "datasets/sleepstudy.csv", "--response", "Reaction", "--group", "Subject",
                   "--covariate", "Days", "--random", random)
    assert "No pooling here means" in text.stdout


@pytest.mark.parametrize("data,random", [("sleepstudy", "both"), ("gpa", "both"), ("iris", "intercept")])
def test_centred_columns_are_the_centred_table_as_arrays(data, random):
    """The lab reads the pooling table at the covariate's mean as arrays; they hold the same numbers
    as ``centred_table``: every intercept moved to intercept + slope · x̄, the rest untouched."""
    from teaching.pooling import centred_columns, centred_table, covariate_mean

    info = datasets.info(data)
    result = compare_pooling(datasets.load(data), info.response, info.group, info.covariate, random=random)
    columns, table = centred_columns(result), centred_table(result)
    assert list(columns) == list(table.columns)
    for name in table.columns:
        pd.testing.assert_series_equal(pd.Series(columns[name], name=name), table[name], check_dtype=False)
    xbar = covariate_mean(result)
    assert xbar is not None and abs(xbar) > 0.1
    expected = result.columns["intercept"] + result.columns["slope"] * xbar
    np.testing.assert_array_equal(np.asarray(columns["intercept"], float), expected)
