"""What only a browser shows: keyboard on sliders, the figure redrawing, the URL, themes."""
from urllib.parse import parse_qs, urlparse

import pytest

from benchmarks import browser_kit as kit

PARTIAL = "Partial pooling"


def query(page) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}


def trace_names(page, figure: int = 0) -> list[str]:
    return page.evaluate("(i) => document.querySelectorAll('.js-plotly-plot')[i].data.map(t => t.name || '')",
                         figure)


def panels_drawn(page) -> int:
    return sum(PARTIAL in name for name in trace_names(page))


def paper_colour(page, figure: int = 0) -> str:
    return page.evaluate("(i) => document.querySelectorAll('.js-plotly-plot')[i]._fullLayout.paper_bgcolor",
                         figure)


def app_background(page) -> tuple[int, int, int]:
    rgb = page.evaluate("getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor")
    return tuple(int(float(v)) for v in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3])


def is_dark(rgb: tuple[int, int, int]) -> bool:
    return sum(rgb) / 3 < 128


def hex_rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4))


def test_panels_slider_moves_with_the_keyboard_and_redraws(app, server, screenshot):
    kit.open_app(app, server.url("", data="gpa"))
    box = kit.slider(app, "panels")
    assert box.input_value() == "12" and panels_drawn(app) == 12
    kit.press_and_time(app, "panels", "ArrowRight")
    assert box.input_value() == "13"
    assert panels_drawn(app) == 13
    assert query(app)["panels"] == "13"
    kit.press_and_time(app, "panels", "ArrowLeft")
    kit.press_and_time(app, "panels", "ArrowLeft")
    assert panels_drawn(app) == 11 and query(app)["panels"] == "11"
    assert kit.page_problems(app) == []
    screenshot(app, "interaction__panels-11")


def test_group_selectbox_changes_the_view_and_the_url(app, server):
    kit.open_app(app, server.url("shrinkage-map", data="sleepstudy"))
    combo = app.locator(".st-key-group input[role='combobox']")
    first = combo.input_value()
    other = "309" if first != "309" else "310"
    before = kit.runs(app)
    combo.click()
    app.get_by_role("option", name=other, exact=True).click()
    kit.wait_for_run(app, before)
    kit.wait_for_figures(app)
    assert combo.input_value() == other
    assert query(app)["group"] == other
    assert app.get_by_role("heading", name=f"Subject {other}").count() == 1
    assert any(other in name for name in trace_names(app) if name.startswith("Selected"))
    assert kit.page_problems(app) == []


def test_a_shared_url_restores_the_view(app, server, fresh_app):
    kit.open_app(app, server.url("", data="gpa"))
    kit.press_and_time(app, "panels", "ArrowLeft")
    kit.press_and_time(app, "panels", "ArrowLeft")
    shared = app.url
    assert query(app)["panels"] == "10"
    names = trace_names(app)

    # A second student opens the link in a new tab: same slider value, same figure.
    other = fresh_app()
    kit.open_app(other, shared)
    assert kit.slider(other, "panels").input_value() == "10"
    assert trace_names(other) == names
    assert kit.page_problems(other) == []


def test_a_link_to_a_group_opens_that_group(app, server):
    kit.open_app(app, server.url("shrinkage-map", data="sleepstudy", group="372"))
    assert app.locator(".st-key-group input[role='combobox']").input_value() == "372"
    assert app.get_by_role("heading", name="Subject 372").count() == 1


def test_figures_follow_a_dark_system_theme(fresh_app, server, screenshot):
    page = fresh_app(color_scheme="dark")
    kit.open_app(page, server.url("shrinkage-map", data="sleepstudy"))
    assert is_dark(app_background(page))
    assert is_dark(hex_rgb(paper_colour(page)))
    screenshot(page, "theme__dark-system")


def test_switching_theme_in_the_menu(fresh_app, server, screenshot):
    app = fresh_app(color_scheme="light")
    kit.open_app(app, server.url("", data="gpa"))
    assert not is_dark(app_background(app)) and not is_dark(hex_rgb(paper_colour(app)))
    app.get_by_test_id("stMainMenu").click()
    app.get_by_test_id("stMainMenuItem-theme-Dark").click()
    app.keyboard.press("Escape")
    app.wait_for_function("() => { const c = getComputedStyle(document.querySelector('[data-testid=stApp]'))"
                          ".backgroundColor.match(/\\d+/g).map(Number); return (c[0] + c[1] + c[2]) / 3 < 128; }")
    # Streamlit tells the script about a theme change only on its next run (its issue
    # #11920), so the figures turn dark once anything is touched.
    kit.press_and_time(app, "panels", "ArrowRight")
    assert is_dark(hex_rgb(paper_colour(app)))
    screenshot(app, "theme__dark-menu")


