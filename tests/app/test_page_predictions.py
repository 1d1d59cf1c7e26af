"""AppTest: the Predictions page with every data set, model and control."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import datasets
from lmm_core import lmer
from teaching.predictions import holdout_comparison
from test_pages import CASES, figures, open_page, values

PAGE = "app_pages/predictions.py"


def no_exception(at):
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def named(at, name):
    """Traces called ``name`` in the panels figure, one per panel, left to right."""
    fig = figures(at)[0]
    return [t for t in fig["data"] if t.get("name") == name]


def band_width(at, panel):
    band = named(at, "95% prediction band")[panel]
    y = values(band["y"])
    half = len(y) // 2
    return float(np.mean(y[:half] - y[half:][::-1]))


def on_screen(shown, expected, rtol=0.0):
    """Figures carry numbers rounded to 1/10,000 of their spread (charts.base.rounded): equal to that."""
    expected = np.asarray(expected, float)
    scale = max(float(np.ptp(expected)), 0.01 * float(np.max(np.abs(expected))))
    np.testing.assert_allclose(shown, expected, rtol=rtol, atol=1.0001e-4 * scale)


@pytest.mark.parametrize("data,model", CASES)
def test_every_control_with_every_data_set_and_model(data, model):
    info = datasets.info(data)
    choice = next(m for m in info.models if m.label == model)
    at = open_page(PAGE, data=data, model=model)
    no_exception(at)
    frame = datasets.load(data)
    fit = lmer(choice.formula, frame)
    level = fit.model.terms[0].levels[1]

    at.selectbox(key="group").set_value(level).run()
    no_exception(at)
    # Panel 1 is lme4's predict() for this group, panel 2 the fixed effects only (extras at their mean).
    known, new, partial = named(at, "Prediction")
    x = values(known["x"])
    newdata = pd.DataFrame({info.covariate: x, info.group: level})
    for extra in info.extra_covariates:
        newdata[extra] = frame[extra].mean()
    on_screen(values(known["y"]), fit.predict(newdata))
    on_screen(values(new["y"]), fit.predict(newdata, include_random=False))
    assert band_width(at, 0) < band_width(at, 1)  # knowing the group narrows the band

    n_j = int((frame[info.group].astype(str) == level).sum())
    at.slider(key="observed").set_value(0).run()
    no_exception(at)
    _, new, partial = named(at, "Prediction")
    np.testing.assert_allclose(values(partial["y"]), values(new["y"]))  # nothing seen: a new group
    at.slider(key="observed").set_value(n_j).run()
    no_exception(at)
    known, _, partial = named(at, "Prediction")
    on_screen(values(partial["y"]), values(known["y"]), rtol=1e-5)  # everything seen
    at.slider(key="observed").set_value(2).run()
    no_exception(at)
    assert band_width(at, 0) < band_width(at, 2) < band_width(at, 1)

    narrow = band_width(at, 1)
    at.checkbox(key="fixed_unc").check().run()
    no_exception(at)
    assert band_width(at, 1) > narrow

    at.select_slider(key="holdout").set_value("50%").run()
    no_exception(at)
    last = max(1, round(0.5 * int(frame[info.group].value_counts().min())))
    expected = holdout_comparison(frame, info.response, info.group, info.covariate, holdout_last=last,
                                  random=choice.random, extra_covariates=info.extra_covariates).table
    shown = next(df.value for df in at.table if "RMSE" in df.value.columns)
    np.testing.assert_allclose(shown["RMSE"].to_numpy(), expected["rmse"].to_numpy(), rtol=1e-9)


def test_sleepstudy_partial_pooling_predicts_the_last_days_best():
    at = open_page(PAGE, data="sleepstudy", model="Random intercept and slope (correlated)")
    shown = next(df.value for df in at.table if "RMSE" in df.value.columns).set_index("Method")
    assert shown["RMSE"].idxmin().startswith("Partial pooling")
    assert any("Partial pooling predicts best" in m.value for m in at.markdown)


@pytest.mark.parametrize("data", ["sleepstudy", "gpa", "iris"])
def test_holdout_verdict_never_contradicts_the_ranking(data):
    """The sentence names the method with the smallest RMSE, and says 'over-reacts' only when no
    pooling is worse than partial pooling."""
    at = open_page(PAGE, data=data)
    shown = next(df.value for df in at.table if "RMSE" in df.value.columns).set_index("Method")["RMSE"]
    text = next(m.value for m in at.markdown if "predicts best" in m.value)
    best = shown.idxmin()
    expected = {"Partial": "Partial pooling predicts best", "No poo": "own estimate predicts best",
                "Comple": "one line for everybody predicts best"}[best[:6]]
    assert expected in text
    none = float(shown[[i for i in shown.index if i.startswith("No pooling")][0]])
    partial = float(shown[[i for i in shown.index if i.startswith("Partial")][0]])
    assert ("over-reacts" in text) == (none > partial)


def test_iris_says_what_makes_sense():
    at = open_page(PAGE, data="iris")
    assert any("three species" in w.value for w in at.warning)


def test_a_remembered_k_beyond_a_smaller_data_set_is_clamped():
    at = open_page(PAGE, data="iris", observed="40")
    assert at.slider(key="observed").value == 40
    at.selectbox(key="data").set_value("gpa").run()
    no_exception(at)
    assert at.slider(key="observed").value == 6
    bad = open_page(PAGE, data="sleepstudy", observed="400", holdout="99%", group="nobody")
    no_exception(bad)
