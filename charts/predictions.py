"""Figures for the Predictions page: the three kinds of prediction side by side, how a group's line
moves as its observations arrive, and the hold-out test."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .base import FONT_SIZE, LINE_WIDTH, METHOD_STYLE, palette, style

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


def _band(fig, curve, row, col, showlegend):
    x = np.concatenate([curve["x"], curve["x"][::-1]])
    y = np.concatenate([curve["upper"], curve["lower"][::-1]])
    fig.add_trace(go.Scatter(x=x, y=y, fill="toself", fillcolor=BAND, line={"width": 0}, hoverinfo="skip",
                             name="95% prediction band", legendgroup="band", showlegend=showlegend), row=row, col=col)


def prediction_panels(panels: list[Panel], *, theme: str = "light", x_label: str = "", y_label: str = "",
                      height: int = 560) -> go.Figure:
    """The panels side by side, sharing the y axis: band, prediction line, points used (filled) and
    points the prediction did not use (hollow), and the reference lines."""
    c = palette(theme)
    fig = make_subplots(rows=1, cols=len(panels), shared_yaxes=True, horizontal_spacing=0.03,
                        subplot_titles=[p.title for p in panels])
    seen_legend = set()

    def first(name):
        new = name not in seen_legend
        seen_legend.add(name)
        return new

    for i, p in enumerate(panels, start=1):
        _band(fig, p.curve, 1, i, first("band"))
        for name, (x, y, kind) in p.references.items():
            line = ({"color": c["population"], "dash": "dash", "width": 2.5} if kind == "population"
                    else {"color": NONE["color"], "dash": NONE["dash"], "width": 2.5})
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name, line=line, legendgroup=name,
                                     showlegend=first(name), hoverinfo="skip"), row=1, col=i)
        fig.add_trace(go.Scatter(x=p.curve["x"], y=p.curve["fit"], mode="lines", name="Prediction",
                                 line={"color": PARTIAL["color"], "width": LINE_WIDTH}, legendgroup="prediction",
                                 showlegend=first("prediction"),
                                 hovertemplate="%{x:.3g}: %{y:.4g}<extra>prediction</extra>"), row=1, col=i)
        if len(p.used):
            fig.add_trace(go.Scatter(x=p.used["x"], y=p.used["y"], mode="markers", name="Observations used",
                                     marker={"color": c["text"], "size": 9}, legendgroup="used",
                                     showlegend=first("used"), hovertemplate="%{x:.3g}: %{y:.4g}<extra>used</extra>"),
                          row=1, col=i)
        if len(p.unseen):
            fig.add_trace(go.Scatter(x=p.unseen["x"], y=p.unseen["y"], mode="markers", name="Not used (unseen)",
                                     marker={"color": c["text"], "size": 9, "symbol": "circle-open",
                                             "line": {"width": 1.5}},
                                     legendgroup="unseen", showlegend=first("unseen"),
                                     hovertemplate="%{x:.3g}: %{y:.4g}<extra>not used</extra>"), row=1, col=i)
        fig.update_xaxes(title_text=x_label, row=1, col=i)
    style(fig, theme, height=height)
    fig.update_yaxes(title_text=y_label, row=1, col=1)
    _legend_below(fig)
    return fig


def partial_path(table: pd.DataFrame, *, columns: dict[str, str], own: dict[str, float],
                 population: dict[str, float], current: int, theme: str = "light",
                 x_label: str = "", height: int = 470) -> go.Figure:
    """The group's coefficients (with ±1.96 conditional SD) against the number of observations seen.

    ``columns``: table column -> panel title; ``own``/``population``: per column the group's own
    estimate from all its data and the population value (fixed effects)."""
    c = palette(theme)
    fig = make_subplots(rows=1, cols=len(columns), subplot_titles=list(columns.values()), horizontal_spacing=0.1)
    for i, col in enumerate(columns, start=1):
        sd = table[f"{col}_sd"] * 1.959964
        fig.add_trace(go.Scatter(
            x=table["k"], y=table[col], mode="lines+markers", name="Mixed model, from the first k",
            line={"color": PARTIAL["color"], "width": LINE_WIDTH}, marker={"size": 9},
            error_y={"type": "data", "array": sd, "color": PARTIAL["color"], "thickness": 1.5, "width": 4},
            legendgroup="path", showlegend=i == 1,
            hovertemplate="k = %{x}: %{y:.4g}<extra></extra>"), row=1, col=i)
        lo, hi = float(table["k"].min()), float(table["k"].max())
        for name, value, line in (
            ("Population (fixed effects)", population[col], {"color": c["population"], "dash": "dash", "width": 2}),
            ("Its own estimate (no pooling), all data", own[col], {"color": NONE["color"], "dash": NONE["dash"], "width": 2.5}),
        ):
            if np.isfinite(value):
                fig.add_trace(go.Scatter(x=[lo, hi], y=[value, value], mode="lines", name=name, line=line,
                                         legendgroup=name, showlegend=i == 1, hoverinfo="skip"), row=1, col=i)
        here = table[table["k"] == current]
        if len(here):
            fig.add_trace(go.Scatter(x=here["k"], y=here[col], mode="markers", name="Your k",
                                     marker={"symbol": "circle-open", "size": 20, "color": c["text"],
                                             "line": {"width": 3}},
                                     legendgroup="current", showlegend=i == 1, hoverinfo="skip"), row=1, col=i)
        fig.update_xaxes(title_text=x_label, row=1, col=i)
    style(fig, theme, height=height)
    _legend_below(fig)
    return fig


def _legend_below(fig: go.Figure) -> None:
    """Panel titles sit where the app's legend usually goes: move the legend under the plot."""
    fig.update_annotations(font={"size": FONT_SIZE})
    fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.24, "xanchor": "left", "x": 0},
                      margin={"t": 50, "b": 40})
