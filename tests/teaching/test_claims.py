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
