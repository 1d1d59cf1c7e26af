"""Figures for two known confusions: the correlation of the modes is not the estimated
correlation, and a singular fit is complete pooling along one direction."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .base import FAST, METHOD_STYLE, palette, style


def _ring(center, cov, p: float = 0.95, n: int = 120):
    w, V = np.linalg.eigh((np.asarray(cov, float) + np.asarray(cov, float).T) / 2)
    root = V * np.sqrt(np.maximum(w, 0.0))
    t = np.linspace(0, 2 * np.pi, n)
    pts = np.asarray(center, float)[:, None] + np.sqrt(-2 * np.log1p(-p)) * (root @ np.stack([np.cos(t), np.sin(t)]))
    return pts[0], pts[1]


def modes_vs_estimate(modes: pd.DataFrame, estimated_cov, *, names=("Intercept", "Slope"), theme: str = "light",
                      height: int = 480, group_label: str = "group") -> go.Figure:
    """The groups' conditional modes (b̂₀, b̂₁) as points, with two 95% ellipses: the one the
    model estimated (Σ̂, its tilt is the estimated correlation) and the one of the points
    themselves (their sample covariance, its tilt is the correlation of the modes)."""
    c = palette(theme)
    x, y = modes.iloc[:, 0].to_numpy(float), modes.iloc[:, 1].to_numpy(float)
    est = np.asarray(estimated_cov, float)
    r_est = est[0, 1] / np.sqrt(est[0, 0] * est[1, 1]) if est[0, 0] > 0 and est[1, 1] > 0 else np.nan
    sample = np.cov(np.vstack([x, y]))
    r_modes = np.corrcoef(x, y)[0, 1] if len(x) > 2 else np.nan
    ex, ey = _ring((0, 0), est)
    sx, sy = _ring((x.mean(), y.mean()), sample)
    partial = METHOD_STYLE["partial"]
    traces = [
        {"type": "scatter", "mode": "lines", "x": ex, "y": ey, "name": f"Estimated by the model: correlation {r_est:.2f}",
         "line": {"color": c["population"], "width": 3}, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "lines", "x": sx, "y": sy, "name": f"Spread of the modes: correlation {r_modes:.2f}",
         "line": {"color": partial["color"], "width": 3, "dash": "dash"}, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "markers", "x": x, "y": y, "name": f"Each {group_label}'s modes (b̂)",
         "customdata": modes.index.astype(str).to_numpy()[:, None],
         "marker": {"color": partial["color"], "size": 9, "symbol": partial["symbol"]},
         "hovertemplate": f"{group_label} %{{customdata[0]}}<br>{names[0]} %{{x:.3g}}<br>{names[1]} %{{y:.3g}}<extra></extra>"},
    ]
    fig = go.Figure(data=traces, layout={"xaxis": {"title": {"text": f"Random effect: {names[0]}"}, "zeroline": True},
                                         "yaxis": {"title": {"text": f"Random effect: {names[1]}"}, "zeroline": True}},
                    **FAST)
    return style(fig, theme, height=height)
