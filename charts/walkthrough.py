"""Figures of the guided walkthrough that the other figure files do not already draw.

One regression through everything, the per-day means, group panels with held-back points,
the three kinds of prediction, the criterion along θ next to the groups' intercepts at that θ,
and every group's line at once. Builders take plain frames and return a styled figure.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .base import FONT_SIZE, LINE_WIDTH, METHOD_STYLE, legend_over_titles, nan_join, palette, style
from .pooling import pooling_facets

# Okabe-Ito colours not used by the pooling methods, for the three kinds of prediction.
PREDICTION_STYLE = {
    "known": {"name": "In the data (all its points)", "color": METHOD_STYLE["partial"]["color"], "dash": "solid"},
    "partial": {"name": "Partly observed (first points only)", "color": "#CC79A7", "dash": "dashdot"},
    "new": {"name": "New (no data: fixed effects only)", "color": "#56B4E9", "dash": "dash"},
}


def _line(x, y, method: str, name: str | None = None, showlegend: bool = True) -> go.Scatter:
    s = METHOD_STYLE[method]
    return go.Scatter(x=x, y=y, mode="lines", name=name or s["name"], showlegend=showlegend,
                      line={"color": s["color"], "width": LINE_WIDTH + 1, "dash": s["dash"]},
                      hovertemplate=f"{s['short']}: %{{y:.4g}}<extra></extra>")


def one_line(obs: pd.DataFrame, line: pd.DataFrame, *, connect_groups: bool = False, theme: str = "light",
             x_label: str = "x", y_label: str = "y", height: int = 520) -> go.Figure:
    """All observations and one least-squares line; optionally each group's points joined up.

    ``obs``: group, x, y. ``line``: x, y (its two ends)."""
    c = palette(theme)
    fig = go.Figure()
    if connect_groups:
        parts = [d.sort_values("x") for _, d in obs.groupby("group", sort=False, observed=True)]
        xs, ys = nan_join([d["x"] for d in parts], [d["y"] for d in parts])
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="One group's points, joined",
                                 line={"color": c["faint"], "width": 1.5}, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=obs["x"], y=obs["y"], mode="markers", name="Observations",
                             marker={"color": c["points"], "size": 8}, text=obs["group"],
                             hovertemplate="%{text}<br>%{x}: %{y:.4g}<extra></extra>"))
    fig.add_trace(_line(line["x"], line["y"], "complete"))
    style(fig, theme, height=height)
    fig.update_xaxes(title_text=x_label)
    fig.update_yaxes(title_text=y_label)
    return fig


def means_and_line(obs: pd.DataFrame, means: pd.DataFrame, line: pd.DataFrame, *, show_points: bool = True,
                   theme: str = "light", x_label: str = "x", y_label: str = "y", height: int = 520) -> go.Figure:
    """The mean of each x value with ±1 SD bars, the line through the means, optionally the raw points.

    ``means``: x, mean, sd, n."""
    c = palette(theme)
    fig = go.Figure()
    if show_points:
        fig.add_trace(go.Scatter(x=obs["x"], y=obs["y"], mode="markers", name="Observations",
                                 marker={"color": c["faint"], "size": 7}, hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=means["x"], y=means["mean"], mode="markers", name="Mean of the day (bars: ±1 SD)",
        marker={"color": c["population"], "size": 14, "symbol": "square"},
        error_y={"type": "data", "array": means["sd"], "color": c["population"], "thickness": 2, "width": 6},
        customdata=means[["sd", "n"]],
        hovertemplate="%{x}: mean %{y:.4g}<br>SD %{customdata[0]:.3g}, n = %{customdata[1]}<extra></extra>"))
    fig.add_trace(_line(line["x"], line["y"], "complete", name="Line through the means"))
    style(fig, theme, height=height)
    fig.update_xaxes(title_text=x_label)
    fig.update_yaxes(title_text=y_label)
    return fig


def facets_with_hidden(kept: pd.DataFrame, hidden: pd.DataFrame, lines: pd.DataFrame, *, methods=("complete", "none"),
                       theme: str = "light", x_label: str = "x", y_label: str = "y", ncols: int = 6,
                       height_per_row: int = 190) -> go.Figure:
    """Group panels fitted on ``kept`` points, with the ``hidden`` points drawn hollow.

    ``kept``/``hidden``: group, x, y; ``lines``: group, method, x, y."""
    return pooling_facets(kept, lines, methods=methods, theme=theme, x_label=x_label, y_label=y_label,
                          ncols=ncols, faint_obs=hidden, height_per_row=height_per_row)


def three_predictions(curves: pd.DataFrame, observed: pd.DataFrame, shown: pd.DataFrame, *, theme: str = "light",
                      x_label: str = "x", y_label: str = "y", height: int = 520) -> go.Figure:
    """One group predicted three ways (known, partly observed, new), each with its 95% band.

    ``curves``: x, fit, lower, upper, kind. ``observed``: all the group's points (x, y);
    ``shown``: those the partly observed fit could use."""
    c = palette(theme)
    fig = go.Figure()
    for kind in ("new", "partial", "known"):
        d = curves[curves["kind"] == kind]
        if d.empty:
            continue
        s = PREDICTION_STYLE[kind]
        band_x = np.concatenate([d["x"], d["x"][::-1]])
        band_y = np.concatenate([d["upper"], d["lower"][::-1]])
        fig.add_trace(go.Scatter(x=band_x, y=band_y, fill="toself", fillcolor=s["color"], opacity=0.13,
                                 line={"width": 0}, hoverinfo="skip", showlegend=False, legendgroup=kind))
        fig.add_trace(go.Scatter(x=d["x"], y=d["fit"], mode="lines", name=s["name"], legendgroup=kind,
                                 line={"color": s["color"], "width": LINE_WIDTH, "dash": s["dash"]},
                                 hovertemplate=f"{s['name']}<br>%{{x:.3g}}: %{{y:.4g}}<extra></extra>"))
    fig.add_trace(go.Scatter(x=observed["x"], y=observed["y"], mode="markers", name="Its observations",
                             marker={"color": c["points"], "size": 9, "symbol": "circle-open", "line": {"width": 2}},
                             hovertemplate="%{x}: %{y:.4g}<extra></extra>"))
    fig.add_trace(go.Scatter(x=shown["x"], y=shown["y"], mode="markers", name="Points the partly observed fit saw",
                             marker={"color": PREDICTION_STYLE["partial"]["color"], "size": 12},
                             hovertemplate="%{x}: %{y:.4g}<extra></extra>"))
    style(fig, theme, height=height)
    fig.update_layout(legend={"yref": "container", "y": 1.0, "yanchor": "top"}, margin={"t": 110})
    fig.update_xaxes(title_text=x_label)
    fig.update_yaxes(title_text=y_label)
    return fig


def criterion_and_intercepts(curve: pd.DataFrame, *, theta: float, best: float, plausible: tuple[float, float],
                             intercepts: pd.DataFrame, theme: str = "light", group_label: str = "group",
                             value_label: str = "Intercept", height: int = 560, y_top: float = 30.0) -> go.Figure:
    """Left: how much worse than the best fit each θ is (criterion minus its minimum), with the
    fitted θ, the plausible range (within 3.84) and the chosen θ. Right: each group's own intercept
    (no pooling) and the mixed model's at the chosen θ, with the fixed intercept dashed.

    ``curve``: theta, criterion. ``intercepts``: group, own, mixed, fixed."""
    c = palette(theme)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.45, 0.55], horizontal_spacing=0.12,
                        subplot_titles=["How much worse<br>than the best θ",
                                        f"Each {_possessive(group_label)}<br>intercept at this θ"])
    worse = curve["criterion"] - curve["criterion"].min()
    lo, hi = plausible
    fig.add_trace(go.Scatter(x=curve["theta"], y=worse, mode="lines", name="REML criterion above its minimum",
                             line={"color": c["text"], "width": LINE_WIDTH},
                             hovertemplate="θ = %{x:.3g}<br>%{y:.3g} above the minimum<extra></extra>"), row=1, col=1)
    # Shapes after the traces: plotly skips shapes for subplots that are still empty.
    fig.add_vrect(x0=lo, x1=hi, fillcolor=METHOD_STYLE["none"]["color"], opacity=0.15, line_width=0, row=1, col=1)
    fig.add_hline(y=3.84, line={"color": c["faint"], "dash": "dot", "width": 2}, row=1, col=1)
    floor = -0.08 * y_top  # room under 0, so the y axis's "0" sits clear of the x axis's labels
    fig.add_trace(go.Scatter(x=[theta, theta], y=[floor, y_top], mode="lines", name="Your θ",
                             line={"color": METHOD_STYLE["partial"]["color"], "width": 3},
                             hovertemplate="your θ = %{x:.3g}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=[best], y=[0], mode="markers", name="Fitted θ (the minimum)",
                             marker={"color": c["population"], "symbol": "star", "size": 18},
                             hovertemplate="fitted θ = %{x:.3g}<extra></extra>"), row=1, col=1)
    order = intercepts.sort_values("own")
    groups = order["group"].astype(str)
    xs = np.column_stack([order["own"], order["mixed"], np.full(len(order), np.nan)]).ravel()
    fig.add_trace(go.Scatter(x=xs, y=_categorical(groups), mode="lines", hoverinfo="skip", showlegend=False,
                             line={"color": METHOD_STYLE["partial"]["color"], "width": 2}), row=1, col=2)
    for method, column, size in (("none", "own", 14), ("partial", "mixed", 10)):
        s = METHOD_STYLE[method]
        fig.add_trace(go.Scatter(x=order[column], y=groups, mode="markers", name=s["name"],
                                 marker={"color": s["color"], "size": size, "symbol": s["symbol"]},
                                 hovertemplate=f"%{{y}}: {s['short']} %{{x:.4g}}<extra></extra>"), row=1, col=2)
    fig.add_vline(x=float(intercepts["fixed"].iloc[0]), line={"color": c["population"], "dash": "dash", "width": 2},
                  row=1, col=2)
    style(fig, theme, height=height)
    fig.update_annotations(font_size=FONT_SIZE)
    legend_over_titles(fig, title_lines=2)
    fig.update_xaxes(title_text="θ = between-group SD ÷ residual SD", row=1, col=1)
    fig.update_yaxes(title_text="Criterion above its minimum", range=[floor, y_top], row=1, col=1)
    fig.update_xaxes(title_text=value_label, row=1, col=2)
    fig.update_yaxes(type="category", row=1, col=2)
    return fig


def _possessive(word: str) -> str:
    """'subject' -> "subject's"; 'species' -> "species'"."""
    return word + ("'" if word.endswith("s") else "'s")


def _categorical(groups) -> list:
    """y values of own→mixed segments on a categorical axis: each group twice, then a gap."""
    out = []
    for g in groups:
        out.extend([g, g, None])
    return out


def all_lines(lines: pd.DataFrame, population: tuple[float, float], x_range, *, method: str = "partial",
              theme: str = "light", x_label: str = "x", y_label: str = "y", group_word: str = "group",
              height: int = 520) -> go.Figure:
    """Every group's line under one method, falling lines drawn stronger, and the population line.

    ``lines``: group, intercept, slope (one row per group)."""
    c = palette(theme)
    x0, x1 = (float(v) for v in x_range)
    s = METHOD_STYLE[method]
    fig = go.Figure()
    falling = lines["slope"] < 0
    for part, name, width, opacity in ((lines[~falling], f"Each {group_word}: {s['short']}", 1.3, 0.4),
                                       (lines[falling], f"Falling lines ({int(falling.sum())})", 2.8, 1.0)):
        xs, ys = nan_join([[x0, x1]] * len(part),
                          [[a + b * x0, a + b * x1] for a, b in zip(part["intercept"], part["slope"])])
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name, opacity=opacity,
                                 line={"color": s["color"], "width": width}, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[x0, x1], y=[population[0] + population[1] * x0, population[0] + population[1] * x1],
                             mode="lines", name="Fixed effects (population line)",
                             line={"color": c["population"], "width": LINE_WIDTH + 1}))
    style(fig, theme, height=height)
    fig.update_xaxes(title_text=x_label)
    fig.update_yaxes(title_text=y_label)
    return fig
