"""The lab's computations: simulated views with a known truth, fallbacks, thinned real data."""
from dataclasses import replace

import numpy as np
import pytest

from lmm_core import lmer
from teaching.lab import (coefficient_values, estimated_rings, improvement, mean_pull, simulated_lab,
                          thinned_lab, true_rings, truth_table)
from teaching.pooling import compare_pooling
from teaching.shrinkage import intercept_shrinkage, pull_by_group
from teaching.simulate import PRESETS, SimulationSettings

GPA = SimulationSettings()


def test_default_view_scores_the_three_methods_against_the_truth():
    view = simulated_lab(GPA)
    assert view.random == "both" and not view.notes
    errors = view.errors.set_index("method")
    # With 6 observations per group, shrinking pays off for both coefficients.
    assert errors.loc["partial", "rmse_intercept"] < errors.loc["none", "rmse_intercept"]
    assert errors.loc["partial", "rmse_slope"] < errors.loc["none", "rmse_slope"]
    params = view.parameters.set_index("parameter")
    assert params.loc["sd_intercept", "true"] == 0.213
    assert params.loc["sd_intercept", "estimated"] == pytest.approx(view.result.fit.varcorr[0].sd[0])
    assert 0 < view.shrinkage["intercept"] < 1 and 0 < view.shrinkage["slope"] < 1
    better = improvement(view)
    assert better["intercept"] == pytest.approx(
        1 - errors.loc["partial", "rmse_intercept"] / errors.loc["none", "rmse_intercept"])


def test_mean_pull_is_the_mean_of_one_minus_lambda_for_a_random_intercept():
    view = simulated_lab(replace(GPA, n_groups=40))
    result = compare_pooling(view.sim.data, "y", "group", "x", random="intercept")
    lam = intercept_shrinkage(result.fit).table["lambda"]
    # equal group sizes: every λ is the same, and the arrows' pull is exactly 1 − λ
    assert mean_pull(result)["intercept"] == pytest.approx(float(np.mean(1 - lam)), rel=1e-8)


def test_lab_pull_agrees_with_the_arrows_and_flags_a_singular_fit():
    """SD of slopes 0: the fit is singular, the slopes are pulled (nearly) all the way, and the
    reported mean pull on the slopes says so instead of repeating the intercepts' number."""
    view = simulated_lab(replace(GPA, sd_slope=0.0, n_groups=60))
    assert view.result.fit.singular
    assert any("Singular fit" in note for note in view.notes)
    assert view.shrinkage["slope"] > 0.7
    assert abs(view.shrinkage["slope"] - view.shrinkage["intercept"]) > 0.2


@pytest.mark.parametrize("change, coefficient", [
    ({"n_per_group": 20}, "intercept"), ({"n_per_group": 20}, "slope"),
    ({"sd_intercept": 0.6}, "intercept"), ({"sd_residual": 0.05}, "intercept"),
])
def test_shrinkage_falls_with_more_data_more_group_variance_or_less_noise(change, coefficient):
    base = simulated_lab(GPA).shrinkage[coefficient]
    assert simulated_lab(replace(GPA, **change)).shrinkage[coefficient] < base


def test_two_observations_per_group_fall_back_to_a_random_intercept():
    view = simulated_lab(replace(GPA, n_per_group=2))
    assert view.random == "intercept"
    assert "random intercept only" in view.notes[0]
    assert "engine" not in view.notes[0] and "(" not in view.notes[0].split("only")[0]
    assert set(view.shrinkage) == {"intercept"}


def test_one_observation_per_group_explains_instead_of_failing():
    view = simulated_lab(replace(GPA, n_per_group=1))
    assert view.result is None and view.theta is None
    assert "one observation per group" in view.notes[0]
    values = coefficient_values(view)
    assert set(values["method"]) == {"truth"}


def test_extremes_two_groups_and_zero_variance_still_fit():
    assert simulated_lab(replace(GPA, n_groups=2)).result is not None
    view = simulated_lab(replace(GPA, sd_intercept=0.0, sd_slope=0.0))
    assert view.result is not None
    assert view.shrinkage["intercept"] > 0.5  # no true differences: estimates are pulled far in


def test_presets_all_run_and_each_is_the_setting_it_names():
    assert PRESETS["Many more measurements"].n_per_group == 20
    for settings in PRESETS.values():
        view = simulated_lab(settings)
        assert view.result is not None


def test_rings_and_truth_for_the_map():
    view = simulated_lab(replace(GPA, n_groups=30))
    rings = estimated_rings(view.result)
    assert [r[0] for r in rings] == [0.5, 0.8, 0.95]
    true = true_rings(GPA)
    x0, y0 = true[0][1].mean(), true[0][2].mean()
    assert (x0, y0) == pytest.approx((GPA.fixed_intercept, GPA.fixed_slope), abs=1e-2)
    truth = truth_table(view.sim)
    assert list(truth.columns) == ["group", "intercept", "slope"] and len(truth) == 30


def test_warm_start_reaches_the_same_optimum():
    view = simulated_lab(GPA)
    moved = replace(GPA, sd_intercept=0.25)
    cold, warm = simulated_lab(moved), simulated_lab(moved, start=view.theta)
    assert warm.result.fit.objective == pytest.approx(cold.result.fit.objective, abs=1e-7)


def test_pull_by_group_matches_lambda_and_is_one_for_an_unobserved_slope(sleep):
    fit = lmer("Reaction ~ Days + (1 | Subject)", sleep)
    lam = intercept_shrinkage(fit).table.set_index("group")["lambda"]
    pull = pull_by_group(fit)["(Intercept)"]
    np.testing.assert_allclose(pull.to_numpy(), 1 - lam.reindex(pull.index).to_numpy(), rtol=1e-10)
    view = thinned_lab(sleep, "Reaction", "Subject", "Days", keep=1, groups=["308"])
    row = view.moved.set_index("group").loc["308"]
    assert row["n_kept"] == 1 and row["n_full"] == 10
    # One day says next to nothing about the slope (only a little, through the correlation).
    assert 0.99 < row["slope_thinned"] <= 1.0
    assert row["intercept_thinned"] > row["intercept_full"]


def test_thinning_every_group_pulls_slopes_harder(sleep):
    view = thinned_lab(sleep, "Reaction", "Subject", "Days", keep=4)
    assert view.kept_rows == 18 * 4 and view.total_rows == 180
    moved = view.moved
    assert (moved["slope_thinned"] > moved["slope_full"]).all()
    # The intercept (day 0) is not pulled harder: days 0-3 sit closer to day 0 than days 0-9 do.
    assert (moved["intercept_thinned"] < moved["intercept_full"]).all()


def test_thinning_pulls_random_intercepts_harder(sleep):
    view = thinned_lab(sleep, "Reaction", "Subject", "Days", keep=3, random="intercept")
    assert (view.moved["intercept_thinned"] > view.moved["intercept_full"]).all()


def test_thinning_too_far_falls_back_or_explains(sleep):
    two = thinned_lab(sleep, "Reaction", "Subject", "Days", keep=2)
    assert two.random == "intercept" and two.notes
    one = thinned_lab(sleep, "Reaction", "Subject", "Days", keep=1)
    assert one.thinned is None and one.moved is None and one.notes
