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
