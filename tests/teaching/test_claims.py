"""The claims the pages make, checked against the numbers they rely on (the direction asserted)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import datasets
from lmm_core import lmer
from teaching import anatomy
from teaching.pooling import (between, between_counts, between_sentence, centre_by_default, centred_table,
                              compare_pooling, mean_pull, no_pooling_meaning, pull_fraction, pull_phrase,
                              singular_message, singular_terms, varying_names)
from teaching.walkthrough_numbers import walkthrough_facts

REPO = Path(__file__).resolve().parents[2]
CASES = [(name, m.random) for name in datasets.names() for m in datasets.info(name).models]


def pooled(name, random):
    info = datasets.info(name)
    return compare_pooling(datasets.load(name), info.response, info.group, info.covariate, random=random,
                           extra_covariates=info.extra_covariates)


@pytest.mark.parametrize("name, random", CASES)
def test_between_sentence_counts_what_the_table_shows(name, random):
    result = pooled(name, random)
    text = between_sentence(result, datasets.info(name).group_label)
    for c, (k, n, outside) in between_counts(result).items():
        if k == n:
            assert f"for all {n}" in text.lower()
        else:
            assert f"for {k} of {n}" in text and "Why not always" in text
            assert outside and all(o in result.levels for o in outside)


@pytest.mark.parametrize("name, random", [c for c in CASES if c[1] in ("intercept", "slope")])
def test_one_coefficient_models_balanced_data_everyone_between(name, random):
    """Balanced built-in data with one varying coefficient: every group's mixed estimate lies between
    the fixed value and its matched own estimate (iris included: no group falls outside)."""
    result = pooled(name, random)
    (c,) = varying_names(result)
    assert between(result, c, table=centred_table(result), reference="population").all()


def test_pull_fraction_matches_the_arrow_and_words():
    assert pull_fraction(10.0, 7.0, 0.0) == pytest.approx(0.3)
    assert "past" in pull_phrase(float(pull_fraction(0.07, -0.11, 0.018)), "slope")  # 0.07 → −0.11, fixed 0.018
    assert "pushed away" in pull_phrase(-0.2, "intercept")
    assert "30% of the way" in pull_phrase(0.3, "intercept")


def test_mean_pull_random_intercept_balanced_is_one_minus_lambda():
    result = pooled("sleepstudy", "intercept")
    tau2, sigma2 = result.fit.varcorr[0].cov[0, 0], result.fit.sigma**2
    assert mean_pull(result)["intercept"] == pytest.approx(1 - tau2 / (tau2 + sigma2 / 10), rel=1e-8)


@pytest.mark.parametrize("name, random", CASES)
def test_partial_pull_on_each_group_agrees_with_its_arrow(name, random):
    result = pooled(name, random)
    t = result.table.set_index(["group", "method"])
    for c in varying_names(result):
        for grp in result.levels[:20]:
            own, mixed, pop = t.loc[(grp, "none"), c], t.loc[(grp, "partial"), c], result.population[c]
            assert t.loc[(grp, "partial"), f"pull_{c}"] == pytest.approx((own - mixed) / (own - pop), rel=1e-9)


def test_no_pooling_meaning_matches_the_model():
    assert "one slope for Days is shared" in no_pooling_meaning("intercept", "Days", "subject", (), "Reaction", "Subject")
    assert "one intercept is shared" in no_pooling_meaning("slope", "Days", "subject")
    assert "separate regression" in no_pooling_meaning("both", "Days", "subject")
    assert "Sepal.Width is shared" in no_pooling_meaning("both", "Sepal.Length", "species", ("Sepal.Width",))


def test_singular_fit_is_flagged_and_explained():
    iris = datasets.load("iris")
    result = compare_pooling(iris, "Petal.Width", "Species", "Petal.Length", random="both")
    assert result.fit.singular and singular_terms(result) == ["correlation"]
    assert abs(result.fit.varcorr[0].corr[0, 1]) > 0.999
    msg = singular_message(result, "species")
    assert "boundary (singular) fit" in msg and "complete pooling" in msg
    # the arrows end on one line: the mixed estimates are collinear
    partial = result.table[result.table["method"] == "partial"][["intercept", "slope"]].to_numpy()
    d = partial - partial.mean(axis=0)
    assert np.linalg.svd(d, compute_uv=False)[-1] < 1e-6 * np.linalg.svd(d, compute_uv=False)[0]
    assert singular_message(pooled("sleepstudy", "both")) is None


def test_centring_is_default_only_where_zero_is_far_from_the_data():
    assert centre_by_default(pooled("iris", "both"))
    assert not centre_by_default(pooled("sleepstudy", "both"))
    assert not centre_by_default(pooled("gpa", "both"))
    # centred intercepts of iris lie inside the data's range of Petal.Width, uncentred ones do not
    t = centred_table(pooled("iris", "both"))
    assert t["intercept"].between(-0.5, 3).all()


def test_fixed_effects_do_not_move_with_theta_in_balanced_data_but_do_when_unbalanced():
    info = datasets.info("sleepstudy")
    fit = lmer(info.model("ri").formula, datasets.load("sleepstudy"))
    at = anatomy.fit_at_theta(fit, fit.theta * 3)
    assert np.abs(at.fixef - fit.fixef).max() < 1e-8
    ufit, _ = anatomy.unbalanced_fit(info.model("ri").formula, datasets.load("sleepstudy"), info.group,
                                     info.covariate)
    uat = anatomy.fit_at_theta(ufit, ufit.theta * 3)
    assert np.abs(uat.fixef - ufit.fixef).max() > 1e-3


@pytest.mark.parametrize("reml, exact", [(False, True), (True, False)])
def test_modes_plus_conditional_variance_exact_for_ml_only(reml, exact):
    fit = lmer("Petal.Width ~ Sepal.Width + Sepal.Length + (1 | Species)", datasets.load("iris"), reml=reml)
    first = anatomy.spread_vs_variance(fit).iloc[0]
    gap = abs(first["Modes + conditional variance"] - first["Estimated SD"])
    assert (gap < 1e-4 * first["Estimated SD"]) == exact


def test_walkthrough_claims():
    sleep = walkthrough_facts("sleepstudy", datasets.load("sleepstudy"))
    assert sleep["modes_sd0"] < sleep["both_sd0"]  # "the estimated deviations spread less"
    iris = walkthrough_facts("iris", datasets.load("iris"))
    assert 0 < iris["setosa_slope_pull"] < 1  # "pulled part of the way to the fixed slope"
    assert iris["cp_slope"] > 3 * max(abs(iris["setosa_own_slope"]), abs(iris["setosa_mixed_slope"]))
    gpa = walkthrough_facts("gpa", datasets.load("gpa"))
    assert 0 < gpa["pull0"] < 1 and 0 < gpa["pull1"] < 1


def test_colour_words_match_the_method_colours():
    """The pages name the methods' colours as charts/base.py defines them; no 'red' or 'vermillion'."""
    from charts.base import METHOD_STYLE

    assert len({s["color"] for s in METHOD_STYLE.values()}) == 3
    assert [s["colour"] for s in METHOD_STYLE.values()] == ["orange", "blue", "purple"]
    files = list((REPO / "app_pages").glob("*.py")) + [REPO / "app_shell" / "walkthrough_content.py"]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(red|Red|vermillion)\b", text), path.name


