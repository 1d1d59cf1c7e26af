"""The exercises page (AppTest): worked answers appear on request and are computed live."""

import pytest
from streamlit.testing.v1 import AppTest

from test_pages import figures, no_exception
from test_pages import open_page as open_app_page

from teaching import walkthrough_numbers as numbers

PAGE = "app_pages/exercises.py"


@pytest.fixture
def at() -> AppTest:
    return no_exception(open_app_page(PAGE))


def texts(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_answers_are_hidden_until_asked(at):
    assert [h.value for h in at.header][:3] == [
        "1. The sleep study with a random slope", "2. Fixed plus random, row by row",
        "3. Simulate random slopes, then choose by AIC"]
    assert not at.dataframe and not figures(at)
    assert "Lowest AIC" not in texts(at)


def test_sleep_random_slope_answer(at):
    at.toggle(key="ex_answer_1").set_value(True).run()
    assert not at.exception
    assert "correlation of the random intercepts and slopes is **0.07**" in texts(at)
    fixed = at.dataframe[0].value
    assert fixed["Estimate"].tolist() == pytest.approx([251.405, 10.467], abs=1e-3)
    coef = at.dataframe[3].value
    assert coef.loc["308"].tolist() == pytest.approx([253.6637, 19.6663], abs=1e-3)


def test_fixed_plus_random_answer(at):
    at.toggle(key="ex_answer_2").set_value(True).run()
    table = at.dataframe[0].value
    assert table["largest difference"].max() < 1e-10
    assert table.loc["309", "(Intercept) (by hand)"] == pytest.approx(211.0065, abs=1e-3)
    assert "zero up to rounding" in texts(at)


def test_simulation_answer_follows_seed_and_correlation(at):
    at.toggle(key="ex_answer_3").set_value(True).run()
    table = at.dataframe[0].value
    expected = numbers.simulated_aic_comparison(1234, 0.0)
    assert table["AIC"].tolist() == pytest.approx(expected.table["AIC"].tolist())
    assert f"Lowest AIC: **{expected.best}**" in texts(at)
    at.number_input(key="ex_seed").set_value(7)
    at.slider(key="ex_corr").set_value(0.8).run()
    assert not at.exception
    assert "Lowest AIC: **Random slope, correlated**" in texts(at)
    assert len(figures(at)) == 1


def test_revealed_answer_stays_revealed_after_another_page(at):
    at.toggle(key="ex_answer_2").set_value(True).run()
    at.switch_page("app_pages/three_ways.py")
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert at.toggle(key="ex_answer_2").value is True
    assert at.dataframe
