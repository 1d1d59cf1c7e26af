"""The app's look: colours, fonts, themes and the helpers every figure uses.

One look for the whole app: the three pooling methods always have the same colour
and line style (Okabe-Ito colours, safe for colour-blind viewers, plus dashes so
they differ in greyscale too), large fonts and thick lines for projectors, and a
light and a dark variant. Builders take plain data frames, so they do not depend
on how a page computed them, and return a figure; pages add the caption.
"""
from __future__ import annotations


import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

# Three clearly different hues, safe for colour-blind viewers and readable on the light and the
# dark background: Okabe & Ito's orange and blue, and Paul Tol's purple (vermillion next to
# orange was too close). ``colour`` is the word the pages use for it: keep them in step.
METHOD_STYLE = {
    "complete": {"name": "Complete pooling (one line for all)", "short": "complete pooling",
                 "color": "#E69F00", "colour": "orange", "dash": "dash", "symbol": "x"},
    "none": {"name": "No pooling (each group alone)", "short": "no pooling",
             "color": "#0072B2", "colour": "blue", "dash": "dot", "symbol": "circle"},
    "partial": {"name": "Partial pooling (mixed model)", "short": "partial pooling",
                "color": "#AA3377", "colour": "purple", "dash": "solid", "symbol": "diamond"},
}
TRUTH_COLOR = "#009E73"
METHODS = tuple(METHOD_STYLE)

THEMES = {
    "light": {"paper": "#FFFFFF", "plot": "#FFFFFF", "text": "#1F2328", "grid": "#E3E6EA",
              "points": "rgba(60, 60, 60, 0.55)", "population": "#000000", "faint": "rgba(0,0,0,0.25)"},
    "dark": {"paper": "#0E1117", "plot": "#0E1117", "text": "#F0F2F6", "grid": "#2B313B",
             "points": "rgba(220, 220, 220, 0.6)", "population": "#FFFFFF", "faint": "rgba(255,255,255,0.3)"},
}
FONT_SIZE = 17
LINE_WIDTH = 3.5


# Keyword for go.Figure and trace constructors in builders that redraw on every slider move:
# Plotly's property validation costs more than everything else in those figures. Only for
# builders whose property names are covered by tests that render them.
FAST = {"_validate": False}


def palette(theme: str) -> dict:
    return THEMES["dark" if theme == "dark" else "light"]


def _template_name(theme: str) -> str:
    """A small Plotly template per theme, registered once: applying it by name costs a
    fraction of setting the same properties on every figure (or of the large built-in
    plotly_white template), which matters when a slider redraws figures live."""
    kind = "dark" if theme == "dark" else "light"
    name = f"shrinkage_{kind}"
    if name not in pio.templates:
        c = THEMES[kind]
        base = pio.templates["plotly_dark" if kind == "dark" else "plotly_white"].layout
        axis = {"gridcolor": c["grid"], "zerolinecolor": c["grid"], "linecolor": c["grid"],
                "automargin": True, "title": {"standoff": 12}}
        pio.templates[name] = go.layout.Template(layout={
            "colorway": base.colorway, "paper_bgcolor": c["paper"], "plot_bgcolor": c["plot"],
            "font": {"size": FONT_SIZE, "color": c["text"]},
            "margin": {"l": 70, "r": 20, "t": 30, "b": 60},
            "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0,
                       "font": {"size": FONT_SIZE - 1}},
            "hoverlabel": {"font": {"size": FONT_SIZE - 1}},
            "xaxis": axis, "yaxis": axis,
            "annotationdefaults": {"font": {"color": c["text"]}},
        })
    return name


def style(fig: go.Figure, theme: str = "light", *, height: int = 520, title: str | None = None,
          uirevision: str | None = "keep") -> go.Figure:
    """Apply the app's look. ``uirevision`` keeps zoom and legend clicks across redraws."""
    name = _template_name(theme)
    # A figure built without validation (see FAST) does not resolve template names: give it the template itself.
    template = name if getattr(fig, "_validate", True) else pio.templates[name]
    layout = {"template": template, "height": height, "uirevision": uirevision}
    if title:
        layout["title"] = {"text": title, "x": 0, "xanchor": "left"}
        layout["margin"] = {"t": 60}
    fig.update_layout(layout)
    return fig


def nan_join(segments_x, segments_y):
    """Many polylines in one trace: concatenate them with NaN breaks."""
    xs, ys = [], []
    for x, y in zip(segments_x, segments_y):
        xs.extend(list(x) + [np.nan])
        ys.extend(list(y) + [np.nan])
    return np.array(xs, float), np.array(ys, float)
