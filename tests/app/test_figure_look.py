"""The figures' look: every series visible on both themes' backgrounds (WCAG contrast), the
figures drawn on Streamlit's own page colours, and presenter mode's minimum text size.

The colour checks read the colours from charts.base (METHOD_STYLE and the rest) rather than
listing them, so they check whatever colours the app uses.
"""
import itertools

import pytest

import charts
import datasets
from charts import base
from charts import walkthrough as wt_charts
from teaching.pooling import compare_pooling
from teaching.selection import observations

THEMES = ("light", "dark")
# Streamlit 1.67's own page colours (measured in the browser: stApp's background and text).
STREAMLIT_PAGE = {"light": ("#FFFFFF", "#2F2D2B"), "dark": ("#171614", "#EDEBE8")}


def series_colors():
    """Every colour a figure draws data with, by name."""
    named = {f"method {m}": s["color"] for m, s in base.METHOD_STYLE.items()}
    named["truth"] = base.TRUTH_COLOR
    named.update({f"prediction {k}": s["color"] for k, s in wt_charts.PREDICTION_STYLE.items()})
    return named


@pytest.mark.parametrize("theme", THEMES)
def test_figures_sit_on_the_page_background(theme):
    page, text = STREAMLIT_PAGE[theme]
    c = base.palette(theme)
    assert c["paper"].upper() == c["plot"].upper() == page
    assert c["text"].upper() == text


@pytest.mark.parametrize("theme", THEMES)
def test_every_series_colour_stands_out_from_the_background(theme):
    background = base.palette(theme)["plot"]
    low = {}
    for name, color in series_colors().items():
        shown = base.shown_color(color, theme)
        ratio = base.contrast(base.over(shown, background), background)
        if ratio < 3.0:
            low[name] = f"{color} drawn as {shown}: {ratio:.2f}:1"
    c = base.palette(theme)
    for name in ("points", "population", "text"):
        ratio = base.contrast(base.over(c[name], background), background)
        if ratio < 3.0:
            low[name] = f"{c[name]}: {ratio:.2f}:1"
    assert not low, f"below 3:1 against {background}: {low}"


@pytest.mark.xfail(base.METHOD_STYLE["partial"]["color"].upper() == "#D55E00", strict=True,
                   reason="Okabe-Ito vermillion next to orange is too close; issue 16 picks a third hue")
@pytest.mark.parametrize("theme", THEMES)
def test_method_colours_stay_apart_after_adjustment(theme):
    """Darkening or lightening for contrast must not make two methods look alike."""
    shown = {m: base._channels(base.shown_color(s["color"], theme))[0] for m, s in base.METHOD_STYLE.items()}
    for a, b in itertools.combinations(shown, 2):
        distance = sum((x - y) ** 2 for x, y in zip(shown[a], shown[b])) ** 0.5
        assert distance > 80, (a, b, shown[a], shown[b])


def test_shown_color_keeps_good_colours_and_fixes_weak_ones():
    assert base.shown_color("#000000", "light") == "#000000"
    weak = "#F0E442"  # Okabe-Ito yellow: 1.3:1 on white
    fixed = base.shown_color(weak, "light")
    assert fixed != weak and base.contrast(fixed, "#FFFFFF") >= base.MIN_CONTRAST["light"]
    translucent = base.shown_color("rgba(240, 228, 66, 0.5)", "light")
    assert translucent.startswith("rgba(") and translucent.endswith(", 0.5)")
    assert base.shown_color("not a colour", "dark") == "not a colour"


@pytest.fixture(scope="module")
def sleep():
    info = datasets.info("sleepstudy")
    result = compare_pooling(datasets.load("sleepstudy"), info.response, info.group, covariate=info.covariate,
                             random="both")
    return result


def _figures(result, theme):
    obs = observations(result)
    yield charts.pooling_facets(obs, result.lines, theme=theme, x_label="Days", y_label="Reaction")
    yield charts.shrinkage_map(result.table, population=(250.0, 10.0), theme=theme, selected="308")


def _trace_colors(fig):
    for trace in fig.data:
        for path in base._COLOR_PATHS:
            holder = trace
            for part in path[:-1]:
                holder = getattr(holder, part, None)
                if holder is None:
                    break
            value = getattr(holder, path[-1], None) if holder is not None else None
            if isinstance(value, str) and base._channels(value) is not None and path[0] != "fillcolor":
                yield trace.name, value


@pytest.mark.parametrize("theme", THEMES)
def test_drawn_figures_use_visible_colours(sleep, theme):
    background = base.palette(theme)["plot"]
    for fig in _figures(sleep, theme):
        assert fig.layout.template.layout.plot_bgcolor.upper() == background.upper() if not isinstance(
            fig.layout.template, str) else True
        for name, color in _trace_colors(fig):
            if color.upper() == base.palette(theme)["paper"].upper():
                continue  # marker outlines in the background colour (a halo), not a series
            ratio = base.contrast(base.over(color, background), background)
            assert ratio >= 3.0, (name, color, ratio)


@pytest.mark.parametrize("theme", THEMES)
def test_presenter_figures_have_no_text_under_the_minimum(sleep, theme):
    for fig in _figures(sleep, theme):
        base.present(fig, theme, height=840)
        template = fig.layout.template
        layout = template.layout if not isinstance(template, str) else None
        if layout is not None:
            assert layout.font.size >= base.MIN_PRESENTER_FONT
        assert fig.layout.height == 840
        sizes = [a.font.size for a in fig.layout.annotations if a.font is not None and a.font.size]
        if fig.layout.legend.font is not None and fig.layout.legend.font.size:
            sizes.append(fig.layout.legend.font.size)
        assert all(size >= base.MIN_PRESENTER_FONT for size in sizes), sizes


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_matrix_heatmaps_draw_zero_as_the_background_with_readable_cell_text(theme):
    """The design matrices: 0 in the page's background colour (not white on the dark page), and the
    cell text readable (4.5:1) on every colour of the scale."""
    import pandas as pd
    from charts.base import contrast, palette
    from charts.fitting import design_heatmap

    frame = pd.DataFrame({"(Intercept)": [1.0, 1.0, 1.0], "Days": [0.0, -2.5, 4.0]})
    fig = design_heatmap(frame, theme=theme)
    heat = fig.data[0]
    scale = [c for _, c in heat.colorscale]
    assert scale[0] == palette(theme)["plot"]
    assert all(contrast(heat.textfont.color, c) >= 4.5 for c in scale)
    assert heat.z[0][1] == 0 and heat.z[1][1] == 2.5  # coloured by size: a negative value is not "below 0"
    assert heat.text[1][1] == "-2.5"
