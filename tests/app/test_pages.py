"""Headless page tests (AppTest): every page with every data set and model, and what is drawn."""
import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import datasets

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGES = ["app_pages/home.py", "app_pages/three_ways.py", "app_pages/shrinkage_map.py"]
CASES = [(d, m.label) for d in datasets.names() for m in datasets.info(d).models]


def open_page(page: str, **params) -> AppTest:
    """The app opened with URL parameters, then switched to ``page`` (shared by the page tests)."""
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page != "app_pages/three_ways.py":
        at.switch_page(page)
        at.run()
    return at


def open_sections(at: AppTest, *keys: str) -> AppTest:
    """Open the page's sections (``ui.section``, expanders drawn only while open) named by their keys,
    as a click on each would, and rerun."""
    for key in keys:
        at.session_state[key] = True
    at.run()
    return at


def no_exception(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def chart_elements(at: AppTest) -> list:
    """Every figure element of the page in page order: st.plotly_chart's and the live charts
    (``app_shell.live_chart``, a Streamlit component that AppTest shows as an unknown element)."""
    from app_shell import live_chart

    found = []

    def walk(node):
        kind = getattr(node, "type", None)
        if kind == "plotly_chart" or (kind == "bidi_component" and live_chart.figure_bytes(node.proto) is not None):
            found.append(node)
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for index in sorted(children):
                walk(children[index])

    walk(at._tree)
    return found


def spec(element) -> dict:
    """The Plotly figure (data and layout) an element of ``chart_elements`` draws."""
    from app_shell import live_chart

    if element.type == "plotly_chart":
        return json.loads(element.proto.spec)
    return live_chart.figure_of(element.proto)


def figures(at: AppTest) -> list[dict]:
    return [spec(el) for el in chart_elements(at)]


def values(array) -> np.ndarray:
    """Plotly sends numpy arrays as base64 typed arrays; lists stay lists."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).astype(float)
    return np.array(array, dtype=float)


def traces(fig: dict, name_part: str) -> list[dict]:
    return [t for t in fig["data"] if name_part in (t.get("name") or "")]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("data,model", CASES)
def test_every_page_every_model_runs(page, data, model):
    at = open_page(page, data=data, model=model)
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key="data").value == data
    assert at.selectbox(key="model").value == model


def test_facets_have_three_lines_per_group_and_a_method_can_be_switched_off():
    at = open_page("app_pages/three_ways.py", data="sleepstudy")
    facets = figures(at)[0]
    for method in ("Complete pooling", "No pooling", "Partial pooling"):
        assert len(traces(facets, method)) == 18  # one line per subject
    at.pills(key="lines").set_value(["complete", "partial"]).run()
    facets = figures(at)[0]
    assert traces(facets, "No pooling") == []
    assert len(traces(facets, "Partial pooling")) == 18


def test_gpa_shows_a_subset_of_students():
    at = open_page("app_pages/three_ways.py", data="gpa")
    assert len(traces(figures(at)[0], "Partial pooling")) == 12
    at.slider(key="panels").set_value(6).run()
    assert len(traces(figures(at)[0], "Partial pooling")) == 6
    at.radio(key="subset").set_value("picked").run()
    at.multiselect(key="picked").set_value(["1", "2", "3"]).run()
    panels = [t["name"] for t in figures(at)[0]["data"]]
    assert len(traces(figures(at)[0], "Partial pooling")) == 3
    assert not at.exception, panels


def test_shrinkage_map_has_one_arrow_per_group():
    at = open_page("app_pages/shrinkage_map.py", data="sleepstudy",
                   model="Random intercept and slope (correlated)")
    fig = figures(at)[0]
    arrows = traces(fig, "Shrinkage")[0]
    ys = values(arrows["y"])
    assert np.isnan(ys).sum() == 18  # one NaN break after each arrow
    assert len(traces(fig, "Estimated spread")) == 1


def test_shrinkage_identity_on_the_page_matches_the_engine():
    at = open_page("app_pages/shrinkage_map.py", data="sleepstudy", model="Random intercept")
    text = " ".join(l.value for l in at.latex)
    assert r"\lambda_j" in text
    caption = " ".join(c.value for c in at.caption)
    assert "the same number" in caption


def test_selecting_a_group_by_url_and_picker():
    at = open_page("app_pages/shrinkage_map.py", data="sleepstudy", group="337")
    assert at.selectbox(key="group").value == "337"
    at.selectbox(key="group").set_value("309").run()
    assert not at.exception
    assert any("309" in h.value for h in at.subheader)


def test_choice_survives_a_page_switch():
    at = open_page("app_pages/three_ways.py", data="iris")
    at.switch_page("app_pages/shrinkage_map.py")
    at.run()
    assert at.selectbox(key="data").value == "iris"
    assert not at.exception


@pytest.mark.parametrize("data", ["sleepstudy", "iris"])
def test_the_model_printout_is_what_lme4_prints_for_the_formula(data):
    # The page's fit is built from arrays (teaching.pooling); its printout still names the formula,
    # as summary(lmer(formula, data)) does, and equals the printout of fitting that formula.
    from lmm_core import lmer

    at = no_exception(open_sections(open_page("app_pages/three_ways.py", data=data), "three_ways_numbers"))
    printout = next(t.value for t in at.text if t.value.startswith("Linear mixed model fit by REML"))
    formula = printout.splitlines()[1].removeprefix("Formula: ")
    assert "~" in formula and "arrays" not in formula
    assert printout == lmer(formula, datasets.load(data)).summary(data_name=data)
