"""Figures for the Predictions page: the three kinds of prediction side by side, how a group's line
moves as its observations arrive, and the hold-out test."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .base import LINE_WIDTH, METHOD_STYLE, facet_grid, fast_figure, palette, panel_titles, rounded

PARTIAL = METHOD_STYLE["partial"]
NONE = METHOD_STYLE["none"]
BAND = "rgba(170, 51, 119, 0.16)"  # the partial-pooling purple, see-through


@dataclass
class Panel:
    """One panel: a prediction ``curve`` (x, fit, lower, upper), the observations it used and those
    it did not see (x, y), and reference lines name -> (x, y, style key "population" or "none")."""

    title: str
    curve: pd.DataFrame
    used: pd.DataFrame
    unseen: pd.DataFrame
    references: dict = field(default_factory=dict)


def _band(curve, axes, showlegend) -> dict:
    x = np.concatenate([curve["x"], curve["x"][::-1]])
    y = np.concatenate([curve["upper"], curve["lower"][::-1]])
    return dict(type="scatter", x=rounded(x), y=rounded(y), fill="toself", fillcolor=BAND, line={"width": 0},
                hoverinfo="skip", name="95% prediction band", legendgroup="band", showlegend=showlegend, **axes)


def prediction_panels(panels: list[Panel], *, theme: str = "light", x_label: str = "", y_label: str = "",
                      height: int = 560) -> go.Figure:
    """The panels side by side, sharing the y axis: band, prediction line, points used (filled) and
    points the prediction did not use (hollow), and the reference lines. Plain trace dicts: the
    figure is redrawn on every move of the page's slider."""
    c = palette(theme)
    ids, layout, _ = facet_grid(len(panels), len(panels), hspace=0.03, share_x=False)
    seen_legend = set()

    def first(name):
        new = name not in seen_legend
        seen_legend.add(name)
        return new

    traces = []
    for p, (xa, ya) in zip(panels, ids):
        axes = {"xaxis": xa, "yaxis": ya}
        traces.append(_band(p.curve, axes, first("band")))
        for name, (x, y, kind) in p.references.items():
            line = ({"color": c["population"], "dash": "dash", "width": 2.5} if kind == "population"
                    else {"color": NONE["color"], "dash": NONE["dash"], "width": 2.5})
            traces.append(dict(type="scatter", x=rounded(x), y=rounded(y), mode="lines", name=name, line=line,
                               legendgroup=name, showlegend=first(name), hoverinfo="skip", **axes))
        traces.append(dict(type="scatter", x=rounded(p.curve["x"]), y=rounded(p.curve["fit"]), mode="lines",
                           name="Prediction", line={"color": PARTIAL["color"], "width": LINE_WIDTH},
                           legendgroup="prediction", showlegend=first("prediction"),
                           hovertemplate="%{x:.3g}: %{y:.4g}<extra>prediction</extra>", **axes))
        if len(p.used):
            traces.append(dict(type="scatter", x=rounded(p.used["x"]), y=rounded(p.used["y"]), mode="markers",
                               name="Observations used", marker={"color": c["text"], "size": 9}, legendgroup="used",
                               showlegend=first("used"), hovertemplate="%{x:.3g}: %{y:.4g}<extra>used</extra>",
                               **axes))
        if len(p.unseen):
            traces.append(dict(type="scatter", x=rounded(p.unseen["x"]), y=rounded(p.unseen["y"]), mode="markers",
                               name="Not used (unseen)",
                               marker={"color": c["text"], "size": 9, "symbol": "circle-open", "line": {"width": 1.5}},
                               legendgroup="unseen", showlegend=first("unseen"),
                               hovertemplate="%{x:.3g}: %{y:.4g}<extra>not used</extra>", **axes))
        layout["xaxis" + xa[1:]]["title"] = {"text": x_label}
    layout["yaxis"]["title"] = {"text": y_label}
    layout["annotations"] = panel_titles(layout, [p.title for p in panels])
    fig = fast_figure(traces, layout, theme=theme, height=height)
    _legend_below(fig)
    return fig


def partial_path(table: pd.DataFrame, *, columns: dict[str, str], own: dict[str, float],
                 population: dict[str, float], current: int, theme: str = "light",
                 x_label: str = "", height: int = 470) -> go.Figure:
    """The group's coefficients (with ±1.96 conditional SD) against the number of observations seen.

    ``columns``: table column -> panel title; ``own``/``population``: per column the group's own
    estimate from all its data and the population value (fixed effects)."""
    c = palette(theme)
    ids, layout, _ = facet_grid(len(columns), len(columns), hspace=0.1, share_x=False, share_y=False)
    traces = []
    for i, (col, (xa, ya)) in enumerate(zip(columns, ids), start=1):
        axes = {"xaxis": xa, "yaxis": ya}
        sd = table[f"{col}_sd"] * 1.959964
        traces.append(dict(
            type="scatter", x=table["k"].to_numpy(), y=rounded(table[col]), mode="lines+markers",
            name="Mixed model, from the first k", line={"color": PARTIAL["color"], "width": LINE_WIDTH},
            marker={"size": 9},
            error_y={"type": "data", "array": rounded(sd), "color": PARTIAL["color"], "thickness": 1.5, "width": 4},
            legendgroup="path", showlegend=i == 1, hovertemplate="k = %{x}: %{y:.4g}<extra></extra>", **axes))
        lo, hi = float(table["k"].min()), float(table["k"].max())
        for name, value, line in (
            ("Population (fixed effects)", population[col], {"color": c["population"], "dash": "dash", "width": 2}),
            ("Its own estimate (no pooling), all data", own[col], {"color": NONE["color"], "dash": NONE["dash"], "width": 2.5}),
        ):
            if np.isfinite(value):
                traces.append(dict(type="scatter", x=[lo, hi], y=[float(value)] * 2, mode="lines", name=name,
                                   line=line, legendgroup=name, showlegend=i == 1, hoverinfo="skip", **axes))
        here = table[table["k"] == current]
        if len(here):
            traces.append(dict(type="scatter", x=here["k"].to_numpy(), y=rounded(here[col]), mode="markers",
                               name="Your k", marker={"symbol": "circle-open", "size": 20, "color": c["text"],
                                                      "line": {"width": 3}},
                               legendgroup="current", showlegend=i == 1, hoverinfo="skip", **axes))
        layout["xaxis" + xa[1:]]["title"] = {"text": x_label}
    layout["annotations"] = panel_titles(layout, list(columns.values()))
    fig = fast_figure(traces, layout, theme=theme, height=height)
    _legend_below(fig)
    return fig


def _legend_below(fig: go.Figure) -> None:
    """Panel titles (FONT_SIZE, see panel_titles) sit where the app's legend usually goes: move the
    legend under the plot."""
    fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.24, "xanchor": "left", "x": 0},
                      margin={"t": 50, "b": 40})
