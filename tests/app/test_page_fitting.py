"""AppTest: the "How the model is fitted" page with every data set, model and control."""
from __future__ import annotations

import re

import numpy as np
import pytest

import datasets
from lmm_core import lmer
from test_pages import CASES, figures, open_page, values

PAGE = "app_pages/fitting.py"
NUMBER = r"-?\d+(?:\.\d+)?(?:e-?\d+)?"


def model_of(data, label):
    return next(m for m in datasets.info(data).models if m.label == label)


def trace(at, name):
    for fig in figures(at):
        for t in fig["data"]:
            if t.get("name") == name:
                return t
    raise AssertionError(f"no trace {name!r}")


def no_exception(at):
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("data,model", CASES)
def test_every_control_with_every_data_set_and_model(data, model):
    at = open_page(PAGE, data=data, model=model)
    no_exception(at)
    fit = lmer(model_of(data, model).formula, datasets.load(data))
    group_col = fit.model.terms[0].group
    levels = fit.model.terms[0].levels

    # The group picker: the page's hand computation equals the engine's conditional mode.
    at.selectbox(key="group").set_value(levels[1]).run()
    no_exception(at)
    check = next(df.value for df in at.dataframe if "By hand" in df.value.columns)
    np.testing.assert_allclose(check["By hand"].to_numpy(), fit.ranef[group_col].loc[levels[1]].to_numpy(),
                               rtol=1e-8, atol=1e-12)

    # The θ controls: every variance at 0 gives modes of 0 and a criterion above the minimum.
    sliders = [s for s in at.select_slider if s.key.startswith("sd")]
    assert len(sliders) == fit.theta.size - (1 if fit.theta.size == 3 else 0)
    for s in sliders:
        s.set_value(0)
    at.run()
    no_exception(at)
    assert np.all(values(trace(at, "At your θ")["x"]) == 0)
    criterion = float(next(m.value for m in at.metric if m.label.startswith("REML criterion")))
    assert criterion > fit.objective
    for s in at.select_slider:
        if s.key.startswith("sd"):
            s.set_value(2)
    at.run()
    no_exception(at)
    spread = np.abs(values(trace(at, "At your θ")["x"])).sum()
    assert spread > np.abs(values(trace(at, "At the fitted θ")["x"])).sum()
    if fit.theta.size == 3:
        def crit():
            return float(next(m.value for m in at.metric if m.label.startswith("REML criterion")))
        fitted_corr = crit()
        at.radio(key="corr").set_value("-0.5").run()
        no_exception(at)
        assert at.radio(key="corr").value == "-0.5" and crit() != fitted_corr

    # The balance toggle refits on unbalanced data; the numbers change.
    before = next(df.value for df in at.dataframe if "One regression (OLS)" in df.value.columns)
    at.toggle(key="unbalanced").set_value(True).run()
    no_exception(at)
    after = next(df.value for df in at.dataframe if "One regression (OLS)" in df.value.columns)
    assert not np.allclose(before["Mixed model"], after["Mixed model"])
    assert after["Difference"].abs().max() > 1e-4


@pytest.mark.parametrize("data", datasets.names())
def test_identity_numbers_on_the_page_reproduce_the_conditional_mode(data):
    info = datasets.info(data)
    at = open_page(PAGE, data=data, model=info.model("ri").label)
    fit = lmer(info.model("ri").formula, datasets.load(data))
    level = fit.model.terms[0].levels[-1]
    at.selectbox(key="group").set_value(level).run()
    no_exception(at)
    text = next(l.value for l in at.latex if r"\hat b_j = \lambda_j" in l.value)
    lam, ybar, xbeta, b = map(float, re.findall(NUMBER, text.split("=", 1)[1].replace(r"\times", " "))[-4:])
    engine = fit.ranef[fit.model.terms[0].group].loc[level, "(Intercept)"]
    assert lam * (ybar - xbeta) == pytest.approx(engine, rel=1e-3, abs=1e-4)  # from the rounded numbers shown
    assert b == pytest.approx(engine, rel=1e-5)
    lam_text = next(l.value for l in at.latex if r"\lambda_j = \frac" in l.value)
    tau2, _, sigma2, n, lam_shown = map(float, re.findall(NUMBER, lam_text.split("=", 1)[1])[-5:])
    assert tau2 / (tau2 + sigma2 / n) == pytest.approx(lam_shown, rel=1e-4)


