"""The guided walkthrough page (AppTest): every step of every path, every answer, URL and progress."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from test_pages import figures, no_exception
from test_pages import open_page as open_app_page

import datasets
from app_shell import walkthrough_content as lessons
from teaching import walkthrough_numbers as numbers

PAGE = "app_pages/walkthrough.py"


def open_walkthrough(**params) -> AppTest:
    return no_exception(open_app_page(PAGE, **params))


def heading(at: AppTest) -> str:
    return at.subheader[0].value


def filled(path: lessons.Path, step: lessons.Step) -> lessons.Question:
    facts = numbers.walkthrough_facts(path.key, datasets.load(path.data))
    return lessons.filled_question(step.question, facts)


def question_radio(at: AppTest, path: lessons.Path, step: lessons.Step):
    return at.radio(key=f"wt_q_{path.key}_{step.key}")


@pytest.mark.parametrize("path", list(lessons.PATHS.values()), ids=list(lessons.PATHS))
def test_walk_every_step_with_next_and_back(path):
    at = open_walkthrough(path=path.key, step="1")
    n = len(path)
    for i, step in enumerate(path.steps, start=1):
        assert heading(at) == f"Step {i} of {n} · {step.title}"
        assert at.query_params["path"] == path.key and at.query_params["step"] == str(i)
        assert len(figures(at)) >= 1, step.key  # every step draws its live figure
        assert at.button(key="wt_back").disabled == (i == 1)
        assert at.button(key="wt_next").disabled == (i == n)
        if i < n:
            at.button(key="wt_next").click().run()
            assert not at.exception, (step.key, [e.message for e in at.exception])
    for i in range(n - 1, 0, -1):
        at.button(key="wt_back").click().run()
        assert heading(at).startswith(f"Step {i} of {n}")
    assert at.query_params["step"] == "1"


QUESTIONS = [(p, s) for p in lessons.PATHS.values() for s in p.steps if s.question]


@pytest.mark.parametrize("path,step", QUESTIONS, ids=[f"{p.key}-{s.key}" for p, s in QUESTIONS])
def test_every_answer_gets_its_feedback(path, step):
    number = path.steps.index(step) + 1
    at = open_walkthrough(path=path.key, step=str(number))
    question = filled(path, step)
    assert question_radio(at, path, step).options == question.options
    assert question_radio(at, path, step).value is None
    assert not at.success and not at.warning  # no feedback before an answer
    for option, why in question.wrong.items():
        question_radio(at, path, step).set_value(option).run()
        assert not at.exception
        assert not at.success
        assert why in at.warning[0].value and at.warning[0].value.startswith("**Not quite.**")
    question_radio(at, path, step).set_value(question.answer).run()
    assert not at.warning
    assert question.right in at.success[0].value
    answered = at.session_state["wt_progress"][path.key][step.key]
    assert answered == {"choice": question.answer, "right": True}


def test_answers_survive_a_visit_to_another_page():
    path, step = lessons.SLEEP, lessons.SLEEP.steps[0]
    at = open_walkthrough(path="sleepstudy", step="1")
    question = filled(path, step)
    question_radio(at, path, step).set_value(question.answer).run()
    at.switch_page("app_pages/three_ways.py")
    at.run()
    at.query_params.clear()
    at.switch_page(PAGE)
    at.run()
    assert heading(at).startswith("Step 1 of 10")
    assert question_radio(at, path, step).value == question.answer
    assert question.right in at.success[0].value
    assert "**1 of 10** questions right" in [m.value for m in at.markdown]
    assert at.segmented_control(key="wt_jump").options[0] == "1 ✓"


def test_step_is_remembered_without_url_and_each_path_keeps_its_own():
    at = open_walkthrough(path="sleepstudy", step="4")
    at.segmented_control(key="wt_path_pick").set_value("gpa").run()
    assert heading(at).startswith("Step 1 of 4") and at.query_params["path"] == "gpa"
    at.button(key="wt_next").click().run()
    at.segmented_control(key="wt_path_pick").set_value("sleepstudy").run()
    assert heading(at).startswith("Step 4 of 10")
    at.segmented_control(key="wt_path_pick").set_value("gpa").run()
    assert heading(at).startswith("Step 2 of 4")


def test_jump_to_a_step():
    at = open_walkthrough(path="sleepstudy", step="2")
    at.segmented_control(key="wt_jump").set_value(9).run()
    assert heading(at).startswith("Step 9 of 10") and at.query_params["step"] == "9"


@pytest.mark.parametrize("params,expected,note", [
    ({"path": "iris", "step": "2"}, "Step 2 of 3", None),
    ({"path": "sleepstudy", "step": "99"}, "Step 10 of 10", "steps 1 to 10"),
    ({"path": "sleepstudy", "step": "seven"}, "Step 1 of 10", "not a step number"),
    ({"path": "cars", "step": "2"}, "Step 1 of 10", "no walkthrough called 'cars'"),
])
def test_url_opens_the_right_step_and_odd_values_do_not_crash(params, expected, note):
    at = open_walkthrough(**params)
    assert heading(at).startswith(expected)
    if note:
        assert note in at.info[0].value
    else:
        assert not at.info


def test_walkthrough_ignores_the_sidebar_data_set():
    at = open_walkthrough(data="iris", path="sleepstudy", step="4")
    assert at.selectbox(key="data").value == "iris"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Fixed intercept"] == "251.41"
    assert metrics["Random effect of 308"] == "+40.78"  # ranef(m)$Subject in the material
    assert metrics["Its intercept (purple line)"] == "292.19"  # coef(m)$Subject
    # no pooling matched to a random intercept (own intercept, shared slope): the mixed value lies between
    own = float(metrics["Its own intercept (no pooling)"])
    assert 251.41 < 292.19 < own
    assert any("lies between" in c.value for c in at.caption)


def test_no_pooling_step_holds_back_the_later_days():
    at = open_walkthrough(path="sleepstudy", step="3")
    at.slider(key="wt_keep").set_value(3).run()
    fig = figures(at)[0]
    hidden = [t for t in fig["data"] if t.get("name") == "Held back (not used by the fit)"]
    assert len(hidden) == 18 and sum(len(_values(t["x"])) for t in hidden) == 18 * 7


def test_theta_zero_puts_every_subject_on_the_fixed_intercept():
    at = open_walkthrough(path="sleepstudy", step="10")
    at.slider(key="wt_theta_sleepstudy").set_value(0.0).run()
    fig = figures(at)[0]
    mixed = [t for t in fig["data"] if t.get("name") == "Partial pooling (mixed model)"][0]
    assert np.allclose(_values(mixed["x"]), 251.405105, atol=1e-4)
    assert {m.label: m.value for m in at.metric}["SD between subjects"] == "0"


def _values(array):
    import base64

    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).astype(float)
    return np.array(array, dtype=float)


def test_shrinkage_strength_sliders_change_the_weights():
    at = open_walkthrough(path="sleepstudy", step="8")
    few = float(at.metric[0].value)
    at.slider(key="wt_n").set_value(20).run()
    many = float(at.metric[0].value)
    at.select_slider(key="wt_ratio").set_value(0.25).run()
    small_variance = float(at.metric[0].value)
    assert few < many and small_variance < many
    expected = numbers.shrinkage_scenario(20, 0.25).own_weight.iloc[0]
    assert small_variance == pytest.approx(expected, abs=0.005)


def test_gpa_distributions_work_for_every_number_of_semesters_offered():
    """Two semesters per student would give as many random effects as observations (no mixed
    model with intercept and slope): the slider starts at 3, and every value it offers fits."""
    at = open_walkthrough(path="gpa", step="3")
    keep = at.slider(key="wt_gpa_keep")
    assert keep.min == 3 and keep.max == 6
    for value in (3, 4, 5):
        keep.set_value(value).run()
        no_exception(at)
        assert any(f"first {value} semesters" in c.value for c in at.caption)
