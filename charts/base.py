"""The app's look: colours, fonts, themes and the helpers every figure uses.

One look for the whole app: the three pooling methods always have the same colour
and line style (Okabe-Ito colours, safe for colour-blind viewers, plus dashes so
they differ in greyscale too), large fonts and thick lines for projectors, and a
light and a dark variant. Builders take plain data frames, so they do not depend
on how a page computed them, and return a figure; pages add the caption.
"""
from __future__ import annotations


import math
from copy import deepcopy

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


def rounded(values, digits: int = 4) -> np.ndarray:
    """Numbers for a figure, rounded to what the eye can tell apart: steps of 10^-digits of the
    array's spread (at least 1% of its largest magnitude), far finer than a pixel; NaN kept.
    Shorter JSON, and no 15-digit noise in hover labels."""
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return v
    scale = max(float(np.ptp(finite)), 0.01 * float(np.max(np.abs(finite))))
    if scale == 0.0:
        return v
    return np.round(v, int(digits - np.floor(np.log10(scale))))


class PlainFigure(go.Figure):
    """A Plotly figure that keeps the plain trace and layout dicts a builder made.

    ``go.Figure`` checks and copies every property of every trace and of the layout, even with
    ``_validate=False`` (that only lets unknown names through), and ``to_dict`` deep-copies it all
    again: for the 12-panel facet figure that was ten times the cost of the numbers in it. A
    PlainFigure hands its dicts to the JSON encoder as they are. ``update_layout`` merges into the
    plain layout (``a_b`` keys mean ``a.b``, as in Plotly). Anything else (``fig.data``,
    ``fig.layout``, ``add_trace``, ``update_xaxes``, ...) first turns it into an ordinary, checked
    figure, once, and then behaves exactly like ``go.Figure``.
    """

    _PLAIN_OK = frozenset({"update_layout", "to_dict", "to_plotly_json", "plain_layout"})

    def __init__(self, traces=(), layout=None):
        super().__init__(layout={"template": {}})  # not Plotly's default template: the plain layout names ours
        self.__dict__["_plain_traces"] = [dict(t) for t in traces]
        self.__dict__["_plain_layout"] = _merge({}, layout or {})

    def __getattribute__(self, name):
        if name[0] != "_" and name not in PlainFigure._PLAIN_OK:
            object.__getattribute__(self, "_materialise")()
        return object.__getattribute__(self, name)

    def _materialise(self) -> None:
        d = self.__dict__
        traces, layout = d.get("_plain_traces"), d.get("_plain_layout")
        if traces is None and layout is None:
            return
        d["_plain_traces"] = d["_plain_layout"] = None
        if layout:
            go.Figure.update_layout(self, layout)
        if traces:
            go.Figure.add_traces(self, traces)

    def _is_plain(self) -> bool:
        return self.__dict__.get("_plain_layout") is not None

    def update_layout(self, dict1=None, overwrite=False, **kwargs):
        if not self._is_plain() or overwrite:
            self._materialise()
            return go.Figure.update_layout(self, dict1, overwrite, **kwargs)
        _merge(self.__dict__["_plain_layout"], dict1 or {})
        _merge(self.__dict__["_plain_layout"], kwargs)
        return self

    def plain_layout(self) -> dict:
        """The layout as JSON-ready dicts (the template given by name is looked up)."""
        layout = _tree_copy(self.__dict__["_plain_layout"])
        if isinstance(layout.get("template"), str):
            layout["template"] = _template_json(layout["template"])
        return layout

    def to_dict(self):
        if not self._is_plain():
            return go.Figure.to_dict(self)
        return {"data": [_tree_copy(t) for t in self.__dict__["_plain_traces"]], "layout": self.plain_layout()}

    def to_plotly_json(self):
        return self.to_dict()


_TEMPLATE_JSON: dict[str, dict] = {}


def _template_json(name: str) -> dict:
    if name not in _TEMPLATE_JSON:
        _TEMPLATE_JSON[name] = pio.templates[name].to_plotly_json()
    return _TEMPLATE_JSON[name]


