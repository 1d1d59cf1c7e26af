"""Figures are drawn by the live chart (app_shell.live_chart): one element per figure key that keeps
its id while its figure changes, so the browser updates the plot in place instead of remounting it."""
import json

from test_pages import chart_elements, no_exception, open_page, spec

from app_shell import live_chart


def live(at) -> dict:
    return {el.proto.id: json.loads(el.proto.bytes) for el in chart_elements(at) if el.type == "bidi_component"}


def test_the_installed_streamlit_has_the_plotly_chunk_the_chart_loads():
    chunk = live_chart.plotly_chunk()
    assert chunk and chunk.startswith("PlotlyChart.") and chunk.endswith(".js")


def test_a_slider_move_updates_the_same_elements_with_new_figures():
    at = no_exception(open_page("app_pages/lab.py"))
    before = live(at)
    assert len(before) == 2
    assert all(m["chunk"] == live_chart.plotly_chunk() and m["alt"] for m in before.values())
    at.slider(key="groups").set_value(50).run()
    after = live(no_exception(at))
    assert after.keys() == before.keys()  # same element ids: the browser keeps the plots
    for element_id, message in after.items():
        assert message["figure"] != before[element_id]["figure"]


def test_the_caption_is_the_figures_accessible_name():
    at = no_exception(open_page("app_pages/lab.py"))
    (first, *_) = chart_elements(at)
    assert json.loads(first.proto.bytes)["alt"].startswith("Shrinkage map of the simulated groups")


def test_a_selectable_figure_stays_a_plotly_chart():
    # The shrinkage map's points can be clicked (on_select): only st.plotly_chart reports that.
    at = no_exception(open_page("app_pages/shrinkage_map.py"))
    kinds = [el.type for el in chart_elements(at)]
    assert kinds[0] == "plotly_chart"


def test_without_the_chunk_every_figure_falls_back_to_plotly_chart(monkeypatch):
    monkeypatch.setattr(live_chart, "plotly_chunk", lambda: None)
    at = no_exception(open_page("app_pages/lab.py"))
    elements = chart_elements(at)
    assert len(elements) == 2 and {el.type for el in elements} == {"plotly_chart"}
    assert spec(elements[0])["data"]


def test_the_script_never_writes_html_from_the_message():
    # The caption and the figure come from the server and may carry an upload's names: the
    # script sets them as attributes and hands the figure to Plotly, never as markup.
    assert "innerHTML" not in live_chart._JS and "insertAdjacentHTML" not in live_chart._JS
