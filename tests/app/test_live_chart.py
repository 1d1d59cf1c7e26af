"""Figures are drawn by the live chart (app_shell.live_chart): one element per figure key that keeps
its id while its figure changes, so the browser updates the plot in place instead of remounting it."""
import json
from pathlib import Path

import streamlit as st
from test_pages import APP, chart_elements, no_exception, open_page, spec

from app_shell import live_chart, ui


def live(at) -> dict:
    return {el.proto.id: json.loads(el.proto.bytes) for el in chart_elements(at) if el.type == "bidi_component"}


def test_the_installed_streamlit_has_the_plotly_chunk_the_chart_falls_back_to():
    chunk = live_chart.plotly_chunk()
    assert chunk and chunk.startswith("PlotlyChart.") and chunk.endswith(".js")


def test_the_apps_own_plotly_bundle_is_served_from_its_static_folder():
    # .streamlit/config.toml switches static serving on; Streamlit serves static/ at app/static/.
    assert live_chart.plotly_bundle() == "app/static/plotly-shrinkage.min.js"
    assert live_chart.BUNDLE.parent == Path(APP).parent / "static" and live_chart.BUNDLE.is_file()


def test_without_static_serving_the_chart_loads_streamlits_chunk(monkeypatch):
    real = st.get_option
    monkeypatch.setattr(live_chart.st, "get_option",
                        lambda name: False if name == "server.enableStaticServing" else real(name))
    assert live_chart.plotly_bundle() is None and live_chart.available()
    at = no_exception(open_page("app_pages/lab.py"))
    assert {m["bundle"] for m in live(at).values()} == {None}
    assert {m["chunk"] for m in live(at).values()} == {live_chart.plotly_chunk()}


def test_a_slider_move_updates_the_same_elements_with_new_figures():
    at = no_exception(open_page("app_pages/lab.py"))
    before = live(at)
    assert len(before) == 2
    assert all(m["bundle"] == live_chart.BUNDLE_URL and m["chunk"] == live_chart.plotly_chunk() and m["alt"]
               and m["clickable"] is False for m in before.values())
    at.slider(key="groups").set_value(50).run()
    after = live(no_exception(at))
    assert after.keys() == before.keys()  # same element ids: the browser keeps the plots
    for element_id, message in after.items():
        assert message["figure"] != before[element_id]["figure"]


def test_the_caption_is_the_figures_accessible_name():
    at = no_exception(open_page("app_pages/lab.py"))
    (first, *_) = chart_elements(at)
    assert json.loads(first.proto.bytes)["alt"].startswith("Shrinkage map of the simulated groups")


def test_the_shrinkage_maps_points_can_be_clicked_in_the_live_chart():
    # The map's points (and arrows) can be clicked to look closer at a group: the live chart
    # reports the click (a trigger value; the browser test clicks), no st.plotly_chart is needed.
    at = no_exception(open_page("app_pages/shrinkage_map.py"))
    first = chart_elements(at)[0]
    assert first.type == "bidi_component" and json.loads(first.proto.bytes)["clickable"] is True
    assert not at.get("plotly_chart")


def test_a_click_reported_by_the_live_chart_names_its_group():
    click = {"click": {"points": [{"customdata": None}, {"customdata": ["309", 10, "x"]}]}}
    assert live_chart.clicked_points(click) == click["click"]["points"]
    assert ui.clicked_group(click) == "309"
    for nothing in (None, {}, {"click": None}, {"click": {"points": "309"}}, {"click": [1]}):
        assert live_chart.clicked_points(nothing) == [] and ui.clicked_group(nothing) is None


def test_without_any_plotly_every_figure_falls_back_to_plotly_chart(monkeypatch):
    monkeypatch.setattr(live_chart, "plotly_chunk", lambda: None)
    monkeypatch.setattr(live_chart, "plotly_bundle", lambda: None)
    at = no_exception(open_page("app_pages/lab.py"))
    elements = chart_elements(at)
    assert len(elements) == 2 and {el.type for el in elements} == {"plotly_chart"}
    assert spec(elements[0])["data"]
    at = no_exception(open_page("app_pages/shrinkage_map.py"))
    (first, *_) = chart_elements(at)
    assert first.type == "plotly_chart" and first.proto.selection_mode  # still clickable


def test_the_script_never_writes_html_from_the_message():
    # The caption and the figure come from the server and may carry an upload's names: the
    # script sets them as attributes and hands the figure to Plotly, never as markup.
    assert "innerHTML" not in live_chart._JS and "insertAdjacentHTML" not in live_chart._JS
