"""Figures for class mode: the live answer bars, the class's sampling distributions, the QR code.

Option texts never go into a figure (Plotly reads a little HTML in labels): bars are named by
letter, and the page lists the options as plain text.
"""
from __future__ import annotations

import io

import pandas as pd
import plotly.graph_objects as go

from .base import METHOD_STYLE, TRUTH_COLOR, palette, style


def answer_bars(table: pd.DataFrame, revealed: bool = False, answer: int | None = None,
                theme: str = "light", height: int = 360) -> go.Figure:
    """One horizontal bar per option (A at the top), with count and share. Before the reveal
    all bars are grey; after it, the right option is green."""
    c = palette(theme)
    neutral = "#7F8A99"
    colours = [TRUTH_COLOR if revealed and i == answer else (neutral if not revealed else "#B9C0CA")
               for i in range(len(table))]
    text = [f"{n}  ({s:.0%})" if table["count"].sum() else "0" for n, s in zip(table["count"], table["share"])]
    fig = go.Figure(go.Bar(
        x=table["count"], y=table["letter"], orientation="h", marker={"color": colours}, text=text,
        textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{x} answers<extra></extra>"))
    top = max(int(table["count"].max()) if len(table) else 0, 1)
    fig.update_layout(showlegend=False, bargap=0.25,
                      xaxis={"title": "Answers", "range": [0, top * 1.25], "rangemode": "tozero"},
                      yaxis={"autorange": "reversed", "tickfont": {"size": 26, "color": c["text"]}},
                      margin={"l": 50, "r": 30, "t": 20, "b": 50})
    return style(fig, theme, height=height, uirevision=None)


def sampling_cloud(points: pd.DataFrame, truth: tuple[float, float], population: tuple[float, float],
                   theme: str = "light", height: int = 560, x_label: str = "Intercept",
                   y_label: str = "Slope") -> go.Figure:
    """Every student's estimate of one group: no pooling (blue circles) and partial pooling
    (purple diamonds), each method's average (large outlined marker), the group's true value
    (green) and the population average (star)."""
    c = palette(theme)
    fig = go.Figure()
    for method in ("none", "partial"):
        s = METHOD_STYLE[method]
        rows = points[points["method"] == method]
        fig.add_trace(go.Scatter(
            x=rows["intercept"], y=rows["slope"], mode="markers", name=f"{s['name']}: one per student",
            # Translucent (overlapping students show) through the colour's alpha rather than the marker's
            # opacity, so style() sees the shade as drawn and brightens it on the dark page to 4.5:1.
            marker={"color": _translucent(s["color"], 0.75), "symbol": s["symbol"], "size": 11,
                    "line": {"width": 0}},
            hovertemplate=f"{s['short']}<br>intercept %{{x:.3f}}<br>slope %{{y:.3f}}<extra></extra>"))
        if len(rows):
            fig.add_trace(go.Scatter(
                x=[rows["intercept"].mean()], y=[rows["slope"].mean()], mode="markers",
                name=f"Average of the class's {s['short']} estimates",
                marker={"color": s["color"], "symbol": s["symbol"], "size": 24,
                        "line": {"width": 3, "color": c["population"]}},
                hovertemplate=f"class average, {s['short']}<br>%{{x:.3f}}, %{{y:.3f}}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=[truth[0]], y=[truth[1]], mode="markers", name="This group's true value",
        marker={"color": TRUTH_COLOR, "symbol": "circle-open", "size": 30, "line": {"width": 5}},
        hovertemplate="truth<br>%{x:.3f}, %{y:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=[population[0]], y=[population[1]], mode="markers", name="Population average (fixed effects)",
        marker={"color": c["population"], "symbol": "star", "size": 22},
        hovertemplate="population<br>%{x:.3f}, %{y:.3f}<extra></extra>"))
    fig.update_layout(xaxis={"title": x_label}, yaxis={"title": y_label},
                      legend={"orientation": "h", "y": -0.16, "yanchor": "top"},
                      margin={"t": 20, "b": 150})
    return style(fig, theme, height=height, uirevision="class-cloud")


def _translucent(color: str, alpha: float) -> str:
    """'#RRGGBB' as 'rgba(r, g, b, alpha)'."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def size_errors(table: pd.DataFrame, coefficient: str = "intercept", theme: str = "light",
                height: int = 340) -> go.Figure:
    """RMSE against the truth by group size, no pooling next to partial pooling."""
    fig = go.Figure()
    rows = table[table["coefficient"] == coefficient]
    for method in ("none", "partial"):
        s = METHOD_STYLE[method]
        mine = rows[rows["method"] == method]
        fig.add_trace(go.Bar(x=mine["size"].astype(str), y=mine["rmse"], name=s["name"],
                             marker={"color": s["color"]},
                             hovertemplate="size %{x}: RMSE %{y:.3f}<extra></extra>"))
    fig.update_layout(barmode="group", xaxis={"title": "Observations in the group", "type": "category"},
                      yaxis={"title": f"Error of the {coefficient}s (RMSE)", "rangemode": "tozero"})
    return style(fig, theme, height=height, uirevision=None)


def qr_png(text: str, scale: int = 10) -> bytes:
    """A QR code of ``text`` (the join link) as PNG bytes, dark on white with a quiet zone."""
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=4, dark="#000000", light="#FFFFFF")
    return buffer.getvalue()

