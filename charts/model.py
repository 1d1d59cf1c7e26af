"""Figures of one fitted model: caterpillar plot, residuals against fitted values, Q-Q of random effects."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import stats

from .base import FONT_SIZE, METHOD_STYLE, palette, style

MODE_COLOR = METHOD_STYLE["partial"]["color"]  # conditional modes are the mixed model's estimates
POINT_COLOR = METHOD_STYLE["none"]["color"]
MANY_LEVELS = 60  # beyond this, level names on the axis would overlap: hover shows them instead


def caterpillar(ranef: pd.DataFrame, *, theme: str = "light", group_label: str = "group",
                level: float = 0.95) -> go.Figure:
    """Conditional modes with intervals, one panel per term, levels ordered by the first term's mode
    (as lme4's dotplot of ranef does), so one row is one level in every panel.

    ``ranef``: columns Term, Level, Mode, Cond. SD (lmm_core.tables.random_effects_table for one group).
    """
    terms = list(dict.fromkeys(ranef["Term"]))
    first = ranef[ranef["Term"] == terms[0]].sort_values("Mode")
    order = list(first["Level"].astype(str))
    z = float(stats.norm.ppf(0.5 + level / 2))
    c = palette(theme)
    fig = make_subplots(rows=1, cols=len(terms), shared_yaxes=True, subplot_titles=terms,
                        horizontal_spacing=0.04)
    for j, term in enumerate(terms, start=1):
        d = ranef[ranef["Term"] == term].set_index(ranef["Level"][ranef["Term"] == term].astype(str)).loc[order]
        half = z * d["Cond. SD"].to_numpy(float)
        fig.add_trace(go.Scatter(
            x=d["Mode"], y=order, mode="markers", name=f"Conditional mode ± {level:.0%} interval",
            showlegend=j == 1, legendgroup="modes",
            marker={"color": MODE_COLOR, "size": 8, "symbol": "diamond"},
            error_x={"type": "data", "array": half, "color": MODE_COLOR, "thickness": 2, "width": 0},
            hovertemplate=(f"{group_label} %{{y}}<br>{term}: %{{x:.4g}} ± %{{error_x.array:.3g}}<extra></extra>"),
        ), row=1, col=j)
        fig.add_vline(x=0, line={"color": c["population"], "width": 1.5, "dash": "dash"}, row=1, col=j)
    n = len(order)
    many = n > MANY_LEVELS
    style(fig, theme, height=700 if many else max(360, 130 + 26 * n))
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=order, showticklabels=not many,
                     tickmode="array", tickvals=[] if many else order)
    fig.update_yaxes(title_text=f"{group_label} (ordered by {terms[0]})", row=1, col=1)
    fig.update_xaxes(title_text="deviation from the fixed effect")
    fig.update_annotations(font_size=FONT_SIZE - 1)
    fig.update_layout(showlegend=False, margin={"t": 50})  # the caption explains the marks
    return fig


def residuals_vs_fitted(fitted, residuals, groups=None, *, theme: str = "light", group_label: str = "group"
                        ) -> go.Figure:
    """Residuals against fitted values, with the zero line: look for funnels and curves."""
    fitted = np.asarray(fitted, float)
    residuals = np.asarray(residuals, float)
    custom = None if groups is None else np.asarray(groups, dtype=str)
    c = palette(theme)
    hover = "fitted %{x:.4g}<br>residual %{y:.4g}"
    if custom is not None:
        hover = f"{group_label} %{{customdata}}<br>" + hover
    fig = go.Figure(go.Scatter(
        x=fitted, y=residuals, mode="markers", customdata=custom, name="Observations",
        marker={"color": POINT_COLOR, "size": 7, "opacity": 0.6}, hovertemplate=hover + "<extra></extra>"))
    fig.add_hline(y=0, line={"color": c["population"], "width": 1.5, "dash": "dash"})
    style(fig, theme, height=460)
    fig.update_xaxes(title_text="Fitted value (with the random effects)")
    fig.update_yaxes(title_text="Residual")
    fig.update_layout(showlegend=False)
    return fig


def qq_random_effects(panels: dict[str, pd.DataFrame], *, theme: str = "light") -> go.Figure:
    """Normal Q-Q plots of the conditional modes, one panel per term, each with R's qqline
    (the line through the first and third quartiles).

    ``panels``: term -> frame with columns theoretical, sample (lmm_core.comparison.qq_points).
    """
    terms = list(panels)
    fig = make_subplots(rows=1, cols=max(1, len(terms)), subplot_titles=terms, horizontal_spacing=0.08)
    c = palette(theme)
    for j, term in enumerate(terms, start=1):
        d = panels[term]
        fig.add_trace(go.Scatter(x=d["theoretical"], y=d["sample"], mode="markers", name="Conditional modes",
                                 showlegend=j == 1, marker={"color": MODE_COLOR, "size": 8},
                                 hovertemplate="normal quantile %{x:.2f}<br>mode %{y:.4g}<extra></extra>"),
                      row=1, col=j)
        line = _qq_line(d)
        if line is not None:
            fig.add_trace(go.Scatter(x=line[0], y=line[1], mode="lines", name="Line through the quartiles",
                                     showlegend=j == 1, hoverinfo="skip",
                                     line={"color": c["population"], "width": 2, "dash": "dash"}), row=1, col=j)
        fig.update_xaxes(title_text="Standard normal quantile", row=1, col=j)
    style(fig, theme, height=500)
    fig.update_yaxes(title_text="Conditional mode", row=1, col=1)
    fig.update_annotations(font_size=FONT_SIZE - 1)
    # legend under the panels, so it does not cover the panel titles
    fig.update_layout(margin={"t": 50, "b": 130}, legend={"y": -0.22, "yanchor": "top", "x": 0})
    return fig


def _qq_line(d: pd.DataFrame):
    if len(d) < 2:
        return None
    y1, y3 = np.quantile(d["sample"], [0.25, 0.75])
    x1, x3 = stats.norm.ppf([0.25, 0.75])
    slope = (y3 - y1) / (x3 - x1)
    xs = np.array([d["theoretical"].min(), d["theoretical"].max()])
    return xs, y1 + slope * (xs - x1)