def test_balanced_sleepstudy_says_equal_and_the_profile_table_compares_data_sets():
    at = open_page(PAGE, data="sleepstudy", model="Random intercept")
    table = next(df.value for df in at.dataframe if "One regression (OLS)" in df.value.columns)
    assert table["Difference"].abs().max() < 1e-8
    assert any("balanced" in s.value for s in at.success)
    profiles = next(df.value for df in at.dataframe if "upper ÷ lower" in df.value.columns)
    assert list(profiles["Groups"]) == [18, 200, 3]
    assert profiles.set_index("Data set").loc["sleepstudy", "lower 95%"] == pytest.approx(26.00712, rel=5e-4)


def test_url_state_of_the_theta_controls():
    at = open_page(PAGE, data="sleepstudy", model="Random intercept and slope (correlated)", sd1="0.5", corr="0")
    no_exception(at)
    assert at.select_slider(key="sd1").value == 0.5 and at.radio(key="corr").value == "0"
    bad = open_page(PAGE, data="sleepstudy", sd1="7", group="nobody")
    no_exception(bad)
    assert bad.select_slider(key="sd1").value == 1


def _hidden_css(at) -> str:
    return " ".join(h.proto.body for h in at.html if "display: none" in h.proto.body and "mark" in h.proto.body)


def test_the_page_is_a_series_of_screens_with_the_screen_in_the_url():
    at = open_page(PAGE, data="sleepstudy", screen="3")
    no_exception(at)
    assert at.query_params["screen"] == "3"
    css = _hidden_css(at)
    assert "screen-mark-3" in css and "screen-mark-4" in css  # before 3 and from 4 on are hidden
    at.button(key="screen_next").click().run()
    assert at.query_params["screen"] == "4" and "screen-mark-5" in _hidden_css(at)
    at.button(key="screen_back").click().run()
    at.button(key="screen_back").click().run()
    assert at.query_params["screen"] == "2"
    # every misreading is a screen of its own (they were tabs at the foot of the page)
    titles = [s.value for s in at.subheader]
    assert sum(t.startswith("5.") for t in titles) == 4


def test_all_shows_the_whole_page():
    at = open_page(PAGE, data="iris", screen="All")
    no_exception(at)
    assert _hidden_css(at) == ""
    assert at.button(key="screen_next").disabled and at.button(key="screen_back").disabled


def test_the_sd_interval_on_the_page_is_confint():
    """The interval shown (caption and table) is lmm_core's confint(method="profile"), lme4's confint(fit)."""
    at = open_page(PAGE, data="sleepstudy", model="Random intercept")
    no_exception(at)
    info = datasets.info("sleepstudy")
    ci = lmer(info.model("ri").formula, datasets.load("sleepstudy")).confint(method="profile")
    lower, upper = ci.loc["sd_(Intercept)|Subject"]
    profiles = next(df.value for df in at.dataframe if "upper ÷ lower" in df.value.columns).set_index("Data set")
    assert profiles.loc["sleepstudy", "lower 95%"] == pytest.approx(lower, rel=1e-9)
    assert profiles.loc["sleepstudy", "upper 95%"] == pytest.approx(upper, rel=1e-9)
    caption = next(c.value for c in at.caption if "sd_(Intercept)|Subject" in c.value)
    assert f"{lower:.4g} to {upper:.4g}" in caption and "confint(fit)" in caption
    for name in ("gpa", "iris"):  # every data set's row is its own confint
        other = datasets.info(name)
        row = lmer(other.model("ri").formula, datasets.load(name)).confint(method="profile", parm=0).iloc[0]
        assert profiles.loc[name, ["lower 95%", "upper 95%"]].to_numpy(float) == pytest.approx(row.to_numpy(float),
                                                                                                rel=1e-9)

