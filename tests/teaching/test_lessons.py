"""The walkthrough's numbers (teaching.walkthrough_numbers) against lm/lme4 output, and its content (lessons.py)."""
import re

import numpy as np
import pytest

import datasets
from app_shell import walkthrough_content as lessons
from teaching import walkthrough_numbers as numbers
from lmm_core import lmer
from lmm_core import DataError


# -- Methods 1 and 2 (lm output in the seed material) --------------------------------------
def test_one_regression_matches_lm(sleep):
    fit = numbers.ols_line(sleep["Days"], sleep["Reaction"])
    assert fit.intercept == pytest.approx(251.405, abs=1e-3)
    assert fit.slope == pytest.approx(10.467, abs=1e-3)
    assert fit.se_intercept == pytest.approx(6.610, abs=1e-3)
    assert fit.se_slope == pytest.approx(1.238, abs=1e-3)
    assert fit.sigma == pytest.approx(47.71, abs=1e-2)
    assert fit.r2 == pytest.approx(0.2865, abs=1e-4)


def test_line_through_day_means_is_the_same_line_with_smaller_errors(sleep):
    table = numbers.one_line_and_means(sleep, "Reaction", "Days")
    means = numbers.means_by_x(sleep, "Reaction", "Days")
    by_means = numbers.ols_line(means["x"], means["mean"])
    assert list(means["n"]) == [18] * 10
    assert by_means.se_intercept == pytest.approx(2.9111, abs=1e-4)
    assert by_means.se_slope == pytest.approx(0.5453, abs=1e-4)
    assert by_means.sigma == pytest.approx(4.953, abs=1e-3)
    assert by_means.r2 == pytest.approx(0.9788, abs=1e-4)
    assert table["Slope"].iloc[0] == pytest.approx(table["Slope"].iloc[1], abs=1e-10)
    assert table["Points used"].tolist() == [180, 10]


def test_ols_line_refuses_too_little_data():
    with pytest.raises(DataError):
        numbers.ols_line([1, 1, 1], [1, 2, 3])


# -- thinning -------------------------------------------------------------------------------
def test_thinned_pooling_keeps_the_first_days_and_draws_lines_over_the_full_range(sleep):
    t = numbers.thinned_pooling(sleep, "Reaction", "Subject", "Days", keep=3)
    assert len(t.kept) == 18 * 3 and len(t.hidden) == 18 * 7
    assert t.kept["x"].max() == 2 and t.hidden["x"].min() == 3
    assert set(t.lines["x"]) == {0.0, 9.0}
    own = t.lines[(t.lines["group"] == "308") & (t.lines["method"] == "none")]
    rows = sleep[(sleep["Subject"] == "308") & (sleep["Days"] < 3)]
    slope, intercept = np.polyfit(rows["Days"], rows["Reaction"], 1)
    assert own["y"].tolist() == pytest.approx([intercept, intercept + 9 * slope])


# -- fixed and random effects at a chosen θ -----------------------------------------------------
FORMULA_RI = "Reaction ~ Days + (1 | Subject)"


@pytest.fixture(scope="module")
def profile(sleep):
    return numbers.criterion_profile(FORMULA_RI, sleep, 3.0)


def test_fit_at_the_fitted_theta_is_the_fit(sleep, profile):
    fit = lmer(FORMULA_RI, sleep)
    again = numbers.fit_at_theta(profile.model, fit.theta)
    assert np.allclose(again.beta, fit.beta)
    assert np.allclose(again.ranef["Subject"].to_numpy(), fit.ranef["Subject"].to_numpy())
    assert profile.best == pytest.approx(float(fit.theta[0]), rel=1e-6)
    assert profile.best_value == pytest.approx(1786.465, abs=1e-2)  # lme4: REML criterion 1786.5


def test_theta_zero_is_complete_pooling_and_large_theta_no_pooling(profile):
    at_zero = numbers.intercepts_at_theta(profile, 0.0)
    assert np.allclose(at_zero["mixed"], 251.405105, atol=1e-5)
    assert at_zero["sd_between"].iloc[0] == 0
    far = numbers.intercepts_at_theta(profile, 1e4)
    assert np.allclose(far["mixed"], far["own"], atol=1e-3)


