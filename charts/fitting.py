"""Figures for "How the model is fitted": the matrices, the criterion over θ, the modes as θ moves,
and the profile of a group SD."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .base import (FONT_SIZE, LINE_WIDTH, METHOD_STYLE, TRUTH_COLOR, PlainFigure, facet_grid, fast_figure,
                   legend_over_titles, palette, panel_titles, rounded, style)

PARTIAL = METHOD_STYLE["partial"]["color"]
NONE = METHOD_STYLE["none"]["color"]
COMPLETE = METHOD_STYLE["complete"]["color"]
# A matrix's cells: 0 in the page's own background colour, every other value in one blue hue (Okabe-Ito's
# sky blue) whose strength grows with its size: one hue, so it reads the same for colour-blind
# viewers, and the cell text (the theme's text colour) keeps at least 4.5:1 on every cell.
MATRIX_SCALES = {
    "light": [[0.0, "#FFFFFF"], [0.001, "#D2EAF8"], [1.0, "#56B4E9"]],
    "dark": [[0.0, "#171614"], [0.001, "#1D4460"], [1.0, "#1F5F8A"]],
}
MATRIX_TEXT = {"light": "#1F2328", "dark": "#EDEBE8"}
MATRIX_SCALE = MATRIX_SCALES["light"]


def design_heatmap(frame: pd.DataFrame, *, theme: str = "light", title: str = "", group: pd.Series | None = None,
                   height: int | None = None) -> go.Figure:
    """A matrix (rows × named columns) as a heatmap with every value printed in its cell.

    ``group`` (one label per row) is added to the row labels so a row's group is readable."""
    rows = list(frame.index) if group is None else [f"{r} · {g}" for r, g in zip(frame.index, group)]
    values = frame.to_numpy(float)
    text = [[_cell(v) for v in row] for row in values]
    kind = "dark" if theme == "dark" else "light"
    # Coloured by size (|value|), so 0 is the background even where a centred column has negative values.
    trace = dict(
        type="heatmap", z=np.abs(values), zmin=0.0, x=list(frame.columns), y=rows, text=text, texttemplate="%{text}",
        textfont={"size": FONT_SIZE - 5, "color": MATRIX_TEXT[kind]}, colorscale=MATRIX_SCALES[kind], showscale=False,
        xgap=1, ygap=1, hovertemplate="%{y}<br>column %{x}<br>value %{text}<extra></extra>")
    # Room on top for the upright column names (about 0.6 em per character) and the title; the
    # figure's height adds that room to 22 px per row, so the rows never get squeezed together.
    longest = max((len(str(name)) for name in frame.columns), default=1)
    top = (45 if title else 10) + round(0.6 * (FONT_SIZE - 4) * longest) + 14
    # Column names read upwards, one per column, so long names never run into each other.
    layout = {"yaxis": {"autorange": "reversed", "tickfont": {"size": FONT_SIZE - 4}, "type": "category"},
              "xaxis": {"side": "top", "tickangle": -90, "tickfont": {"size": FONT_SIZE - 4}, "type": "category"}}
    # Plain dicts (charts.base.PlainFigure): the page redraws both matrices on every slider move.
    fig = style(PlainFigure([trace], layout), theme, height=height or max(260, 22 * len(rows) + top + 30),
                title=title)
    fig.update_layout(margin={"l": 10, "r": 10, "t": top, "b": 10})
    return fig


def _cell(v: float) -> str:
    if v == 0:
        return "0"
    return f"{v:.3g}"


