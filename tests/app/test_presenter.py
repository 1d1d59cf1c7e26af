"""Presenter mode (AppTest): switched by URL or toggle, kept across pages, big figure text."""
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_pages import figures

import charts
from app_shell import presenter

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def open_app(page: str | None = None, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def is_presenting(at: AppTest) -> bool:
    styled = any('[data-testid="stSidebar"]' in h.proto.body for h in at.html)
    exit_button = any(b.key == "presenter_exit" for b in at.button)
    toggles = [t for t in at.toggle if t.key == presenter.TOGGLE]
    assert styled == exit_button == (not toggles)  # the look, the exit and the switch agree
    return styled


def test_off_by_default_with_a_switch_in_the_sidebar():
    at = open_app()
    assert not is_presenting(at)
    assert at.sidebar.toggle(key=presenter.TOGGLE).value is False
    assert "present" not in at.query_params


def test_presenter_url_opens_the_walkthrough_at_its_step_in_presenter_mode():
    at = open_app("app_pages/walkthrough.py", present="1", path="sleepstudy", step="7")
    assert is_presenting(at)
    assert at.subheader[0].value == "Step 7 of 10 · The shrinkage map"
    assert at.query_params["present"] == "1" and at.query_params["step"] == "7"
    assert not at.title  # no page title in presenter mode: the step heading is enough
    layout = figures(at)[0]["layout"]
    font = layout.get("font") or layout["template"]["layout"]["font"]
    assert font["size"] == charts.base.PRESENTER_FONT
    assert layout["height"] >= 0.6 * presenter.DEFAULT_VIEWPORT  # follows the window, not a fixed 520 px


def test_normal_mode_keeps_the_normal_figure_text():
    at = open_app("app_pages/walkthrough.py", path="sleepstudy", step="7")
    layout = figures(at)[0]["layout"]
    font = layout.get("font") or layout["template"]["layout"]["font"]  # Streamlit may fold it into the template
    assert font["size"] == 17


def test_toggle_on_then_leave_with_the_button():
    at = open_app()
    at.sidebar.toggle(key=presenter.TOGGLE).set_value(True).run()
    assert is_presenting(at) and at.query_params["present"] == "1"
    at.button(key="presenter_exit").click().run()
    assert not is_presenting(at) and "present" not in at.query_params


def test_stays_on_across_pages_and_puts_itself_back_in_the_url():
    at = open_app(present="1")
    at.query_params.clear()  # a page switch in the browser drops the address's parameters
    at.switch_page("app_pages/shrinkage_map.py")
    at.run()
    assert not at.exception
    assert is_presenting(at) and at.query_params["present"] == "1"


@pytest.mark.parametrize("value,on", [("0", False), ("false", False), ("yes", True), ("banana", False)])
def test_url_words(value, on):
    at = open_app(present=value)
    assert is_presenting(at) == on
    if value == "banana":
        assert "present" not in at.query_params  # not understood: dropped, mode unchanged


def test_keyboard_navigation_buttons_have_arrow_shortcuts():
    at = open_app("app_pages/walkthrough.py", present="1", path="gpa", step="2")
    assert at.button(key="wt_next").proto.shortcut.lower() == "right"
    assert at.button(key="wt_back").proto.shortcut.lower() == "left"
    assert at.button(key="presenter_exit").proto.shortcut.lower() in ("esc", "escape")
    script = [h.proto.body for h in at.html if "ArrowRight" in h.proto.body]
    assert script and ".st-key-wt_next button" in script[0]  # keys work before the first click too


def test_presenter_figures_redo_the_room_for_panel_titles():
    """A legend over panel titles: the room above the panels is worked out again for the presenter's
    larger titles and taller figure, so the gap does not grow with the height (it did: 45–149 px)."""
    import numpy as np
    import pandas as pd
    import plotly.graph_objects as go
    from charts.base import TITLE_ROOM, present
    from charts.pooling import pooling_facets

    obs = pd.DataFrame({"group": np.repeat(["a", "b", "c"], 3), "x": [0, 1, 2] * 3, "y": np.arange(9.0)})
    lines = pd.DataFrame({"group": np.repeat(["a", "b", "c"], 2), "method": "partial", "x": [0, 2] * 3, "y": [0, 1] * 3})
    normal = go.Figure(pooling_facets(obs, lines, ncols=3).to_dict())
    before = normal.layout.meta[TITLE_ROOM]["share"]
    assert normal.layout.yaxis.domain[1] == pytest.approx(1 - before)
    shown = present(go.Figure(normal.to_dict()), "light", height=842)
    after = shown.layout.meta[TITLE_ROOM]["share"]
    assert after < before  # a figure 2.6 times as tall needs a smaller share for titles 1.3 times as large
    top = shown.layout.yaxis.domain[1]
    assert top == pytest.approx(1 - after)
    titles = [n for n in shown.layout.annotations if n.yanchor == "bottom" and 0 < n.y <= 1]
    assert len(titles) == 3 and all(n.y == pytest.approx(top) for n in titles)
    room_px = after * (842 - shown.layout.margin.t - shown.layout.margin.b)
    assert 22 * 1.2 < room_px < 22 * 1.45 * 1.6  # about one line of 20–22 px titles, not a screen's share