LAB_CONTROLS = ["groups", "per_group", "sd_int", "sd_slope", "corr", "sd_resid", "balance", "seed"]


def nudge(page, key: str) -> None:
    """Change the lab control `key` the way a student would and wait for the redraw."""
    if kit.slider(page, key).count():
        kit.press_and_time(page, key)
        return
    before = kit.runs(page)
    box = page.locator(f".st-key-{key}")
    if box.locator("input[type='radio']").count():
        box.locator("label:has(input[type='radio']:not(:checked))").first.click()
    else:  # a number input: its + button
        box.get_by_test_id("stNumberInputStepUp").click()
    kit.wait_for_run(page, before)
    kit.wait_for_figures(page)


def control_value(page, key: str) -> str:
    box = page.locator(f".st-key-{key}")
    if box.locator("input[type='radio']").count():
        return box.locator("input[type='radio']:checked").first.evaluate("e => e.value + e.parentElement.innerText")
    return box.locator("input").first.input_value()


def test_lab_controls_redraw_and_go_into_the_url(app, server, screenshot):
    kit.open_app(app, server.url("lab", data="sleepstudy"))
    if app.get_by_role("heading", name="(being built)").count():
        pytest.skip("the lab page is still a placeholder")
    missing = [key for key in LAB_CONTROLS if app.locator(f".st-key-{key}").count() == 0]
    assert not missing, f"lab controls not found: {missing}"
    for key in LAB_CONTROLS:
        before = control_value(app, key)
        nudge(app, key)
        assert control_value(app, key) != before, key
        assert key in query(app), f"{key} is not in the URL {app.url}"
        assert kit.page_problems(app) == [], key
    screenshot(app, "lab__after-moves")
    # The link restores every control.
    values = {key: control_value(app, key) for key in LAB_CONTROLS}
    kit.open_app(app, app.url)
    assert {key: control_value(app, key) for key in LAB_CONTROLS} == values


def test_a_slider_move_updates_the_figure_in_place_and_draws_it_once(app, server):
    # The lab's figures are live charts (app_shell.live_chart): a move hands the new figure to the
    # plot already on the page (Plotly.react), which draws it once, visible; st.plotly_chart would
    # mount a new chart and draw it twice, first hidden.
    kit.open_app(app, server.url("lab"))
    app.evaluate("document.querySelectorAll('.js-plotly-plot').forEach((gd) => { gd.__before_move = true; })")
    first = app.evaluate("window.__probe.redraws.length")
    before = trace_names(app)
    kit.press_and_time(app, "groups", "ArrowLeft")
    kept = app.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot')).map((gd) => !!gd.__before_move)")
    assert kept == [True, True]
    redraws = app.evaluate("(n) => window.__probe.redraws.slice(n)", first)
    for figure in (0, 1):
        mine = [r for r in redraws if r[1] == figure]
        assert len(mine) == 1 and mine[0][3], (figure, redraws)  # one draw, and it was visible
    assert trace_names(app) == before  # the same kinds of traces, new numbers
    assert kit.page_problems(app) == []


NO_WEBGL = """HTMLCanvasElement.prototype.getContext = ((get) => function (kind, ...rest) {
  return /webgl/i.test(kind) ? null : get.call(this, kind, ...rest);
})(HTMLCanvasElement.prototype.getContext);"""


def test_the_labs_map_draws_its_points_with_webgl_and_as_svg_where_there_is_none(fresh_app, server):
    # The lab's dense map asks for WebGL points (charts.shrinkage_map(webgl=True)); the live chart
    # draws them as SVG first (a new tab does not wait for WebGL's set-up) and with WebGL once the
    # browser is idle; a browser without WebGL keeps the SVG points, not Plotly's error.
    drawn = {}
    for webgl in (True, False):
        page = fresh_app()
        if not webgl:
            page.add_init_script(NO_WEBGL)
        kit.open_app(page, server.url("lab"))
        kit.wait_for_figures(page)
        first = page.evaluate("() => document.querySelector('.js-plotly-plot')._fullData.map((t) => t.type)")
        assert "scattergl" not in first, "the first draw waited for WebGL"
        if webgl:  # redrawn with WebGL once the page is idle (about a second after it was drawn)
            page.wait_for_function("""() => document.querySelector('.js-plotly-plot')._fullData
                .some((t) => t.type === 'scattergl')""", timeout=15_000)
        else:
            page.wait_for_timeout(3000)  # no redraw comes: there is no WebGL to redraw with
        drawn[webgl] = page.evaluate("""() => { const gd = document.querySelector('.js-plotly-plot');
            return {types: gd._fullData.map((t) => t.type), names: gd._fullData.map((t) => t.name),
                    svgPoints: gd.querySelectorAll('.scatterlayer .point').length,
                    canvases: gd.querySelectorAll('canvas').length}; }""")
        assert kit.page_problems(page) == []
        assert "could not be drawn" not in page.locator('[data-testid="stPlotlyChart"]').first.inner_text()
    with_gl, without = drawn[True], drawn[False]
    assert with_gl["names"] == without["names"]  # the same figure
    assert "scattergl" in with_gl["types"] and with_gl["canvases"] > 0
    assert with_gl["svgPoints"] == 0  # every point on the WebGL canvas (the arrows are lines)
    assert "scattergl" not in without["types"]
    assert without["svgPoints"] >= 3 * 200  # own, mixed and true point of each of the 200 groups


