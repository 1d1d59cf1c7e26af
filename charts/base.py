"""The app's look: colours, fonts, themes and the helpers every figure uses.

One look for the whole app: the three pooling methods always have the same colour
and line style (Okabe-Ito colours, safe for colour-blind viewers, plus dashes so
they differ in greyscale too), large fonts and thick lines for projectors, and a
light and a dark variant. Builders take plain data frames, so they do not depend
on how a page computed them, and return a figure; pages add the caption.
"""
from __future__ import annotations

import functools
import html
import re

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

# The figures sit on the page: their background is Streamlit's own (measured in Streamlit 1.67:
# light #FFFFFF with text #2F2D2B, dark #171614 with text #EDEBE8), so a figure never shows as
# a differently coloured box on the page. Grid lines are faint, points and reference marks strong.
THEMES = {
    "light": {"paper": "#FFFFFF", "plot": "#FFFFFF", "text": "#2F2D2B", "grid": "#E4E2DF",
              "points": "rgba(60, 58, 55, 0.6)", "population": "#000000", "faint": "rgba(0,0,0,0.3)"},
    "dark": {"paper": "#171614", "plot": "#171614", "text": "#EDEBE8", "grid": "#34322E",
             "points": "rgba(225, 222, 216, 0.7)", "population": "#FFFFFF", "faint": "rgba(255,255,255,0.38)"},
}
FONT_FAMILY = '"Source Sans", "Source Sans Pro", "Helvetica Neue", Arial, sans-serif'  # the app's own font
FONT_SIZE = 17
# Presenter mode (projector): every text in a figure is at least MIN_PRESENTER_FONT px.
PRESENTER_FONT = 22
MIN_PRESENTER_FONT = 20
# Series colours are drawn with at least this contrast against the figure's background (WCAG 2.1
# asks 3:1 for graphical objects); colours that fall short are darkened (light) or lightened (dark).
MIN_CONTRAST = {"light": 3.0, "dark": 4.5}
LINE_WIDTH = 3.5


# Keyword for go.Figure and trace constructors in builders that redraw on every slider move:
# Plotly's property validation costs more than everything else in those figures. Only for
# builders whose property names are covered by tests that render them.
FAST = {"_validate": False}


def palette(theme: str) -> dict:
    return THEMES["dark" if theme == "dark" else "light"]


# The words pages use for the theme-dependent colours (the population line and reference marks are
# black on the light background and white on the dark one): keep them in step with THEMES.
COLOUR_WORDS = {"light": {"population": "black"}, "dark": {"population": "white"}}


def colour_word(theme: str, what: str = "population") -> str:
    """The word for a theme-dependent colour as it shows on screen, e.g. 'black' / 'white'."""
    return COLOUR_WORDS["dark" if theme == "dark" else "light"][what]