def criterion_curve(curve: pd.DataFrame, *, best: float, chosen: float, chosen_value: float,
                    theme: str = "light", x_label: str = "", height: int = 420) -> go.Figure:
    """The criterion against one SD ratio, its minimum (star) and the chosen value (dot)."""
    c = palette(theme)
    best_value = float(np.interp(best, curve["ratio"], curve["criterion"]))
    traces = [
        dict(type="scatter", x=rounded(curve["ratio"]), y=rounded(curve["criterion"], 6), mode="lines",
             name="REML criterion", line={"color": c["population"], "width": LINE_WIDTH},
             hovertemplate="ratio %{x:.3g}<br>criterion %{y:.2f}<extra></extra>"),
        dict(type="scatter", x=[best], y=[best_value], mode="markers", name="Minimum (the fit)",
             marker={"symbol": "star", "size": 20, "color": TRUTH_COLOR, "line": {"width": 1, "color": c["text"]}},
             hovertemplate="best ratio %{x:.4g}<br>criterion %{y:.3f}<extra></extra>"),
        dict(type="scatter", x=[chosen], y=[chosen_value], mode="markers", name="Your choice",
             marker={"symbol": "circle-open", "size": 22, "color": PARTIAL, "line": {"width": 4}},
             hovertemplate="your ratio %{x:.4g}<br>criterion %{y:.3f}<extra></extra>"),
    ]
    layout = {"xaxis": {"title": {"text": x_label}, "rangemode": "tozero"},
              "yaxis": {"title": {"text": "REML criterion (lower is better)"}}}
    return fast_figure(traces, layout, theme=theme, height=height)


def criterion_contour(xs, ys, z, *, best: tuple[float, float], chosen: tuple[float, float], theme: str = "light",
                      x_label: str = "", y_label: str = "", height: int = 520) -> go.Figure:
    """The criterion over two SD ratios as contours of √(criterion − minimum): equally spaced
    rings, 1.96 is roughly a 95% region for each ratio on its own."""
    c = palette(theme)
    root = np.sqrt(np.maximum(np.asarray(z) - np.nanmin(z), 0.0))
    traces = [
        dict(type="contour", x=rounded(xs), y=rounded(ys), z=rounded(root), colorscale="Viridis", reversescale=True,
             ncontours=16, contours={"showlabels": True, "labelfont": {"size": FONT_SIZE - 5, "color": c["text"]}},
             colorbar={"title": {"text": "√(criterion − min)", "side": "right"}, "thickness": 14},
             hovertemplate=f"{x_label}: %{{x:.3g}}<br>{y_label}: %{{y:.3g}}<br>√(criterion − min) %{{z:.2f}}<extra></extra>",
             name="criterion"),
        dict(type="scatter", x=[best[0]], y=[best[1]], mode="markers", name="Minimum (the fit)",
             marker={"symbol": "star", "size": 22, "color": TRUTH_COLOR, "line": {"width": 1.5, "color": c["text"]}}),
        dict(type="scatter", x=[chosen[0]], y=[chosen[1]], mode="markers", name="Your choice",
             marker={"symbol": "circle", "size": 16, "color": PARTIAL, "line": {"width": 1.5, "color": c["text"]}}),
    ]
    layout = {"xaxis": {"title": {"text": x_label}, "showgrid": False},
              "yaxis": {"title": {"text": y_label}, "showgrid": False}}
    return fast_figure(traces, layout, theme=theme, height=height)