def test_a_live_figure_has_its_caption_as_name_and_a_full_screen_button(app, server):
    kit.open_app(app, server.url("lab"))
    chart = app.locator('[data-testid="stPlotlyChart"]').first
    assert chart.get_attribute("aria-label").startswith("Shrinkage map of the simulated groups")
    chart.hover()
    button = chart.locator('.modebar-btn[data-title="Fullscreen"]')
    button.click()
    app.wait_for_function("() => document.fullscreenElement !== null")
    # Full screen, the figure fills the screen; back, it has its column's width again.
    app.wait_for_function("() => { const gd = document.fullscreenElement.querySelector('.js-plotly-plot');"
                          " return gd._fullLayout.width === innerWidth && gd._fullLayout.height === innerHeight; }")
    app.evaluate("document.exitFullscreen()")
    app.wait_for_function("() => { const gd = document.querySelector('.js-plotly-plot');"
                          " return document.fullscreenElement === null"
                          " && Math.abs(gd._fullLayout.width - gd.parentElement.clientWidth) <= 1; }")


# The page position of point ``index`` of the first trace named ``name`` in the first figure, and
# the group it carries (customdata[0], or customdata itself).
POINT_JS = """([name, index]) => { const gd = document.querySelector('.js-plotly-plot');
  const t = gd.data.find((d) => d.name === name); const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const box = gd.getBoundingClientRect(); const data = t.customdata[index];
  return {x: box.left + xa._offset + xa.l2p(t.x[index]), y: box.top + ya._offset + ya.l2p(t.y[index]),
          group: Array.isArray(data) ? data[0] : data}; }"""


@pytest.mark.parametrize("model,points", [("Random intercept", "No pooling (each group alone)"),
                                          ("Random intercept and slope (correlated)", "No pooling"),
                                          ("Random intercept and slope (correlated)", "Partial pooling")])
def test_clicking_a_groups_point_on_the_map_looks_closer_at_that_group(app, server, model, points):
    # The strip of one coefficient and the intercept–slope map: a click on a group's own estimate
    # (where its arrow starts, so the arrow may be what the click finds) or on its mixed-model
    # point chooses that group, as the chooser above the map does.
    kit.open_app(app, server.url("shrinkage-map", data="sleepstudy", model=model))
    before_group = app.locator(".st-key-group input[role='combobox']").input_value()
    spot = app.evaluate(POINT_JS, [points, 4])
    assert spot["group"] and spot["group"] != before_group
    since = kit.runs(app)
    app.mouse.move(spot["x"], spot["y"])
    app.mouse.click(spot["x"], spot["y"])
    kit.wait_for_run(app, since)
    app.get_by_role("heading", name=f"Subject {spot['group']}").wait_for()
    assert app.locator(".st-key-group input[role='combobox']").input_value() == spot["group"]
    assert query(app)["group"] == spot["group"]
    assert any(spot["group"] in name for name in trace_names(app) if name.startswith("Selected"))
    assert kit.page_problems(app) == []


def test_pages_load_the_apps_own_plotly_and_not_streamlits(fresh_app, server):
    # The live chart loads static/plotly-shrinkage.min.js (1.6 MB); Streamlit's 4.7 MB Plotly chunk
    # is loaded only by st.plotly_chart, which no page uses while the bundle is served.
    page = fresh_app()
    for path in ("", "shrinkage-map", "lab", "predictions"):
        kit.open_app(page, server.url(path))
    loaded = page.evaluate("() => performance.getEntriesByType('resource').map((e) => e.name)")
    assert sum("app/static/plotly-shrinkage.min.js" in url for url in loaded) == 1  # once per tab
    assert not any("/PlotlyChart." in url for url in loaded)
    assert page.evaluate("() => document.querySelectorAll('.js-plotly-plot').length") >= 1
    assert kit.page_problems(page) == []