def _template_name(theme: str, present: bool = False) -> str:
    """A small Plotly template per theme (and per mode: normal or presenter), registered once:
    applying it by name costs a fraction of setting the same properties on every figure (or of
    the large built-in plotly_white template), which matters when a slider redraws figures live."""
    kind = "dark" if theme == "dark" else "light"
    name = f"shrinkage_{kind}" + ("_present" if present else "")
    if name not in pio.templates:
        c = THEMES[kind]
        size = PRESENTER_FONT if present else FONT_SIZE
        base = pio.templates["plotly_dark" if kind == "dark" else "plotly_white"].layout
        axis = {"gridcolor": c["grid"], "zerolinecolor": c["grid"], "linecolor": c["grid"],
                "automargin": True, "title": {"standoff": 12}}
        # The y labels keep a little distance from the axis, so the lowest one never sits on the
        # x axis's first label at the corner.
        yaxis = {**axis, "ticklabelstandoff": 8}
        pio.templates[name] = go.layout.Template(layout={
            "colorway": base.colorway, "paper_bgcolor": c["paper"], "plot_bgcolor": c["plot"],
            "font": {"size": size, "color": c["text"], "family": FONT_FAMILY},
            "margin": {"l": 70, "r": 20, "t": 30, "b": 60},
            "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0,
                       "font": {"size": size if present else size - 1}},
            "hoverlabel": {"font": {"size": size - 1}},
            "xaxis": axis, "yaxis": yaxis,
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
        # At the top of the figure, and allowed to push the margin so it never sits on tick labels
        # (e.g. a matrix's column names on a top axis).
        layout["title"] = {"text": title, "x": 0, "xanchor": "left", "yref": "container", "y": 1,
                           "yanchor": "top", "pad": {"t": 12}, "automargin": True}
        layout["margin"] = {"t": 60}
    fig.update_layout(layout)
    _contrast_colors(fig, theme)
    return fig


TITLE_ROOM = "shrinkageTitleRoom"  # layout.meta key (no "_": plain layouts read "a_b" as a → b): what legend_over_titles did (present() redoes it)


def _title_room(height: float, top: float, bottom: float, title_px: float, lines: int, legend_px: float,
                axis_lines: int = 1, axis_px: float = FONT_SIZE) -> float:
    """The share of the plotting area to free above the top row of panels for their titles: the
    titles' height (lines × 1.45 × their font size, plus 6 px) over the plotting area's height
    (the figure minus its margins, minus about three rows of legend, which Plotly adds to the top
    margin, and minus the extra lines of a multi-line x-axis title, which push the bottom margin).
    All come from the sizes the figure is drawn with, so the gap between the legend and the titles
    stays a few px in normal and in presenter mode."""
    plot_px = max(120.0, height - top - bottom - 5.3 * legend_px - 1.3 * axis_px * (axis_lines - 1))
    return min(0.3, (title_px * 1.45 * lines + 6) / plot_px)


def _axis_title_lines(layout: dict) -> int:
    """The most lines of any x-axis title (lines are split by <br>)."""
    most = 1
    for key, axis in layout.items():
        if key.startswith("xaxis") and isinstance(axis, dict):
            title = axis.get("title")
            text = title.get("text") if isinstance(title, dict) else title
            if isinstance(text, str):
                most = max(most, text.count("<br>") + 1)
    return most


def _title_notes(annotations, below: float):
    """The panel titles among the annotations: paper-anchored at their bottom, on a panel's top edge."""
    return [n for n in annotations if n.get("yref") == "paper" and n.get("yanchor") == "bottom"
            and n.get("y") is not None and 0 < n["y"] <= below + 1e-4]


def legend_over_titles(fig: go.Figure, title_lines: int = 1) -> go.Figure:
    """A legend above a grid of panels with titles: the legend sits just above the plotting area and
    Plotly makes room for as many legend rows as it needs (whatever the width of the screen); the
    panels move down by the height of their titles, so a top-row title never runs into the legend.
    What was moved is kept in ``layout.meta`` so that present() can redo it for larger text and a
    taller figure. Works on the plain layout of a PlainFigure without turning it into a checked figure."""
    plain = getattr(fig, "_plain_layout", None) if isinstance(fig, PlainFigure) else None
    layout = plain if plain is not None else fig.layout.to_plotly_json()
    height = layout.get("height") or 450
    margin = layout.get("margin") or {}
    top = margin.get("t") if margin.get("t") is not None else 30
    bottom = margin.get("b") if margin.get("b") is not None else 60
    notes = [dict(n) for n in layout.get("annotations") or ()]
    titles = _title_notes(notes, 1.0)
    title_px = max([(n.get("font") or {}).get("size") or FONT_SIZE for n in titles] or [FONT_SIZE])
    share = _title_room(height, top, bottom, title_px, title_lines, FONT_SIZE - 1, _axis_title_lines(layout))
    update = {}
    for key, axis in layout.items():
        if key.startswith("yaxis") and isinstance(axis, dict):
            lo, hi = axis.get("domain") or (0, 1)
            update[key] = {"domain": [lo * (1 - share), hi * (1 - share)]}
    for note in _title_notes(notes, 1.0):  # subplot titles follow their panels
        note["y"] = note["y"] * (1 - share)
    update["annotations"] = notes
    update["legend"] = {"orientation": "h", "yref": "paper", "y": 1, "yanchor": "bottom", "x": 0, "xanchor": "left"}
    meta = layout.get("meta") if isinstance(layout.get("meta"), dict) else {}
    update["meta"] = {**meta, TITLE_ROOM: {"share": share, "lines": title_lines}}
    if plain is not None:
        plain.get("legend", {}).pop("entrywidth", None)
    fig.update_layout(update)
    return fig


def _redo_title_room(fig: go.Figure) -> None:
    """After present() has enlarged a figure: free as much room above the panels as its titles now
    need (legend_over_titles sized it for normal text and the normal height)."""
    layout = fig.layout
    meta = layout.meta if isinstance(layout.meta, dict) else None
    done = (meta or {}).get(TITLE_ROOM)
    if not done:
        return
    old, lines = float(done["share"]), int(done["lines"])
    margin = layout.margin
    top = margin.t if margin.t is not None else 30
    bottom = margin.b if margin.b is not None else 60
    notes = [n.to_plotly_json() for n in layout.annotations or ()]
    titles = _title_notes(notes, 1 - old)
    title_px = max([(n.get("font") or {}).get("size") or PRESENTER_FONT for n in titles] or [PRESENTER_FONT])
    legend_px = (layout.legend.font.size if layout.legend and layout.legend.font and layout.legend.font.size
                 else PRESENTER_FONT)
    font = layout.font.size if layout.font and layout.font.size else PRESENTER_FONT
    new = _title_room(layout.height or 450, top, bottom, title_px, lines, legend_px,
                      _axis_title_lines(layout.to_plotly_json()), font)
    factor = (1 - new) / (1 - old)
    for key in list(layout.to_plotly_json()):
        if key.startswith("yaxis") and layout[key].domain:
            lo, hi = layout[key].domain
            layout[key].domain = [min(1.0, lo * factor), min(1.0, hi * factor)]
    for note, plain in zip(layout.annotations or (), notes):
        if plain in titles:
            note.y = note.y * factor
    layout.meta = {**meta, TITLE_ROOM: {"share": new, "lines": lines}}


# -- colours that stand out from the background ------------------------------------------------
def _channels(color: str):
    """(r, g, b) in 0..255 and alpha for '#RRGGBB' / 'rgb(...)' / 'rgba(...)'; None for anything else."""
    text = color.strip().lower()
    if text.startswith("#") and len(text) == 7:
        return tuple(int(text[i:i + 2], 16) for i in (1, 3, 5)), 1.0
    if text.startswith("rgb"):
        parts = [p.strip() for p in text[text.index("(") + 1:text.rindex(")")].split(",")]
        alpha = float(parts[3]) if len(parts) == 4 else 1.0
        return tuple(float(p) for p in parts[:3]), alpha
    return None


def luminance(color: str) -> float:
    """WCAG 2.1 relative luminance of an opaque colour."""
    (r, g, b), _ = _channels(color)

    def lin(v: float) -> float:
        v = v / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two opaque colours (1 to 21)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def over(color: str, background: str) -> str:
    """A possibly translucent colour as it shows over ``background`` (an opaque '#RRGGBB')."""
    (r, g, b), alpha = _channels(color)
    (R, G, B), _ = _channels(background)
    mix = [round(alpha * x + (1 - alpha) * y) for x, y in ((r, R), (g, G), (b, B))]
    return "#{:02X}{:02X}{:02X}".format(*mix)


@functools.lru_cache(maxsize=256)
def shown_color(color: str, theme: str) -> str:
    """``color`` as drawn on ``theme``'s background: unchanged when it already has MIN_CONTRAST,
    else mixed towards black (light theme) or white (dark theme) just enough to get there, so a
    hue keeps its identity (orange stays orange) and every series stays visible in both themes."""
    kind = "dark" if theme == "dark" else "light"
    parsed = _channels(color) if isinstance(color, str) else None
    if parsed is None:
        return color
    rgb, alpha = parsed
    background = THEMES[kind]["plot"]
    target = MIN_CONTRAST[kind]
    if contrast(over(color, background), background) >= target:
        return color
    end = 0.0 if kind == "light" else 255.0
    for step in range(1, 41):
        t = step / 40
        mixed = tuple(round(v + t * (end - v)) for v in rgb)
        candidate = "#{:02X}{:02X}{:02X}".format(*mixed)
        if alpha < 1:
            candidate = "rgba({}, {}, {}, {})".format(*mixed, alpha)
        if contrast(over(candidate, background), background) >= target:
            return candidate
    return color


_COLOR_PATHS = (("line", "color"), ("marker", "color"), ("marker", "line", "color"), ("fillcolor",))


def _contrast_colors(fig: go.Figure, theme: str) -> None:
    """Swap every series colour that would be hard to see on this theme's background for
    shown_color(...) (fills and translucent shades are checked as they show over the background).
    A PlainFigure's trace dicts are changed in place (no conversion to a checked figure)."""
    plain = fig.__dict__.get("_plain_traces") if isinstance(fig, PlainFigure) else None
    if plain is not None:
        for trace in plain:
            for path in _COLOR_PATHS:
                holder = trace
                for part in path[:-1]:
                    holder = holder.get(part) if isinstance(holder, dict) else None
                    if holder is None:
                        break
                if isinstance(holder, dict) and isinstance(holder.get(path[-1]), str):
                    better = shown_color(holder[path[-1]], theme)
                    if better != holder[path[-1]]:
                        holder[path[-1]] = better
        return
    for trace in fig.data:
        for path in _COLOR_PATHS:
            holder = trace
            for part in path[:-1]:
                holder = getattr(holder, part, None)
                if holder is None:
                    break
            if holder is None:
                continue
            value = getattr(holder, path[-1], None)
            if isinstance(value, str):
                better = shown_color(value, theme)
                if better != value:
                    setattr(holder, path[-1], better)


# -- presenter mode ------------------------------------------------------------------------------
def present(fig: go.Figure, theme: str = "light", *, height: int | None = None) -> go.Figure:
    """The same figure for a projector: the presenter template (PRESENTER_FONT), every explicitly
    sized text (panel titles, annotations, tick labels, data labels) scaled by the same factor and
    never under MIN_PRESENTER_FONT, and, when given, a new height (one that fills the screen)."""
    ratio = PRESENTER_FONT / FONT_SIZE

    def bigger(size):
        return max(MIN_PRESENTER_FONT, round(size * ratio)) if size else None

    name = _template_name(theme, present=True)
    template = name if getattr(fig, "_validate", True) else pio.templates[name]
    layout = fig.layout
    update = {"template": template}
    if height:
        update["height"] = int(height)
    if layout.font is not None and layout.font.size:
        update["font"] = {"size": bigger(layout.font.size)}
    if layout.legend is not None and layout.legend.font is not None and layout.legend.font.size:
        update["legend"] = {"font": {"size": bigger(layout.legend.font.size)}}
    if layout.title is not None and layout.title.font is not None and layout.title.font.size:
        update["title"] = {"font": {"size": bigger(layout.title.font.size)}}
    # Room for the larger text: explicit margins grow with it (the template's are the default).
    margin = layout.margin
    if margin is not None:
        update["margin"] = {side: round(getattr(margin, side) * ratio) for side in ("l", "r", "t", "b")
                            if getattr(margin, side) is not None}
    fig.update_layout(update)
    for note in layout.annotations or ():
        if note.font is not None and note.font.size:
            note.font.size = bigger(note.font.size)
        for shift in ("xshift", "yshift"):  # offsets in px from the plot (e.g. a grid's axis titles)
            if getattr(note, shift):
                setattr(note, shift, round(getattr(note, shift) * ratio))
    for key in list(layout.to_plotly_json()):
        if key.startswith(("xaxis", "yaxis")):
            axis = layout[key]
            if axis.tickfont is not None and axis.tickfont.size:
                axis.tickfont.size = bigger(axis.tickfont.size)
            if axis.title is not None and axis.title.font is not None and axis.title.font.size:
                axis.title.font.size = bigger(axis.title.font.size)
    for trace in fig.data:
        font = getattr(trace, "textfont", None)
        if font is not None and font.size:
            font.size = bigger(font.size)
        contours = getattr(trace, "contours", None)
        if contours is not None and getattr(contours, "labelfont", None) is not None and contours.labelfont.size:
            contours.labelfont.size = bigger(contours.labelfont.size)
    _redo_title_room(fig)
    return fig


def rounded(values, digits: int = 4) -> np.ndarray:
    """Numbers for a figure, rounded to what the eye can tell apart: steps of 10^-digits of the
    array's spread (at least 1% of its largest magnitude), far finer than a pixel; NaN kept.
    Shorter JSON, and no 15-digit noise in hover labels."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return v
    lo, hi = v.min(), v.max()
    if not (math.isfinite(lo) and math.isfinite(hi)):  # NaN breaks or infinities: the finite values only
        finite = v[np.isfinite(v)]
        if finite.size == 0:
            return v
        lo, hi = finite.min(), finite.max()
    # The spread and the largest magnitude from the extremes (a figure rounds each of its arrays
    # on every slider move: selecting the finite values and np.ptp cost more than the rounding).
    scale = max(float(hi - lo), 0.01 * max(abs(float(lo)), abs(float(hi))))
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
    figure, once, and then behaves exactly like ``go.Figure``. Until then even go.Figure's own set-up
    has not run, so Plotly's private attributes (``_data``, ``_layout_obj``, ...) do not exist yet: code
    that needs them calls ``_materialise()`` first.
    """

    _PLAIN_OK = frozenset({"update_layout", "to_dict", "to_plotly_json", "plain_layout"})

    def __init__(self, traces=(), layout=None):
        # go.Figure's own set-up (~1 ms: it builds and checks an empty layout) waits until something
        # needs the checked figure (_materialise); the app only ever calls the methods above.
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
        go.Figure.__init__(self, layout={"template": {}})  # not Plotly's default template: the layout names ours
        if layout:
            go.Figure.update_layout(self, layout)
        if traces:
            go.Figure.add_traces(self, traces)

    def __reduce__(self):
        # For pickle and copy.deepcopy: a plain figure stays plain; a checked one becomes a go.Figure
        # of the same content (go.Figure's own __reduce__ would call PlainFigure(props)).
        if self._is_plain():
            return (PlainFigure, (self.__dict__["_plain_traces"], self.__dict__["_plain_layout"]))
        return (go.Figure, (go.Figure.to_dict(self),))

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
    only in the left column (y) and under the lowest panel of each column (x); a shared x axis
    drops, as drawn, any tick label that would stick out of its panel (Plotly's "hide past domain",
    decided in px by the browser at every width), so labels of neighbouring narrow panels never
    meet at the gap between them. ``widths``: relative column widths (one row only)."""
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
            xaxis["ticklabeloverflow"] = "hide past domain"
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


# -- text from the user inside a figure ------------------------------------------------------
# Plotly draws a subset of HTML in every text of a figure (titles, axis titles and tick labels,
# legend names, hover text, annotations): <b>, <i>, <br>, <a href>, <span style>, entities. The
# app's own texts use a few of these on purpose (<br>, <b>, <extra>); names that came from an
# upload (columns, levels, the file) must show as typed instead.
MARKUP = re.compile(r"[<>&]")


def markup_strings(strings) -> tuple[str, ...]:
    """Those of ``strings`` that Plotly would read as markup (they contain <, > or &)."""
    return tuple(sorted({str(s) for s in strings if s is not None and MARKUP.search(str(s))}, key=len,
                        reverse=True))


def _pattern(strings: tuple[str, ...]):
    return re.compile("|".join(map(re.escape, strings)))


def escape_user_text(fig: go.Figure, strings) -> go.Figure:
    """The figure with every occurrence of the user's ``strings`` in its texts escaped (``<`` →
    ``&lt;``, ``>`` → ``&gt;``, ``&`` → ``&amp;``), so Plotly shows them as typed; the figure's own
    markup stays. One pass over the finished figure, so every way a name reaches a text (a title
    built with an f-string, a legend name, a category on an axis, hover data) is covered. Returns
    the figure itself when no string needs it (the usual case), else an escaped copy (figures may
    be cached: the original is never changed)."""
    strings = markup_strings(strings)
    if not strings:
        return fig
    pattern = _pattern(strings)

    def fix(text: str) -> str:
        return pattern.sub(lambda m: html.escape(m.group(0), quote=False), text)

    def walk(value):
        if isinstance(value, str):
            return fix(value) if MARKUP.search(value) else value
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        if hasattr(value, "to_numpy") and not isinstance(value, np.ndarray):
            value = value.to_numpy()
        if isinstance(value, np.ndarray) and value.dtype.kind not in "fiubcmM":
            return [walk(v) for v in value.tolist()]
        return value

    d = fig.to_dict()
    layout = d.get("layout") or {}
    template = layout.pop("template", None)  # the app's own
    layout = walk(layout)
    if template is not None:
        layout["template"] = template
    escaped = PlainFigure([walk(t) for t in d.get("data") or []], layout)
    return escaped


def unescape_user_text(text: str, strings) -> str:
    """A text read back from a figure (a clicked point's group) with the user's strings as typed."""
    strings = markup_strings(strings)
    if not strings or "&" not in str(text):
        return text
    escaped = {html.escape(s, quote=False): s for s in strings}
    return _pattern(tuple(sorted(escaped, key=len, reverse=True))).sub(lambda m: escaped[m.group(0)], str(text))
