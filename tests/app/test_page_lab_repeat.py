"""The lab's repeated experiment and the pull/singular texts, headless (AppTest)."""

import numpy as np
import pytest
from dataclasses import replace

from test_pages import no_exception, open_page

from teaching.lab_repeat import repeat_experiment, summary
from teaching.simulate import GPA

LAB = "app_pages/lab.py"


def test_repeat_button_runs_and_states_the_trade_from_the_numbers():
    at = no_exception(open_page(LAB, groups="40"))
    at.slider(key="repeats").set_value(20).run()
    at.button(key="repeat_run").click().run()
    no_exception(at)
    text = " ".join(m.value for m in at.markdown)
    assert "Over all groups and 20 copies" in text
    exp = repeat_experiment(replace(GPA, n_groups=40), 20)
    s = summary(exp, "slope")
    word = "good trade" if s.loc["partial", "rmse"] < s.loc["none", "rmse"] else "is not smaller"
    assert word in text


def test_repeat_bias_and_variance_trade():
    """No pooling ≈ unbiased, partial pooling biased but with less variance and a smaller RMSE
    (default lab settings), and the partial estimates equal a full refit of a copy."""
    exp = repeat_experiment(replace(GPA, n_groups=60), 40)
    for coefficient in ("intercept", "slope"):
        s = summary(exp, coefficient)
        assert s.loc["partial", "variance"] < s.loc["none", "variance"]
        assert s.loc["partial", "abs_bias"] > s.loc["none", "abs_bias"]
        assert s.loc["partial", "rmse"] < s.loc["none", "rmse"]


def test_repeat_partial_estimates_are_real_refits():
    import pandas as pd

    from teaching.lab_repeat import _copies
    from teaching.pooling import compare_pooling

    settings = replace(GPA, n_groups=30, balance="unbalanced", n_per_group=4)
    exp = repeat_experiment(settings, 12)
    g, X, truth, Y = _copies(settings, 12)
    for r in (0, 11):
        d = pd.DataFrame({"group": np.asarray(g.levels, object)[g.codes], "x": g.x, "y": Y[:, r]})
        full = compare_pooling(d, "y", "group", "x", random="both")
        for k, coefficient in enumerate(("intercept", "slope")):
            est = exp.estimates.query("rep == @r and method == 'partial' and coefficient == @coefficient")
            np.testing.assert_allclose(est["estimate"].to_numpy(), full.coefficients["partial"][:, k], atol=1e-5)


@pytest.mark.parametrize("random", ["intercept"])
def test_repeat_random_intercept(random):
    exp = repeat_experiment(replace(GPA, n_groups=30, n_per_group=3), 10, random=random)
    none = exp.estimates.query("method == 'none' and coefficient == 'slope' and rep == 0")["estimate"]
    assert np.ptp(none.to_numpy()) < 1e-9  # matched no pooling: one shared slope