def test_sleepstudy_correlation_is_near_zero_as_the_walkthrough_says():
    assert abs(walkthrough_facts("sleepstudy", datasets.load("sleepstudy"))["both_corr"]) < 0.3


@pytest.mark.parametrize("name", ["sleepstudy", "gpa"])
def test_arrows_point_inwards_on_the_rings(name):
    """'Every arrow points inwards': each mixed estimate is on a smaller ring than its own estimate."""
    from teaching.pooling import inward_share

    assert inward_share(pooled(name, "both")) == 1.0


# -- session 4: centring, pulls, modes' spread, singular terms, AIC verdict, class captions ---------
WITH_X = [c for c in CASES if datasets.info(c[0]).covariate is not None]


@pytest.mark.parametrize("name, random", WITH_X)
def test_centred_intercept_is_the_line_at_the_covariate_mean(name, random):
    from teaching.pooling import centred_population, covariate_mean

    result = pooled(name, random)
    xbar = covariate_mean(result)
    table = centred_table(result)
    for method in ("complete", "none", "partial"):
        rows = table[table["method"] == method].reset_index(drop=True)
        ok = rows["estimable"].to_numpy()
        codes = np.arange(len(result.levels))[ok]
        line = result.predict(method, np.full(codes.size, xbar), codes=codes)
        np.testing.assert_allclose(rows["intercept"].to_numpy(float)[ok], line, rtol=1e-10, atol=1e-10)
    pop = centred_population(result)
    assert pop["intercept"] == pytest.approx(float(result.predict("population", np.array([xbar]))[0]), abs=1e-10)


