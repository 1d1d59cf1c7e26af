"""The lab's repeated experiment: estimates around the truth, and error by group size."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .base import FAST, METHOD_STYLE, palette, style

LABELS = {"none": "No pooling", "partial": "Partial pooling"}


def repeat_errors(estimates: pd.DataFrame, size: int, coefficient: str, *, theme: str = "light",
                  height: int = 380, bins: int = 40) -> go.Figure:
    """Histogram of estimate − truth (over all copies and all groups of ``size`` observations)
    for no pooling and partial pooling, with each method's mean (its bias) marked."""
    c = palette(theme)
    d = estimates[(estimates["n"] == size) & (estimates["coefficient"] == coefficient)].dropna(subset=["error"])
    traces, shapes = [], []
    if len(d):
        lo, hi = np.quantile(d["error"], [0.005, 0.995])
        edges = np.linspace(lo, hi, bins + 1)
        mids = (edges[:-1] + edges[1:]) / 2
        for method in ("none", "partial"):
            e = d.loc[d["method"] == method, "error"].to_numpy(float)
            if not len(e):
                continue
            counts, _ = np.histogram(np.clip(e, lo, hi), bins=edges)
            share = counts / max(len(e), 1)
            s = METHOD_STYLE[method]
            traces.append({"type": "bar", "x": mids, "y": share, "name": LABELS[method],
                           "marker": {"color": s["color"], "opacity": 0.55}, "width": (hi - lo) / bins,
                           "hovertemplate": "error %{x:.3g}: %{y:.1%} of estimates<extra>" + LABELS[method] + "</extra>"})
            shapes.append({"type": "line", "x0": float(e.mean()), "x1": float(e.mean()), "y0": 0, "y1": 1,
                           "yref": "paper", "line": {"color": s["color"], "width": 3, "dash": s["dash"]}})
        shapes.append({"type": "line", "x0": 0, "x1": 0, "y0": 0, "y1": 1, "yref": "paper",
                       "line": {"color": c["population"], "width": 2}})
    fig = go.Figure(data=traces, layout={"barmode": "overlay", "shapes": shapes, "bargap": 0,
                                         "xaxis": {"title": {"text": f"Estimated {coefficient} − true {coefficient}"}},
                                         "yaxis": {"title": {"text": "Share of estimates"}, "tickformat": ".0%"}},
                    **FAST)
    return style(fig, theme, height=height)


def error_by_size(by_size: pd.DataFrame, coefficient: str, *, theme: str = "light", height: int = 380,
                  selected: int | None = None) -> go.Figure:
    """RMSE (solid), |bias| (dashed) and SD (dotted) of each method against group size."""
    d = by_size[by_size["coefficient"] == coefficient]
    traces = []
    for method in ("none", "partial"):
        m = d[d["method"] == method].sort_values("n")
        s = METHOD_STYLE[method]
        for what, values, dash, width in (("RMSE", m["rmse"], "solid", 3.5), ("|bias|", m["abs_bias"], "dash", 2),
                                           ("SD", np.sqrt(m["variance"]), "dot", 2)):
            traces.append({"type": "scatter", "mode": "lines+markers", "x": m["n"].to_numpy(),
                           "y": np.asarray(values, float), "name": f"{LABELS[method]}: {what}",
                           "line": {"color": s["color"], "dash": dash, "width": width},
                           "marker": {"color": s["color"], "size": 7, "symbol": s["symbol"]},
                           "hovertemplate": f"n = %{{x}}: {what} %{{y:.3g}}<extra>{LABELS[method]}</extra>"})
    shapes = []
    if selected is not None:
        shapes.append({"type": "rect", "x0": selected - 0.4, "x1": selected + 0.4, "y0": 0, "y1": 1,
                       "yref": "paper", "fillcolor": "rgba(128,128,128,0.15)", "line": {"width": 0}})
    fig = go.Figure(data=traces, layout={"shapes": shapes,
                                         "xaxis": {"title": {"text": "Observations in the group"}, "dtick": 1},
                                         "yaxis": {"title": {"text": f"Error of the {coefficient}"}, "rangemode": "tozero"}},
                    **FAST)
    return style(fig, theme, height=height)
