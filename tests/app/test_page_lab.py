"""The Shrinkage lab and the thinning page, headless (AppTest): every control across its range."""

import pytest
from streamlit.testing.v1 import AppTest

from test_pages import figures, no_exception
from test_pages import open_page as open_app_page

import datasets

LAB = "app_pages/lab.py"
THIN = "app_pages/thinning.py"


def open_page(page: str, **params) -> AppTest:
    return no_exception(open_app_page(page, **params))


def metric(at: AppTest, label_start: str) -> float | None:
    """A metric's value as a number: '34%' -> 0.34, '28% smaller' -> 0.28, '—' -> None."""
    for m in at.metric:
        if m.label.startswith(label_start):
            text = m.value.split()[0]
            return None if text == "—" else float(text.rstrip("%")) / 100
    raise AssertionError(f"no metric {label_start!r}: {[m.label for m in at.metric]}")


def shrink(at: AppTest, coefficient: str) -> float:
    return metric(at, f"Mean pull: {coefficient}")


def move(at: AppTest, key: str, value) -> AppTest:
    widget = at.slider(key=key) if key in ("groups", "per_group") else at.select_slider(key=key)
    widget.set_value(value).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.fixture
def lab():
    return open_page(LAB)


def test_lab_opens_with_the_gpa_fit_and_both_figures(lab):
    assert lab.selectbox(key="preset").value == "As fitted (GPA)"
    assert lab.slider(key="groups").value == 200 and lab.slider(key="per_group").value == 6
    assert len(figures(lab)) == 2
    assert 0 < shrink(lab, "intercepts") < 1
    assert metric(lab, "Mixed model's error, intercepts") > 0  # shrinking helps


@pytest.mark.parametrize("key, values", [
    ("groups", [2, 3, 50, 500]),
    ("per_group", [1, 2, 3, 30]),
    ("sd_int", [0.0, 0.5, 1.0]),
    ("sd_slope", [0.0, 0.15, 0.3]),
    ("corr", [-0.9, 0.0, 0.9]),
    ("sd_resid", [0.025, 0.5, 1.0]),
])
def test_every_slider_across_its_range(lab, key, values):
    for value in values:
        move(lab, key, value)
        assert lab.selectbox(key="preset").value == "Your own settings"


def test_one_observation_per_group_explains_and_keeps_the_page(lab):
    move(lab, "per_group", 1)
    assert any("one observation per group" in i.value for i in lab.info)
    assert len(figures(lab)) == 1  # the truth's distribution is still shown
    move(lab, "per_group", 5)
    assert len(figures(lab)) == 2 and not lab.info


def test_more_observations_per_group_shrink_less(lab):
    values = {}
    for n in (3, 6, 12, 24):
        move(lab, "per_group", n)
        values[n] = (shrink(lab, "intercepts"), shrink(lab, "slopes"))
    slopes = [values[n][1] for n in (3, 6, 12, 24)]
    assert slopes == sorted(slopes, reverse=True) and slopes[0] > slopes[-1]
    # The intercept is the value at the first occasion, an extrapolation that more occasions
    # do not always improve at small sizes (estimation noise), but they do from 6 on.
    intercepts = [values[n][0] for n in (6, 12, 24)]
    assert intercepts == sorted(intercepts, reverse=True) and intercepts[0] > intercepts[-1]


def test_larger_intercept_sd_shrinks_intercepts_less(lab):
    values = []
    for sd in (0.1, 0.25, 0.5, 1.0):
        move(lab, "sd_int", sd)
        values.append(shrink(lab, "intercepts"))
    assert values == sorted(values, reverse=True) and values[0] > values[-1]


def test_more_noise_shrinks_more(lab):
    values = []
    for sd in (0.1, 0.3, 0.6):
        move(lab, "sd_resid", sd)
        values.append(shrink(lab, "intercepts"))
    assert values == sorted(values)


def test_balance_seed_and_new_sample(lab):
    for balance in ("Unbalanced sizes", "Dropout over time", "Equal group sizes"):
        lab.radio(key="balance").set_value(balance).run()
        assert not lab.exception
    before = lab.table[0].value.copy()
    lab.button[0].click().run()
    assert lab.number_input(key="seed").value == 2
    assert not lab.table[0].value.equals(before)
    lab.number_input(key="seed").set_value(1).run()
    assert lab.table[0].value.equals(before)  # the same seed gives the same sample