def test_predictions_path_intercept_at_mean_is_the_line_there():
    from teaching.predictions import partial_data_path

    info = datasets.info("iris")
    data = datasets.load("iris")
    path = partial_data_path(data, info.response, info.group, info.covariate, "setosa", ks=[0, 10, 50],
                             random="both", extra_covariates=info.extra_covariates)
    xbar = float(data[info.covariate].mean())
    t = path.table
    np.testing.assert_allclose(t["intercept_at_mean"], t["intercept"] + t["slope"] * xbar, rtol=1e-12)
    # Once the species has data, its line is far better known inside the data than at Sepal.Length = 0.
    seen = t["k"] > 0
    assert (t.loc[seen, "intercept_at_mean_sd"] < t.loc[seen, "intercept_sd"]).all()


def test_axis_and_switch_wording_is_one_wording():
    from teaching.pooling import axis_labels, centring_label, covariate_mean

    result = pooled("iris", "both")
    xbar = covariate_mean(result)
    assert axis_labels(result, True, "Petal.Width")[0] == f"Intercept: Petal.Width at Sepal.Length = {xbar:.3g} (its mean)"
    assert axis_labels(result, False, "Petal.Width")[0] == "Intercept: Petal.Width at Sepal.Length = 0 (lme4's)"
    assert centring_label("Sepal.Length", xbar) == ("Read intercepts at Sepal.Length = 5.84 (its mean) instead of at "
                                                    "Sepal.Length = 0 (lme4's)")


@pytest.mark.parametrize("name, random", CASES)
def test_arrow_pulls_are_the_arrows_and_mean_pull_their_weighted_mean(name, random):
    from teaching.pooling import arrow_pulls

    result = pooled(name, random)
    pulls = arrow_pulls(result)
    partial = result.table[result.table["method"] == "partial"].set_index("group")
    for c in varying_names(result):
        np.testing.assert_allclose(pulls[c].to_numpy(), partial[f"pull_{c}"].reindex(pulls.index).to_numpy(),
                                   rtol=1e-12, equal_nan=True)
    some = list(pulls.index[:3])
    sub = mean_pull(result, groups=some)
    none = result.table[(result.table["method"] == "none") & result.table["group"].isin(some)]
    for c, value in sub.items():
        own = none[c].to_numpy(float) - result.population[c]
        w = own**2 / np.sum(own**2)
        assert value == pytest.approx(float(np.sum(w * pulls.loc[some, c].to_numpy())), abs=1e-10)


def test_arrow_pull_equals_the_expected_pull_for_a_balanced_random_intercept():
    """The thinning page says so: for a random intercept in balanced data the arrow's pull is exactly
    conditional variance / variance between groups."""
    from teaching.pooling import arrow_pulls
    from teaching.shrinkage import pull_by_group

    for name in ("sleepstudy", "gpa"):
        result = pooled(name, "intercept")
        expected = pull_by_group(result.fit)["(Intercept)"]
        got = arrow_pulls(result)["intercept"].reindex(expected.index)
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-6)


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("name, random", CASES)
def test_modes_spread_sentence_says_more_exactly_when_the_modes_spread_more(name, random, reml):
    from teaching.pooling import modes_spread_sentence

    info = datasets.info(name)
    formula = next(m.formula for m in info.models if m.random == random)
    fit = lmer(formula, datasets.load(name), reml=reml)
    spread = anatomy.spread_vs_variance(fit)
    text = modes_spread_sentence(spread, info.group, info.n_groups, reml)
    more = bool((spread["SD of the modes"] > spread["Estimated SD"] * (1 + 1e-9)).any())
    assert ("spread *more*" in text) == more
    assert ("The modes spread less" in text) == (not more)
    for value in spread["SD of the modes"]:
        assert f"{value:.3g}" in text


def test_iris_ml_modes_spread_more_than_the_fitted_sd():
    """The case that made the old caption ('their spread is smaller than the fitted SD') false."""
    from teaching.pooling import modes_spread_sentence

    fit = lmer("Petal.Width ~ Sepal.Width + Sepal.Length + (1 | Species)", datasets.load("iris"), reml=False)
    spread = anatomy.spread_vs_variance(fit)
    assert float(spread["SD of the modes"].iloc[0]) > float(spread["Estimated SD"].iloc[0])
    assert "spread *more*" in modes_spread_sentence(spread, "Species", 3, False)