def modes_compare(table: pd.DataFrame, *, theme: str = "light", group_label: str = "group",
                  height: int | None = None) -> go.Figure:
    """Each group's conditional mode at the fit (hollow) and at the chosen θ (filled), one panel per
    random column. ``table``: columns group, name, best, chosen."""
    name_of = table["name"].to_numpy(dtype=object)
    group_of = table["group"].to_numpy(dtype=object)
    best_of, chosen_of = table["best"].to_numpy(float), table["chosen"].to_numpy(float)
    names = list(dict.fromkeys(name_of))
    ids, layout, _ = facet_grid(len(names), len(names), hspace=0.12, share_x=False, share_y=False)
    c = palette(theme)
    n = len(set(group_of))
    many = n > 30
    traces, shapes = [], []
    for i, (name, (xa, ya)) in enumerate(zip(names, ids), start=1):
        axes = {"xaxis": xa, "yaxis": ya}
        # This panel's rows sorted by the mode at the fit (as sort_values: NaN last), from arrays.
        rows = np.flatnonzero(name_of == name)
        finite = ~np.isnan(best_of[rows])
        rows = np.concatenate([rows[finite][np.argsort(best_of[rows[finite]], kind="quicksort")], rows[~finite]])
        best, chosen, groups = best_of[rows], chosen_of[rows], group_of[rows]
        pos = np.arange(len(rows))
        # One segment per group from its mode at the fit to the one at your θ, NaN-separated.
        sx = np.column_stack([best, chosen, np.full(len(rows), np.nan)]).ravel()
        sy = np.column_stack([pos, pos, np.full(len(rows), np.nan)]).ravel()
        traces.append(dict(type="scatter", x=rounded(sx), y=sy, mode="lines", line={"color": c["faint"], "width": 2},
                           showlegend=False, hoverinfo="skip", **axes))
        for values, label, marker in (
            (best, "At the fitted θ", {"symbol": "circle-open", "size": 9, "color": c["text"], "line": {"width": 2}}),
            (chosen, "At your θ", {"symbol": "circle", "size": 9, "color": PARTIAL}),
        ):
            key = "best" if values is best else "chosen"
            traces.append(dict(type="scatter", x=rounded(values), y=pos, mode="markers", name=label,
                               legendgroup=key, showlegend=i == 1, customdata=groups,
                               marker=marker, hovertemplate=f"{group_label} %{{customdata}}<br>{label.lower()}: "
                                                            "%{x:.4g}<extra></extra>", **axes))
        k = xa[1:]
        yaxis = layout[f"yaxis{k}"]
        yaxis.update({"showticklabels": not many, "tickfont": {"size": FONT_SIZE - 5}})
        if not many:
            yaxis.update({"tickvals": pos, "ticktext": [str(g) for g in groups]})
        if many and i == 1:
            yaxis["title"] = {"text": f"{group_label}s, sorted"}
        layout[f"xaxis{k}"]["title"] = {"text": "Conditional mode b̂"}
        shapes.append({"type": "line", "xref": xa, "yref": f"{ya} domain", "x0": 0, "x1": 0, "y0": 0, "y1": 1,
                       "line": {"color": c["population"], "dash": "dash", "width": 1.5}})
    layout["shapes"] = shapes
    layout["annotations"] = panel_titles(layout, names)
    fig = fast_figure(traces, layout, theme=theme, height=height or int(min(620, max(360, 22 * n + 140))))
    return legend_over_titles(fig)


def sd_profile(curve: pd.DataFrame, *, estimate: float, lower: float, upper: float, cutoff: float,
               theme: str = "light", x_label: str = "", height: int = 420) -> go.Figure:
    """The deviance profiled over a group SD, the cut-off line and the interval it gives."""
    c = palette(theme)
    traces = [
        dict(type="scatter", x=curve["sd"], y=curve["change"], mode="lines", name="Deviance − minimum",
             line={"color": c["population"], "width": LINE_WIDTH},
             hovertemplate="SD %{x:.4g}<br>change %{y:.2f}<extra></extra>"),
        dict(type="scatter", x=[lower, upper], y=[0, 0], mode="lines+markers", name="95% interval",
             line={"color": PARTIAL, "width": 8}, marker={"size": 12, "symbol": "line-ns-open"},
             hovertemplate="%{x:.4g}<extra>interval end</extra>"),
        dict(type="scatter", x=[estimate], y=[0], mode="markers", name="Estimate (ML)",
             marker={"symbol": "star", "size": 20, "color": TRUTH_COLOR, "line": {"width": 1, "color": c["text"]}}),
    ]
    top = max(cutoff * 2.2, 1.0)
    # The cut-off as Plotly's add_hline draws it (a line across the plot and its label on top), in plain dicts.
    layout = {
        "shapes": [{"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": cutoff, "y1": cutoff,
                    "line": {"color": COMPLETE, "dash": "dash", "width": 2}}],
        "annotations": [{"text": f"95% cut-off ({cutoff:.2f})", "showarrow": False, "xref": "x domain", "x": 0.5,
                         "xanchor": "center", "yref": "y", "y": cutoff, "yanchor": "bottom"}],
        "yaxis": {"title": {"text": "Deviance above its minimum"}, "range": [-0.4, top]},
        "xaxis": {"title": {"text": x_label}, "rangemode": "tozero"},
    }
    return fast_figure(traces, layout, theme=theme, height=height)