def _merge(into: dict, update: dict) -> dict:
    """Merge ``update`` into ``into`` as Plotly's update_layout does: nested dicts merge, other
    values (lists too) replace, and a key ``a_b`` stands for ``a`` → ``b``."""
    for key, value in update.items():
        path = key.split("_") if "_" in key else [key]
        target = into
        for part in path[:-1]:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        last = path[-1]
        if isinstance(value, dict):
            if not isinstance(target.get(last), dict):
                target[last] = {}
            _merge(target[last], value)
        else:
            target[last] = value
    return into


def _tree_copy(value):
    """A copy of nested dicts and lists that shares the numeric arrays in them (nothing mutates
    those); text arrays and pandas columns become what the JSON encoder takes directly."""
    if isinstance(value, dict):
        return {k: _tree_copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_tree_copy(v) for v in value]
    if hasattr(value, "to_numpy") and not isinstance(value, np.ndarray):
        value = value.to_numpy()
    if isinstance(value, np.ndarray) and value.dtype.kind not in "fiub":
        return value.tolist()
    return value


def fast_figure(traces: list[dict], layout: dict | None = None, *, theme: str = "light", height: int = 520,
                uirevision: str | None = "keep") -> go.Figure:
    """A figure from plain trace dicts in one call, styled (see PlainFigure).

    For builders on a slider's or page's hot path: Plotly's trace checks, ``make_subplots`` and
    trace-by-trace ``add_trace`` cost more than all the statistics behind a figure. Trace property
    names and values are not checked, so such builders need a test that renders them."""
    return style(PlainFigure(traces, layout), theme, height=height, uirevision=uirevision)


def facet_grid(n_panels: int, ncols: int, *, hspace: float = 0.02, vspace: float | None = None,
               share_x: bool = True, share_y: bool = True, widths=None):
    """Axes of a grid of panels (first row on top), laid out as make_subplots would, without it
    and only for panels that exist. Returns (axis ids per panel, e.g. ("x3", "y3"), a layout dict
    with the axes, the number of rows). Shared axes match the first panel's and carry tick labels
    only in the left column (y) and under the lowest panel of each column (x). ``widths``:
    relative column widths (one row only)."""
    ncols = max(1, min(ncols, n_panels))
    nrows = max(1, math.ceil(n_panels / ncols))
    vspace = 0.28 / nrows if vspace is None else vspace
    free = 1 - hspace * (ncols - 1)
    widths = [free * w / sum(widths) for w in widths] if widths else [free / ncols] * ncols
    height = (1 - vspace * (nrows - 1)) / nrows
    ids, layout = [], {}
    for i in range(n_panels):
        row, col = divmod(i, ncols)
        k = "" if i == 0 else str(i + 1)
        x0, y1 = sum(widths[:col]) + col * hspace, 1 - row * (height + vspace)
        xaxis = {"anchor": f"y{k}", "domain": _domain(x0, x0 + widths[col])}
        yaxis = {"anchor": f"x{k}", "domain": _domain(y1 - height, y1)}
        if share_x:
            xaxis["showticklabels"] = i + ncols >= n_panels
            if i:
                xaxis["matches"] = "x"
        if share_y:
            yaxis["showticklabels"] = col == 0
            if i:
                yaxis["matches"] = "y"
        layout[f"xaxis{k}"], layout[f"yaxis{k}"] = xaxis, yaxis
        ids.append((f"x{k}", f"y{k}"))
    return ids, layout, nrows


def _domain(lo: float, hi: float) -> list[float]:
    return [min(max(round(lo, 4), 0.0), 1.0), min(max(round(hi, 4), 0.0), 1.0)]


def panel_titles(layout: dict, titles, *, size: int = FONT_SIZE) -> list[dict]:
    """Annotations naming each panel above it (as make_subplots' subplot_titles)."""
    out = []
    for i, text in enumerate(titles):
        k = "" if i == 0 else str(i + 1)
        out.append({"text": text, "x": sum(layout[f"xaxis{k}"]["domain"]) / 2, "xref": "paper", "xanchor": "center",
                    "y": layout[f"yaxis{k}"]["domain"][1], "yref": "paper", "yanchor": "bottom",
                    "showarrow": False, "font": {"size": size}})
    return out


def nan_join(segments_x, segments_y):
    """Many polylines in one trace: concatenate them with NaN breaks."""
    xs, ys = [], []
    for x, y in zip(segments_x, segments_y):
        xs.extend(list(x) + [np.nan])
        ys.extend(list(y) + [np.nan])
    return np.array(xs, float), np.array(ys, float)
