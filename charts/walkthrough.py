"""Figures of the guided walkthrough that the other figure files do not already draw.

One regression through everything, the per-day means, group panels with held-back points,
the three kinds of prediction, the criterion along θ next to the groups' intercepts at that θ,
and every group's line at once. Builders take plain frames and return a styled figure.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .base import (LINE_WIDTH, METHOD_STYLE, facet_grid, fast_figure, legend_over_titles, nan_join, palette,
                   panel_titles, rounded)
from .pooling import pooling_facets

# Okabe-Ito colours not used by the pooling methods, for the three kinds of prediction.
PREDICTION_STYLE = {
    "known": {"name": "In the data (all its points)", "color": METHOD_STYLE["partial"]["color"], "dash": "solid"},
    "partial": {"name": "Partly observed (first points only)", "color": "#009E73", "dash": "dashdot"},
    "new": {"name": "New (no data: fixed effects only)", "color": "#56B4E9", "dash": "dash"},
}


def _line(x, y, method: str, name: str | None = None, showlegend: bool = True) -> dict:
    s = METHOD_STYLE[method]
    return dict(type="scatter", x=rounded(x), y=rounded(y), mode="lines", name=name or s["name"],
                showlegend=showlegend, line={"color": s["color"], "width": LINE_WIDTH + 1, "dash": s["dash"]},
                hovertemplate=f"{s['short']}: %{{y:.4g}}<extra></extra>")


def _titles(x_label: str, y_label: str) -> dict:
    return {"xaxis": {"title": {"text": x_label}}, "yaxis": {"title": {"text": y_label}}}


def one_line(obs: pd.DataFrame, line: pd.DataFrame, *, connect_groups: bool = False, theme: str = "light",
             x_label: str = "x", y_label: str = "y", height: int = 520) -> go.Figure:
    """All observations and one least-squares line; optionally each group's points joined up.

    ``obs``: group, x, y. ``line``: x, y (its two ends)."""
    c = palette(theme)
    traces = []
    if connect_groups:
        parts = [d.sort_values("x") for _, d in obs.groupby("group", sort=False, observed=True)]
        xs, ys = nan_join([d["x"] for d in parts], [d["y"] for d in parts])
        traces.append(dict(type="scatter", x=rounded(xs), y=rounded(ys), mode="lines",
                           name="One group's points, joined", line={"color": c["faint"], "width": 1.5},
                           hoverinfo="skip"))
    traces.append(dict(type="scatter", x=rounded(obs["x"]), y=rounded(obs["y"]), mode="markers", name="Observations",
                       marker={"color": c["points"], "size": 8}, text=obs["group"].astype(str).to_numpy(dtype=object),
                       hovertemplate="%{text}<br>%{x}: %{y:.4g}<extra></extra>"))
    traces.append(_line(line["x"], line["y"], "complete"))
    return fast_figure(traces, _titles(x_label, y_label), theme=theme, height=height)


def means_and_line(obs: pd.DataFrame, means: pd.DataFrame, line: pd.DataFrame, *, show_points: bool = True,
                   theme: str = "light", x_label: str = "x", y_label: str = "y", height: int = 520) -> go.Figure:
    """The mean of each x value with ±1 SD bars, the line through the means, optionally the raw points.

    ``means``: x, mean, sd, n."""
    c = palette(theme)
    traces = []
    if show_points:
        traces.append(dict(type="scatter", x=rounded(obs["x"]), y=rounded(obs["y"]), mode="markers",
                           name="Observations", marker={"color": c["faint"], "size": 7}, hoverinfo="skip"))
    traces.append(dict(
        type="scatter", x=rounded(means["x"]), y=rounded(means["mean"]), mode="markers",
        name="Mean of the day (bars: ±1 SD)", marker={"color": c["population"], "size": 14, "symbol": "square"},
        error_y={"type": "data", "array": rounded(means["sd"]), "color": c["population"], "thickness": 2, "width": 6},
        customdata=np.column_stack([rounded(means["sd"]), means["n"].to_numpy(float)]),
        hovertemplate="%{x}: mean %{y:.4g}<br>SD %{customdata[0]:.3g}, n = %{customdata[1]}<extra></extra>"))
    traces.append(_line(line["x"], line["y"], "complete", name="Line through the means"))
    return fast_figure(traces, _titles(x_label, y_label), theme=theme, height=height)


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
    traces = []
    for kind in ("new", "partial", "known"):
        d = curves[curves["kind"] == kind]
        if d.empty:
            continue
        s = PREDICTION_STYLE[kind]
        band_x = np.concatenate([d["x"], d["x"][::-1]])
        band_y = np.concatenate([d["upper"], d["lower"][::-1]])
        traces.append(dict(type="scatter", x=rounded(band_x), y=rounded(band_y), fill="toself", fillcolor=s["color"],
                           opacity=0.13, line={"width": 0}, hoverinfo="skip", showlegend=False, legendgroup=kind))
        traces.append(dict(type="scatter", x=rounded(d["x"]), y=rounded(d["fit"]), mode="lines", name=s["name"],
                           legendgroup=kind, line={"color": s["color"], "width": LINE_WIDTH, "dash": s["dash"]},
                           hovertemplate=f"{s['name']}<br>%{{x:.3g}}: %{{y:.4g}}<extra></extra>"))
    traces.append(dict(type="scatter", x=rounded(observed["x"]), y=rounded(observed["y"]), mode="markers",
                       name="Its observations",
                       marker={"color": c["points"], "size": 9, "symbol": "circle-open", "line": {"width": 2}},
                       hovertemplate="%{x}: %{y:.4g}<extra></extra>"))
    traces.append(dict(type="scatter", x=rounded(shown["x"]), y=rounded(shown["y"]), mode="markers",
                       name="Points the partly observed fit saw",
                       marker={"color": PREDICTION_STYLE["partial"]["color"], "size": 12},
                       hovertemplate="%{x}: %{y:.4g}<extra></extra>"))
    fig = fast_figure(traces, _titles(x_label, y_label), theme=theme, height=height)
    fig.update_layout(legend={"yref": "container", "y": 1.0, "yanchor": "top"}, margin={"t": 110})
    return fig


def criterion_and_intercepts(curve: pd.DataFrame, *, theta: float, best: float, plausible: tuple[float, float],
                             intercepts: pd.DataFrame, theme: str = "light", group_label: str = "group",
                             value_label: str = "Intercept", height: int = 560, y_top: float = 30.0) -> go.Figure:
    """Left: how much worse than the best fit each θ is (criterion minus its minimum), with the
    fitted θ, the plausible range (within 3.84) and the chosen θ. Right: each group's own intercept
    (no pooling) and the mixed model's at the chosen θ, with the fixed intercept dashed.

    ``curve``: theta, criterion. ``intercepts``: group, own, mixed, fixed."""
    c = palette(theme)
    (left, right), layout, _ = facet_grid(2, 2, hspace=0.12, share_x=False, share_y=False, widths=[0.45, 0.55])
    on_left, on_right = {"xaxis": left[0], "yaxis": left[1]}, {"xaxis": right[0], "yaxis": right[1]}
    worse = curve["criterion"] - curve["criterion"].min()
    lo, hi = plausible
    floor = -0.08 * y_top  # room under 0, so the y axis's "0" sits clear of the x axis's labels
    traces = [
        dict(type="scatter", x=rounded(curve["theta"]), y=rounded(worse), mode="lines",
             name="REML criterion above its minimum", line={"color": c["text"], "width": LINE_WIDTH},
             hovertemplate="θ = %{x:.3g}<br>%{y:.3g} above the minimum<extra></extra>", **on_left),
        dict(type="scatter", x=[theta, theta], y=[floor, y_top], mode="lines", name="Your θ",
             line={"color": METHOD_STYLE["partial"]["color"], "width": 3},
             hovertemplate="your θ = %{x:.3g}<extra></extra>", **on_left),
        dict(type="scatter", x=[best], y=[0], mode="markers", name="Fitted θ (the minimum)",
             marker={"color": c["population"], "symbol": "star", "size": 18},
             hovertemplate="fitted θ = %{x:.3g}<extra></extra>", **on_left),
    ]
    order = intercepts.sort_values("own")
    groups = order["group"].astype(str)
    xs = np.column_stack([order["own"], order["mixed"], np.full(len(order), np.nan)]).ravel()
    traces.append(dict(type="scatter", x=rounded(xs), y=_categorical(groups), mode="lines", hoverinfo="skip",
                       showlegend=False, line={"color": METHOD_STYLE["partial"]["color"], "width": 2}, **on_right))
    for method, column, size in (("none", "own", 14), ("partial", "mixed", 10)):
        s = METHOD_STYLE[method]
        traces.append(dict(type="scatter", x=rounded(order[column]), y=groups.to_numpy(dtype=object), mode="markers",
                           name=s["name"], marker={"color": s["color"], "size": size, "symbol": s["symbol"]},
                           hovertemplate=f"%{{y}}: {s['short']} %{{x:.4g}}<extra></extra>", **on_right))
    fixed = float(intercepts["fixed"].iloc[0])
    layout["shapes"] = [
        {"type": "rect", "xref": left[0], "yref": f"{left[1]} domain", "x0": lo, "x1": hi, "y0": 0, "y1": 1,
         "fillcolor": METHOD_STYLE["none"]["color"], "opacity": 0.15, "line": {"width": 0}, "layer": "below"},
        {"type": "line", "xref": f"{left[0]} domain", "yref": left[1], "x0": 0, "x1": 1, "y0": 3.84, "y1": 3.84,
         "line": {"color": c["faint"], "dash": "dot", "width": 2}},
        {"type": "line", "xref": right[0], "yref": f"{right[1]} domain", "x0": fixed, "x1": fixed, "y0": 0, "y1": 1,
         "line": {"color": c["population"], "dash": "dash", "width": 2}},
    ]
    layout["annotations"] = panel_titles(layout, ["How much worse<br>than the best θ",
                                                  f"Each {_possessive(group_label)}<br>intercept at this θ"])
    layout["xaxis"]["title"] = {"text": "θ = between-group SD<br>÷ residual SD"}
    layout["yaxis"].update({"title": {"text": "Criterion above its minimum"}, "range": [floor, y_top]})
    layout["xaxis2"]["title"] = {"text": value_label}
    layout["yaxis2"]["type"] = "category"
    fig = fast_figure(traces, layout, theme=theme, height=height)
    legend_over_titles(fig, title_lines=2)
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
    traces = []
    falling = lines["slope"] < 0
    for part, name, width, opacity in ((lines[~falling], f"Each {group_word}: {s['short']}", 1.3, 0.4),
                                       (lines[falling], f"Falling lines ({int(falling.sum())})", 2.8, 1.0)):
        xs, ys = nan_join([[x0, x1]] * len(part),
                          [[a + b * x0, a + b * x1] for a, b in zip(part["intercept"], part["slope"])])
        traces.append(dict(type="scatter", x=rounded(xs), y=rounded(ys), mode="lines", name=name, opacity=opacity,
                           line={"color": s["color"], "width": width}, hoverinfo="skip"))
    traces.append(dict(type="scatter", x=[x0, x1],
                       y=[population[0] + population[1] * x0, population[0] + population[1] * x1],
                       mode="lines", name="Fixed effects (population line)",
                       line={"color": c["population"], "width": LINE_WIDTH + 1}))
    return fast_figure(traces, _titles(x_label, y_label), theme=theme, height=height)
