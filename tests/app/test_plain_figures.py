"""Figures built from plain dicts (charts.base.PlainFigure): valid Plotly, the same content as the
data they show (rounded to what the eye can see), and ordinary figures to code that inspects them."""
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from test_pages import figures, no_exception, open_page, values

import charts
import datasets
from charts.base import PlainFigure, rounded
from teaching import lab
from teaching.pooling import compare_pooling
from teaching.selection import observations
from teaching.simulate import SimulationSettings

# Pages whose figures are all built by the plain-dict builders, with the URL that shows them.
PAGES = [
    ("app_pages/three_ways.py", {}),
    ("app_pages/three_ways.py", {"data": "gpa"}),
    ("app_pages/shrinkage_map.py", {}),
    ("app_pages/shrinkage_map.py", {"data": "sleepstudy", "model": "Random intercept"}),
    ("app_pages/lab.py", {}),
    ("app_pages/thinning.py", {}),
    ("app_pages/thinning.py", {"thin_mode": "One subject"}),
    ("app_pages/predictions.py", {}),
    ("app_pages/fitting.py", {}),
    ("app_pages/walkthrough.py", {"path": "sleepstudy", "step": "3"}),
    ("app_pages/walkthrough.py", {"path": "sleepstudy", "step": "9"}),
    ("app_pages/walkthrough.py", {"path": "sleepstudy", "step": "10"}),
    ("app_pages/walkthrough.py", {"path": "gpa", "step": "2"}),
]


@pytest.mark.parametrize("page,params", PAGES)
def test_every_figure_is_valid_plotly(page, params):
    """Plotly's own validation accepts every figure sent to the browser: no misspelt property,
    no value of the wrong kind (the plain-dict builders skip this check when they build)."""
    at = no_exception(open_page(page, **params))
    specs = figures(at)
    assert specs
    for spec in specs:
        go.Figure(spec)  # raises ValueError on an unknown property or an invalid value


@pytest.fixture(scope="module")
def sleep_pooling():
    info = datasets.info("sleepstudy")
    return compare_pooling(datasets.load("sleepstudy"), info.response, info.group, covariate=info.covariate,
                           random="both")


def test_facets_show_every_group_its_points_and_lines_in_its_own_panel(sleep_pooling):
    obs = observations(sleep_pooling)
    fig = charts.pooling_facets(obs, sleep_pooling.lines, x_label="Days", y_label="Reaction")
    spec = json.loads(pio.to_json(fig, validate=False))
    layout = spec["layout"]
    groups = list(dict.fromkeys(obs["group"].astype(str)))
    titles = [a["text"] for a in layout["annotations"]][:len(groups)]
    assert titles == groups
    for i, g in enumerate(groups):
        axis = "" if i == 0 else str(i + 1)
        mine = [t for t in spec["data"] if t.get("xaxis") == f"x{axis}"]
        assert all(t["yaxis"] == f"y{axis}" for t in mine)
        points = next(t for t in mine if t["name"] == "Observations")
        d = obs[obs["group"].astype(str) == g]
        np.testing.assert_allclose(values(points["x"]), d["x"].to_numpy(float))
        np.testing.assert_allclose(values(points["y"]), d["y"].to_numpy(float), atol=0.05)  # 1/10,000 of the spread
        for method in charts.METHODS:
            line = next(t for t in mine if t["name"] == charts.METHOD_STYLE[method]["name"])
            want = sleep_pooling.lines[(sleep_pooling.lines["group"].astype(str) == g)
                                       & (sleep_pooling.lines["method"] == method)]
            np.testing.assert_allclose(values(line["y"]), want["y"].to_numpy(float), atol=0.05)
        if i:  # one scale for all panels, as before (shared axes)
            assert layout[f"xaxis{axis}"]["matches"] == "x" and layout[f"yaxis{axis}"]["matches"] == "y"
    # the legend names each kind of trace once
    assert sum(t.get("showlegend", False) for t in spec["data"] if t["name"] == "Observations") == 1


def test_plain_figure_is_an_ordinary_figure_to_code_that_inspects_it():
    traces = [{"type": "scatter", "x": np.array([0.0, 1.0]), "y": np.array([2.0, np.nan]), "mode": "lines",
               "name": "a", "text": np.array(["p", "q"], dtype=object)}]
    plain = PlainFigure(traces, {"xaxis": {"title": {"text": "x"}}})
    plain.update_layout(height=300, legend_font_size=12, xaxis={"range": [0, 1]})
    spec = json.loads(pio.to_json(plain, validate=False))
    assert spec["layout"]["height"] == 300 and spec["layout"]["legend"]["font"]["size"] == 12
    assert spec["layout"]["xaxis"] == {"title": {"text": "x"}, "range": [0, 1]}
    assert spec["data"][0]["y"] == [2.0, None] and spec["data"][0]["text"] == ["p", "q"]
    # The builder's arrays are not changed by serialising.
    assert isinstance(traces[0]["x"], np.ndarray)
    # Asking for trace objects turns it into a checked figure with the same content.
    assert plain.data[0].name == "a" and plain.layout.height == 300
    plain.update_layout(width=500)
    checked = json.loads(pio.to_json(plain, validate=False))
    assert checked["layout"]["width"] == 500 and checked["layout"]["legend"]["font"]["size"] == 12
    np.testing.assert_allclose(values(checked["data"][0]["x"]), [0.0, 1.0])


def test_rounding_keeps_what_the_eye_can_see():
    v = np.array([261.3449, 300.0, np.nan, 194.0])
    r = rounded(v)
    assert np.isnan(r[2])
    np.testing.assert_allclose(r[[0, 1, 3]], v[[0, 1, 3]], atol=1e-4 * 106)
    assert len(json.dumps(r[[0, 1, 3]].tolist())) < len(json.dumps((v[[0, 1, 3]] / 3).tolist()))
    tiny = np.array([1e-7, 3e-7])
    np.testing.assert_allclose(rounded(tiny), tiny, rtol=1e-3)
    assert rounded(np.array([5.0, 5.0])).tolist() == [5.0, 5.0]


def test_dense_maps_draw_arrows_without_heads_and_the_labs_points_with_webgl():
    def map_of(n_groups, webgl):
        settings = SimulationSettings(n_groups=n_groups, seed=4)
        view = lab.simulated_lab(settings)
        pop = view.result.population
        return charts.shrinkage_map(view.result.table, population=(pop["intercept"], pop["slope"]),
                                    truth=lab.truth_table(view.sim), webgl=webgl).to_dict()["data"]

    few, many, many_svg = map_of(20, True), map_of(200, True), map_of(200, False)
    few_arrows, many_arrows = (next(t for t in d if t["name"].startswith("Shrinkage")) for d in (few, many))
    assert few_arrows["mode"] == "lines+markers" and few_arrows["marker"]["symbol"] == "arrow"
    assert many_arrows["mode"] == "lines" and "marker" not in many_arrows
    assert {t["type"] for t in few} == {"scatter"}  # few groups: SVG, with arrowheads
    points = [t for t in many if t["mode"] == "markers"]
    assert {t["name"] for t in points} >= {"No pooling", "Partial pooling", "Truth"}
    assert {t["type"] for t in points} == {"scattergl"}
    assert {t["type"] for t in many if t["mode"] != "markers"} == {"scatter"}  # lines stay SVG
    assert {t["type"] for t in many_svg} == {"scatter"}