def test_intercepts_at_fitted_theta_are_lme4_coef(profile):
    table = numbers.intercepts_at_theta(profile, profile.best).set_index("group")
    assert table.loc["308", "mixed"] == pytest.approx(292.1888, abs=1e-3)
    assert table.loc["309", "mixed"] == pytest.approx(173.5556, abs=1e-3)
    assert table.loc["308", "sd_between"] == pytest.approx(37.12, abs=1e-2)


def test_plausible_theta_range_holds_the_best_and_is_wide_for_three_species(profile, iris):
    lo, hi = profile.plausible
    assert lo < profile.best < hi and not profile.upper_open
    worse = profile.curve.set_index("theta")["criterion"] - profile.best_value
    assert worse.loc[lo] <= 3.85 and worse.loc[0.0] > 3.84
    three = numbers.criterion_profile(numbers.FORMULAS["iris"]["intercept"], iris, 30.0)
    assert three.plausible[1] / three.plausible[0] > 5


def test_fit_at_theta_refuses_a_negative_sd(profile):
    with pytest.raises(DataError):
        numbers.fit_at_theta(profile.model, [-1.0])


# -- shrinkage strength -----------------------------------------------------------------------
def test_weight_on_own_data_grows_with_group_size_and_group_variance():
    few, many = numbers.shrinkage_scenario(3, 1.0), numbers.shrinkage_scenario(20, 1.0)
    small, large = numbers.shrinkage_scenario(6, 0.25), numbers.shrinkage_scenario(6, 4.0)
    assert (many.own_weight > few.own_weight).all()
    assert (large.own_weight > small.own_weight).all()
    assert len(few.result.levels) == 40 and set(few.result.group_sizes) == {3}
    assert large.settings.sd_intercept == pytest.approx(2 * 0.213)


def test_estimated_random_effects_vary_less_than_the_variance_component(sleep):
    spread = numbers.ranef_spread(lmer(numbers.FORMULAS["sleepstudy"]["both"], sleep))
    assert (spread["modes_sd"] < spread["model_sd"]).all()
    assert spread["model_sd"].tolist() == pytest.approx([24.741, 5.922], abs=1e-3)


# -- predictions ---------------------------------------------------------------------------------
def test_three_predictions_new_is_fixed_effects_known_is_coef(sleep):
    p = numbers.three_predictions(sleep, "Reaction", "Subject", "Days", "308", keep=3)
    assert p.coefficients.loc["new"].tolist() == pytest.approx([251.405, 10.467], abs=1e-3)
    assert p.coefficients.loc["known"].tolist() == pytest.approx([253.6637, 19.6663], abs=1e-3)
    assert len(p.shown) == 3 and len(p.observed) == 10
    assert set(p.curves["kind"]) == {"known", "new", "partial"}
    new = p.curves[p.curves["kind"] == "new"]
    known = p.curves[p.curves["kind"] == "known"]
    assert (new["upper"] - new["lower"]).min() > (known["upper"] - known["lower"]).max()


def test_gpa_mixed_model_has_three_falling_trends(gpa):
    from teaching.pooling import compare_pooling

    result = compare_pooling(gpa, "gpa", "student", "occasion", random="both")
    counts = numbers.negative_slopes(result)
    assert counts["partial"] == 3 and counts["none"] > 10


# -- exercises ----------------------------------------------------------------------------------
def test_fixed_plus_random_equals_coef(sleep):
    table = numbers.fixef_plus_ranef(lmer(numbers.FORMULAS["sleepstudy"]["both"], sleep))
    assert table["largest difference"].max() < 1e-10
    assert table.loc["308", "(Intercept) (by hand)"] == pytest.approx(253.6637, abs=1e-4)
    assert table.loc["308", "Days (by hand)"] == pytest.approx(19.6662617, abs=1e-5)


