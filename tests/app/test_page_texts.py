"""Every page's text, as a student reads it, with each data set: no broken possessives, no
unfilled placeholders, and the sentences that state a direction agree with the numbers."""

import pytest

from test_pages import no_exception, open_page

PAGES = ["app_pages/three_ways.py", "app_pages/shrinkage_map.py", "app_pages/thinning.py",
         "app_pages/fitting.py", "app_pages/predictions.py"]


def texts(at):
    return ([m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
            + [i.value for i in at.info])


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("data", ["sleepstudy", "gpa", "iris"])
def test_texts_read_cleanly(page, data):
    at = no_exception(open_page(page, data=data))
    for t in texts(at):
        assert "species's" not in t and "{gp}" not in t and "{g}" not in t, t[:120]


def test_three_ways_says_what_no_pooling_means_for_the_model():
    at = no_exception(open_page("app_pages/three_ways.py", data="sleepstudy", model="Random intercept"))
    assert any("one slope for Days is shared by all" in t for t in texts(at))
    at = no_exception(open_page("app_pages/three_ways.py", data="sleepstudy",
                                model="Random intercept and slope (correlated)"))
    assert any("separate regression per subject" in t for t in texts(at))


def test_fitting_page_says_fixed_effects_stay_put_in_balanced_data():
    at = no_exception(open_page("app_pages/fitting.py",
                                data="sleepstudy", model="Random intercept", sd1="2"))
    assert any("do not change with θ here" in t for t in texts(at))
    at.toggle(key="unbalanced_fe").set_value(True).run()
    assert any("now move with θ" in t for t in texts(no_exception(at)))


def test_no_red_delta_at_the_optimum():
    at = no_exception(open_page("app_pages/fitting.py", data="sleepstudy"))
    crit = next(m for m in at.metric if m.label.startswith("REML criterion"))
    assert "+0.000" not in (crit.delta or "")


def test_thinning_iris_explains_why_the_pull_falls():
    at = no_exception(open_page("app_pages/thinning.py", data="iris"))
    joined = " ".join(texts(at))
    if "(falls)" in joined:
        assert "re-estimates how much species differ" in joined


# -- session 4: the pages read as a student (Your model, Exercises, Less data, centring) ------------
import numpy as np  # noqa: E402

import datasets  # noqa: E402
from test_pages import figures  # noqa: E402


def test_your_model_qq_caption_states_the_computed_direction():
    at = no_exception(open_page("app_pages/your_model.py", data="iris", model="Random intercept",
                                ym_method="ML (maximum likelihood)"))
    qq = next(c.value for c in at.caption if c.value.startswith("Normal Q-Q"))
    assert "spread *more*" in qq and "0.902 against 0.737" in qq  # 3 species, ML: the modes spread more
    at = no_exception(open_page("app_pages/your_model.py", data="sleepstudy", model="Random intercept"))
    qq = next(c.value for c in at.caption if c.value.startswith("Normal Q-Q"))
    assert "The modes spread less" in qq and "35.9 against 37.1" in qq


def test_your_model_names_the_term_of_a_singular_crossed_fit():
    at = no_exception(open_page("app_pages/your_model.py", data="sleepstudy", model="Random intercept",
                                ym_formula="Reaction ~ Days + (1 | Subject) + (1 | Days)"))
    warning = " ".join(w.value for w in at.warning)
    assert "Boundary (singular) fit" in warning and "between levels of Days is estimated as 0" in warning
    assert "10 levels of Days" in " ".join(s.value for s in at.success)


def test_exercise_three_verdict_uses_the_computed_margins():
    from teaching.walkthrough_numbers import simulated_aic_comparison

    at = open_page("app_pages/exercises.py")
    at.toggle(key="ex_answer_3").set_value(True).run()
    no_exception(at)
    comparison = simulated_aic_comparison(1234, 0.0)
    margin = float(comparison.table["Δ AIC"].drop(comparison.best).min())
    joined = " ".join(texts(at))
    assert f"{margin:.1f} below the next model" in joined
    assert "usually costs it many AIC points" not in joined  # the old uncomputed claim


def _thinning_numbers(data, model, keep, groups=None):
    from teaching import lab
    from teaching.pooling import centre_by_default, mean_pull

    info = datasets.info(data)
    random = next(m.random for m in info.models if m.label == model)
    frame = datasets.load(data)
    view = lab.thinned_lab(frame, info.response, info.group, info.covariate, keep, groups=groups, random=random,
                           extra_covariates=info.extra_covariates)
    full = view.full
    at_x = float(full.data.x.mean()) if centre_by_default(full) else None
    names = [str(x) for x in view.thinned_groups]
    return mean_pull(full, names, at_x), mean_pull(view.thinned, names, at_x)


@pytest.mark.parametrize("data, model", [("sleepstudy", "Random intercept"),
                                         ("sleepstudy", "Random intercept and slope (correlated)"),
                                         ("iris", "Random intercept and slope (correlated)")])
def test_thinning_reports_the_arrow_pull_every_page_uses(data, model):
    at = no_exception(open_page("app_pages/thinning.py", data=data, model=model))
    joined = " ".join(texts(at))
    before, after = _thinning_numbers(data, model, keep=3)
    for c in before:
        direction = "rises" if after[c] > before[c] + 5e-3 else ("falls" if after[c] < before[c] - 5e-3 else "stays")
        assert f"{c}s: {before[c]:.0%} → {after[c]:.0%} ({direction}" in joined
    assert "measured along its arrow" in joined and "1 − conditional variance" not in joined


def test_thinning_one_group_metric_is_its_arrow_pull():
    from teaching import lab
    from teaching.pooling import arrow_pulls

    at = no_exception(open_page("app_pages/thinning.py", data="sleepstudy", model="Random intercept",
                                thin_mode="One subject", thin_group="308", keep="2"))
    info = datasets.info("sleepstudy")
    view = lab.thinned_lab(datasets.load("sleepstudy"), info.response, info.group, info.covariate, 2,
                           groups=["308"], random="intercept")
    want = (float(arrow_pulls(view.full)["intercept"]["308"]), float(arrow_pulls(view.thinned)["intercept"]["308"]))
    metric = next(m for m in at.metric if m.label.startswith("Pull on its intercept"))
    assert metric.value == f"{want[0]:.0%} → {want[1]:.0%}"
    assert want[1] > want[0]  # fewer days: more pull, as the page says


CENTRING_PAGES = ["app_pages/three_ways.py", "app_pages/shrinkage_map.py", "app_pages/predictions.py",
                  "app_pages/thinning.py"]


@pytest.mark.parametrize("page", CENTRING_PAGES)
def test_centring_switch_has_one_wording_on_every_page(page):
    from teaching.pooling import centring_label

    at = no_exception(open_page(page, data="iris"))
    switch = at.toggle(key="centred")
    assert switch.value is True  # iris: 0 is far outside the data
    assert switch.label.replace("\\", "") == centring_label("Sepal.Length", float(datasets.load("iris")["Sepal.Length"].mean()))
    at = no_exception(open_page(page, data="sleepstudy"))
    assert at.toggle(key="centred").value is False  # day 0 is a real day


def test_three_ways_marks_where_intercepts_are_read_and_says_so():
    at = no_exception(open_page("app_pages/three_ways.py", data="iris"))
    fig = figures(at)[0]
    xbar = float(datasets.load("iris")["Sepal.Length"].mean())
    marks = [t for t in fig["data"] if t.get("legendgroup") == "mark" and np.ravel(t["x"])[0] is not None]
    assert marks and all(abs(float(np.ravel(t["x"])[0]) - xbar) < 1e-9 for t in marks)
    assert any("its mean)" in c.value for c in at.caption)
    at.toggle(key="centred").set_value(False).run()
    assert not [t for t in figures(no_exception(at))[0]["data"] if t.get("legendgroup") == "mark"]
    assert any("Sepal.Length = 0, as lme4" in c.value for c in at.caption)


def test_predictions_path_reads_the_intercept_where_the_switch_says():
    at = no_exception(open_page("app_pages/predictions.py", data="iris"))
    path = next(f for f in figures(at) if any("first k" in (t.get("name") or "") for t in f["data"]))
    titles = " ".join(a.get("text", "") for a in path["layout"].get("annotations", []))
    assert "(its mean)" in titles
    at.toggle(key="centred").set_value(False).run()
    path = next(f for f in figures(no_exception(at)) if any("first k" in (t.get("name") or "") for t in f["data"]))
    assert "(lme4's)" in " ".join(a.get("text", "") for a in path["layout"].get("annotations", []))


def test_lab_centred_pull_is_the_arrow_pull_at_the_mean_occasion():
    from teaching import lab
    from teaching.pooling import mean_pull
    from teaching.simulate import PRESETS

    at = no_exception(open_page("app_pages/lab.py", lab_centred="true"))
    view = lab.simulated_lab(PRESETS["As fitted (GPA)"])
    xbar = float(view.sim.data["x"].mean())
    want = mean_pull(view.result, at_x=xbar)
    metric = next(m for m in at.metric if m.label == "Mean pull: intercepts")
    assert metric.value == f"{want['intercept']:.0%}"
    assert want["intercept"] != pytest.approx(view.shrinkage["intercept"], abs=0.01)  # it does move


def test_your_model_lrt_of_a_variance_gives_the_boundary_corrected_p():
    at = open_page("app_pages/your_model.py", data="gpa")
    at.button(key="ym_add_examples").click().run()
    lines = [m.value for m in no_exception(at).markdown if m.value.startswith("- M1 → M2")]
    assert lines and "half χ²(1) and half χ²(2)" in lines[0]