def test_boundary_parts_name_the_term_and_factor_at_zero():
    from teaching.pooling import boundary_parts

    fit = lmer("Reaction ~ Days + (1 | Subject) + (1 | Days)", datasets.load("sleepstudy"))
    assert fit.singular
    parts = boundary_parts(fit)
    assert len(parts) == 1 and "between levels of Days" in parts[0] and "Subject" not in parts[0]
    assert boundary_parts(lmer("Reaction ~ Days + (Days | Subject)", datasets.load("sleepstudy"))) == []


@pytest.mark.parametrize("seed, corr", [(1234, 0.0), (7, 0.0), (1234, 0.9)])
def test_aic_verdict_states_the_computed_margins(seed, corr):
    from teaching.walkthrough_numbers import aic_verdict, simulated_aic_comparison

    comparison = simulated_aic_comparison(seed, corr)
    text = aic_verdict(comparison)
    delta = comparison.table["Δ AIC"]
    margin = float(delta.drop(comparison.best).min())
    assert f"{margin:.1f} below the next model" in text
    assert ("too small to prefer" in text) == (margin < 2)
    plain = comparison.table.index[0]
    if plain != comparison.best:
        assert f"costs it {float(delta[plain]):.1f} AIC points" in text
    else:
        assert "random-intercept model wins" in text


def test_class_captions_follow_the_class_numbers():
    import pandas as pd

    from classroom.summaries import GroupSampling, cloud_sentence, size_sentence

    table = pd.DataFrame([
        {"method": "none", "coefficient": "intercept", "n": 5, "truth": 1.0, "mean": 1.0, "bias": 0.0, "spread": 0.05, "rmse": 0.05},
        {"method": "partial", "coefficient": "intercept", "n": 5, "truth": 1.0, "mean": 0.9, "bias": -0.1, "spread": 0.07, "rmse": 0.1},
        {"method": "none", "coefficient": "slope", "n": 5, "truth": 0.5, "mean": 0.5, "bias": 0.0, "spread": 0.2, "rmse": 0.2},
        {"method": "partial", "coefficient": "slope", "n": 5, "truth": 0.5, "mean": 0.3, "bias": -0.2, "spread": 0.05, "rmse": 0.2},
    ])
    summary = GroupSampling("07", (1.0, 0.5), pd.DataFrame(columns=["method", "intercept", "slope"]), table)
    text = cloud_sentence(summary, population=(0.8, 0.2), sd=(0.3, 0.2))
    assert "intercepts 0.07 against 0.05: the mixed model scatters more" in text
    assert "slopes 0.05 against 0.2: the mixed model scatters less" in text
    assert "nearer the population average" in text
    sizes = pd.DataFrame([
        {"size": 3, "method": "none", "coefficient": "intercept", "rmse": 1.0},
        {"size": 3, "method": "partial", "coefficient": "intercept", "rmse": 0.5},
        {"size": 10, "method": "none", "coefficient": "intercept", "rmse": 0.4},
        {"size": 10, "method": "partial", "coefficient": "intercept", "rmse": 0.5},
    ])
    said = size_sentence(sizes)
    assert "3 obs: +50%" in said and "10 obs: -25%" in said and "most for groups of 3" in said and "loses" in said


def test_population_colour_word_matches_the_theme():
    from charts import base

    for theme, word in (("light", "black"), ("dark", "white")):
        assert base.colour_word(theme) == word
        lum = base.luminance(base.palette(theme)["population"])
        assert (lum < 0.05) if word == "black" else (lum > 0.9)


def test_lrt_boundary_note_only_when_a_variance_is_added():
    from scipy import stats

    from teaching.lrt import boundary_note

    data = datasets.load("sleepstudy")
    one = lmer("Reaction ~ Days + (1 | Subject)", data, reml=False)
    both = lmer("Reaction ~ Days + (Days | Subject)", data, reml=False)
    uncorrelated = lmer("Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)", data, reml=False)
    chisq = 2 * (both.loglik - one.loglik)
    p = float(stats.chi2.sf(chisq, 2))
    note = boundary_note(one, both, chisq, 2, p)
    mixture = 0.5 * stats.chi2.sf(chisq, 1) + 0.5 * stats.chi2.sf(chisq, 2)
    assert f"p = {mixture:.3g}" in note and mixture < p
    assert boundary_note(uncorrelated, both, 0.06, 1, 0.8) == ""  # a correlation is not on a boundary
    other_fixed = lmer("Reaction ~ 1 + (Days | Subject)", data, reml=False)
    assert boundary_note(other_fixed, both, 10.0, 1, 0.001) == ""