def test_by_hand_rows_for_setosa(iris):
    rows = numbers.by_hand_rows(lmer(numbers.FORMULAS["iris"]["both"], iris), "setosa")
    assert rows["coef()"].tolist() == pytest.approx([-0.1400153, 0.2727164, -0.10956019], abs=1e-6)
    assert rows.loc["Sepal.Width", "Random effect"] == 0
    assert np.allclose(rows["Fixed + random"], rows["coef()"])
    with pytest.raises(DataError):
        numbers.by_hand_rows(lmer(numbers.FORMULAS["iris"]["both"], iris), "rose")


def test_simulated_aic_comparison():
    comparison = numbers.simulated_aic_comparison(seed=1234)
    table = comparison.table
    assert len(comparison.data) == 150 and comparison.data["group"].nunique() == 50
    for label, fit in comparison.fits.items():
        assert table.loc[label, "AIC"] == pytest.approx(fit.objective + 2 * fit.df)
    assert table["Parameters"].tolist() == [4, 5, 6]
    assert comparison.best == table["AIC"].idxmin() and table.loc[comparison.best, "Δ AIC"] == 0
    assert table.loc["Random intercept only", "Δ AIC"] > 10  # ignoring real random slopes costs a lot
    strong = numbers.simulated_aic_comparison(seed=7, correlation=0.8)
    assert strong.best == "Random slope, correlated"


# -- the numbers quoted in the texts -----------------------------------------------------------
@pytest.mark.parametrize("path", list(lessons.PATHS))
def test_every_placeholder_is_filled(path):
    facts = numbers.walkthrough_facts(path, datasets.load(lessons.PATHS[path].data))
    for step in lessons.PATHS[path].steps:
        texts = [lessons.fill(step.text, facts)]
        if step.question:
            q = lessons.filled_question(step.question, facts)
            texts += [q.prompt, q.right, *q.options, *q.wrong.values()]
        for text in texts:
            assert not re.search(r"\{[a-z_0-9]+(:[^}]*)?\}", text), (step.key, text)


def test_sleep_facts_match_lme4(sleep):
    facts = numbers.walkthrough_facts("sleepstudy", sleep)
    assert facts["ri_tau"] == pytest.approx(37.12, abs=0.01)
    assert facts["ri_sigma"] == pytest.approx(30.99, abs=0.01)
    assert facts["rs_sd"] == pytest.approx(7.26, abs=0.01)
    assert round(facts["both_corr"], 2) == pytest.approx(0.07)
    assert facts["ri_pull"] == pytest.approx(1 - 1378.2 / (1378.2 + 960.5 / 10), abs=1e-3)


def test_unknown_path_is_refused(sleep):
    with pytest.raises(DataError):
        numbers.walkthrough_facts("cars", sleep)


# -- the content ---------------------------------------------------------------------------------
def test_sleep_path_follows_the_material():
    assert [s.key for s in lessons.SLEEP.steps] == [
        "complete", "day_means", "no_pooling", "random_intercept", "random_slope", "both", "map", "strength",
        "predictions", "estimation"]
    assert len(lessons.GPA) < len(lessons.SLEEP) and len(lessons.IRIS) < len(lessons.SLEEP)


@pytest.mark.parametrize("path,step", [(p.key, s) for p in lessons.PATHS.values() for s in p.steps if s.question])
def test_every_question_is_well_formed(path, step):
    q = step.question
    assert q.answer not in q.wrong and len(q.wrong) >= 2
    assert len(set(q.options)) == len(q.options) == len(q.wrong) + 1
    assert all(len(text) > 20 for text in q.wrong.values())
    assert q.feedback(None) is None
    assert q.feedback(q.answer) == (True, q.right)
    for option, why in q.wrong.items():
        assert q.feedback(option) == (False, why)


def test_most_steps_ask_a_question():
    steps = [s for p in lessons.PATHS.values() for s in p.steps]
    assert sum(1 for s in steps if s.question) > len(steps) / 2


def test_fill_leaves_unknown_placeholders_visible():
    assert lessons.fill("a {x:.1f} b {y}", {"x": 1.234}) == "a 1.2 b {y}"
    assert lessons.fill("{y:.1f} left as written", {}) == "{y:.1f} left as written"