@pytest.mark.parametrize("preset", ["As fitted (GPA)", "Many more measurements", "More group variance, less noise",
                                    "Only 3-4 observations", "10 occasions with dropout"])
def test_presets_set_the_sliders(lab, preset):
    from teaching.simulate import PRESETS

    lab.selectbox(key="preset").set_value(preset).run()
    assert not lab.exception
    s = PRESETS[preset]
    assert lab.slider(key="per_group").value == s.n_per_group
    assert lab.select_slider(key="sd_int").value == s.sd_intercept
    assert lab.select_slider(key="sd_resid").value == s.sd_residual


def test_presets_order_shrinkage_as_the_material_says(lab):
    fitted = shrink(lab, "slopes")
    lab.selectbox(key="preset").set_value("Many more measurements").run()
    assert shrink(lab, "slopes") < fitted
    lab.selectbox(key="preset").set_value("Only 3-4 observations").run()
    assert shrink(lab, "slopes") > fitted


def test_a_shared_link_restores_the_view():
    at = open_page(LAB, per_group="12", sd_int="0.5", seed="7", balance="Dropout over time")
    assert at.slider(key="per_group").value == 12
    assert at.select_slider(key="sd_int").value == 0.5
    assert at.number_input(key="seed").value == 7
    assert at.radio(key="balance").value == "Dropout over time"
    again = open_page(LAB, per_group="12", sd_int="0.5", seed="7", balance="Dropout over time")
    assert at.table[0].value.equals(again.table[0].value)


def test_a_preset_link_sets_its_values():
    at = open_page(LAB, preset="Only 3-4 observations")
    assert at.slider(key="per_group").value == 3
    assert at.radio(key="balance").value == "Unbalanced sizes"


# -- thinning -------------------------------------------------------------------
@pytest.mark.parametrize("data,model", [(d, m.label) for d in datasets.names() for m in datasets.info(d).models])
def test_thinning_every_data_set_and_model(data, model):
    at = open_page(THIN, data=data, model=model)
    largest = at.slider(key="keep").max
    for keep in (1, 2, largest):
        at.slider(key="keep").set_value(keep).run()
        assert not at.exception, [e.message for e in at.exception]
    at.radio(key="thin_mode").set_value(at.radio(key="thin_mode").options[1]).run()
    for keep in (1, largest):
        at.slider(key="keep").set_value(keep).run()
        assert not at.exception, [e.message for e in at.exception]


def test_one_subject_with_fewer_days_is_pulled_harder():
    at = open_page(THIN, data="sleepstudy", model="Random intercept", thin_mode="One subject", thin_group="308")
    pulls = []
    for keep in (10, 5, 2, 1):
        at.slider(key="keep").set_value(keep).run()
        full, thinned = (float(v.rstrip("%")) / 100 for v in
                         next(m.value for m in at.metric if m.label.startswith("Pull on its intercept")).split(" → "))
        pulls.append(thinned)
    assert pulls == sorted(pulls) and pulls[0] < pulls[-1]
    assert full == pulls[0]  # all 10 days kept: the same pull as the full fit


def test_thinning_all_groups_to_one_observation_explains():
    at = open_page(THIN, data="sleepstudy", keep="1")
    assert any("one observation per group" in i.value for i in at.info)


@pytest.mark.parametrize("centred", [False, True])
def test_distributions_caption_says_narrower_only_when_the_sds_say_so(lab, centred):
    """The caption's 'narrower' is computed from the two SDs it prints, for each coefficient, with
    lme4's intercepts and with intercepts read at the mean occasion."""
    import re
    if centred:
        lab.toggle(key="lab_centred").set_value(True).run()
        assert not lab.exception, [e.message for e in lab.exception]
    texts = [c.value for c in lab.caption] + [m.value for m in lab.markdown]
    said = [t for t in texts if "SD of the mixed model's group coefficients" in t]
    assert said, "no distributions caption"
    pairs = re.findall(r"(intercept|slope)s ([-\d.e+]+) against ([-\d.e+]+) \((narrower|not narrower)\)", said[0])
    assert pairs, said[0]
    for _, mixed, own, verdict in pairs:
        assert (verdict == "narrower") == (float(mixed) < float(own))
    if all(v == "narrower" for *_, v in pairs):
        assert "that is shrinkage" in said[0]
