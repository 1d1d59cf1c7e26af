"""Figures of the three pooling methods: facets, the shrinkage map and strip, distributions."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .base import FAST, FONT_SIZE, LINE_WIDTH, METHOD_STYLE, METHODS, TRUTH_COLOR, legend_over_titles, nan_join, palette, style


# -- three ways to pool ---------------------------------------------------------
def pooling_facets(obs: pd.DataFrame, lines: pd.DataFrame, *, methods=METHODS, theme: str = "light",
                   x_label: str = "x", y_label: str = "y", ncols: int = 6, faint_lines: pd.DataFrame | None = None,
                   faint_obs: pd.DataFrame | None = None, height_per_row: int = 190) -> go.Figure:
    """Small multiples: one panel per group with its points and one line per pooling method.

    ``obs`` has columns group, x, y; ``lines`` has group, method, x, y (two or more points per
    group and method). ``faint_lines`` (same shape) are drawn thin and pale, e.g. full-data fits;
    ``faint_obs`` (like ``obs``) are observations left out of the fit, drawn hollow.
    """
    groups = list(dict.fromkeys(obs["group"].astype(str)))
    ncols = max(1, min(ncols, len(groups)))
    nrows = math.ceil(len(groups) / ncols)
    fig = make_subplots(rows=nrows, cols=ncols, shared_xaxes=True, shared_yaxes=True,
                        subplot_titles=groups, horizontal_spacing=0.02, vertical_spacing=0.28 / max(nrows, 1))
    c = palette(theme)
    obs_by = {g: d for g, d in obs.assign(group=obs["group"].astype(str)).groupby("group", sort=False)}
    lines = lines.assign(group=lines["group"].astype(str))
    line_by = {key: d for key, d in lines.groupby(["group", "method"], sort=False)}
    faint_by = {}
    if faint_lines is not None:
        faint_by = {key: d for key, d in faint_lines.assign(group=faint_lines["group"].astype(str))
                    .groupby(["group", "method"], sort=False)}
    left_out = {}
    if faint_obs is not None:
        left_out = {g: d for g, d in faint_obs.assign(group=faint_obs["group"].astype(str)).groupby("group", sort=False)}
    shown_left = False
    for i, g in enumerate(groups):
        row, col = i // ncols + 1, i % ncols + 1
        for m in methods:
            d = faint_by.get((g, m))
            if d is not None:
                fig.add_trace(go.Scatter(x=d["x"], y=d["y"], mode="lines", hoverinfo="skip", showlegend=False,
                                         line={"color": METHOD_STYLE[m]["color"], "width": 1.5, "dash": "solid"},
                                         opacity=0.35, legendgroup=m, name=f"{m} (all data)"), row=row, col=col)
        d = left_out.get(g)
        if d is not None:
            fig.add_trace(go.Scatter(
                x=d["x"], y=d["y"], mode="markers", name="Held back (not used by the fit)", legendgroup="left",
                showlegend=i == 0 or not shown_left, marker={"color": c["points"], "size": 7, "symbol": "circle-open"},
                hovertemplate=f"{g} (left out)<br>{x_label}: %{{x}}<br>{y_label}: %{{y:.3g}}<extra></extra>"),
                row=row, col=col)
            shown_left = True
        d = obs_by.get(g)
        if d is not None:
            fig.add_trace(go.Scatter(
                x=d["x"], y=d["y"], mode="markers", name="Observations", legendgroup="obs", showlegend=i == 0,
                marker={"color": c["points"], "size": 7},
                hovertemplate=f"{g}<br>{x_label}: %{{x}}<br>{y_label}: %{{y:.3g}}<extra></extra>"), row=row, col=col)
        for m in methods:
            d = line_by.get((g, m))
            if d is None or d["y"].isna().all():
                continue
            s = METHOD_STYLE[m]
            fig.add_trace(go.Scatter(
                x=d["x"], y=d["y"], mode="lines", name=s["name"], legendgroup=m, showlegend=i == 0,
                line={"color": s["color"], "width": LINE_WIDTH, "dash": s["dash"]},
                hovertemplate=f"{g}: {s['short']}<br>{x_label}: %{{x}}<br>{y_label}: %{{y:.4g}}<extra></extra>"),
                row=row, col=col)
    style(fig, theme, height=max(320, 110 + nrows * height_per_row))
    fig.update_layout(margin={"t": 40, "b": 70, "l": 80})
    fig.update_annotations(font_size=FONT_SIZE - 2)
    legend_over_titles(fig)
    fig.update_yaxes(matches="y")
    fig.update_xaxes(matches="x")
    # One axis title for the whole grid, centred, instead of one per panel: at the figure's bottom
    # and left edges (the margins' full width away from the panels), clear of the tick labels.
    fig.add_annotation(text=x_label, x=0.5, y=0, yref="paper", xref="paper", yshift=-70, yanchor="bottom",
                       showarrow=False, font={"size": FONT_SIZE})
    fig.add_annotation(text=y_label, x=0, y=0.5, xref="paper", yref="paper", xshift=-80, xanchor="left",
                       textangle=-90, showarrow=False, font={"size": FONT_SIZE})
    return fig


# -- shrinkage map ----------------------------------------------------------------
def _arrow_trace(x0, y0, x1, y1, color, name, hover=None, width=2.0, showlegend=True, head=13.0) -> dict:
    """All arrows in one trace: a segment per arrow and an arrowhead marker at its end."""
    n = len(x0)
    xs = np.column_stack([x0, x1, np.full(n, np.nan)]).ravel()
    ys = np.column_stack([y0, y1, np.full(n, np.nan)]).ravel()
    sizes = np.tile([0.0, float(head), 0.0], n)
    text = None
    if hover is not None:
        text = np.column_stack([hover, hover, np.full(n, "", dtype=object)]).ravel()
    return dict(type="scatter", x=xs, y=ys, mode="lines+markers", name=name, showlegend=showlegend,
                      line={"color": color, "width": width},
                      marker={"symbol": "arrow", "angleref": "previous", "size": sizes, "color": color},
                      text=text, hovertemplate="%{text}<extra></extra>" if hover is not None else None,
                      hoverinfo=None if hover is not None else "skip")


def shrinkage_map(table: pd.DataFrame, *, population: tuple[float, float], ellipses=(), theme: str = "light",
                  x_label: str = "Intercept", y_label: str = "Slope", selected: str | None = None,
                  truth: pd.DataFrame | None = None, true_ellipses=(), reference: pd.DataFrame | None = None,
                  reference_name: str = "Mixed model on all the data", height: int = 620) -> go.Figure:
    """Intercept–slope plane: an arrow per group from its own estimate to the mixed model's.

    ``table``: rows per group and method (columns group, method, intercept, slope, n, estimable).
    ``ellipses``: (level, xs, ys) contours of the estimated random-effect distribution.
    ``truth``: optional per-group true coefficients (group, intercept, slope) for simulations.
    ``reference``: optional per-group (group, intercept, slope) drawn faint, e.g. the full-data fit.
    With many groups, arrows and markers get thinner so the picture stays readable.
    """
    c = palette(theme)
    wide = _wide(table)
    dense = len(wide) > 60
    marker_size, arrow_width = (6, 1.0) if dense else (9, 2.0)
    traces = []  # one Figure(...) call at the end: adding traces one by one costs more than building them
    if reference is not None:
        traces.append(dict(type="scatter", x=reference["intercept"].to_numpy(float), y=reference["slope"].to_numpy(float), mode="markers", name=reference_name,
                                 marker={"color": METHOD_STYLE["partial"]["color"], "size": marker_size + 4,
                                         "symbol": "diamond-open", "opacity": 0.45, "line": {"width": 1.5}},
                                 text=reference["group"].to_numpy(dtype=object), hovertemplate="%{text}: all data<extra></extra>"))
    for rings, name, line in (
        (ellipses, "Estimated spread of groups", {"color": c["faint"], "width": 2}),
        (true_ellipses, "True spread of groups", {"color": TRUTH_COLOR, "width": 2, "dash": "dot"}),
    ):
        if len(rings):
            xs, ys = nan_join([r[1] for r in rings], [r[2] for r in rings])
            traces.append(dict(type="scatter", x=xs, y=ys, mode="lines", hoverinfo="skip", name=name, line=line))
    est = wide[wide["estimable"]]
    hover_by_group = {r.group: _group_hover(r) for r in wide.itertuples()}
    # The arrows carry no hover text of their own (the points at both ends do): fewer strings to copy.
    traces.append(_arrow_trace(est["intercept_none"], est["slope_none"], est["intercept_partial"],
                               est["slope_partial"], METHOD_STYLE["partial"]["color"],
                               "Shrinkage: own → mixed", None, width=arrow_width,
                               head=8 if dense else 13))
    for m, col in (("none", "none"), ("partial", "partial")):
        d = est if m == "none" else wide
        s = METHOD_STYLE[m]
        traces.append(dict(type="scatter",
            x=d[f"intercept_{col}"].to_numpy(float), y=d[f"slope_{col}"].to_numpy(float), mode="markers", name=s["short"].capitalize(),
            marker={"color": s["color"], "size": marker_size, "symbol": s["symbol"],
                    "line": {"width": 0.5 if dense else 1, "color": c["paper"]}},
            text=np.array([hover_by_group[g] for g in d["group"]], dtype=object),
            hovertemplate="%{text}<extra></extra>", customdata=d["group"].to_numpy(dtype=object)))
    if truth is not None:
        traces.append(dict(type="scatter", x=truth["intercept"].to_numpy(float), y=truth["slope"].to_numpy(float), mode="markers", name="Truth",
                                 marker={"color": TRUTH_COLOR, "size": 8, "symbol": "circle-open",
                                         "line": {"width": 2}},
                                 text=truth["group"].to_numpy(dtype=object), hovertemplate="%{text}: truth<extra></extra>"))
    comp = table[table["method"] == "complete"].iloc[0]
    traces.append(dict(type="scatter", x=[comp["intercept"]], y=[comp["slope"]], mode="markers",
                             name=METHOD_STYLE["complete"]["short"].capitalize(),
                             marker={"color": METHOD_STYLE["complete"]["color"], "size": 18, "symbol": "x",
                                     "line": {"width": 2, "color": c["paper"]}},
                             hovertemplate=f"Complete pooling<br>{x_label}: %{{x:.4g}}<br>{y_label}: %{{y:.4g}}<extra></extra>"))
    traces.append(dict(type="scatter", x=[population[0]], y=[population[1]], mode="markers", name="Fixed effects",
                             marker={"color": c["population"], "size": 16, "symbol": "star"},
                             hovertemplate=f"Fixed effects<br>{x_label}: %{{x:.4g}}<br>{y_label}: %{{y:.4g}}<extra></extra>"))
    if selected is not None and selected in set(wide["group"]):
        r = wide[wide["group"] == selected].iloc[0]
        traces.append(dict(type="scatter", x=[r["intercept_none"], r["intercept_partial"]],
                                 y=[r["slope_none"], r["slope_partial"]], mode="markers+text",
                                 name=f"Selected: {selected}", text=["own", "mixed"],
                                 # each label on its outer side, so the two never cover each other
                                 textposition=["middle left", "middle right"] if r["intercept_none"] <= r["intercept_partial"]
                                 else ["middle right", "middle left"],
                                 marker={"size": 20, "symbol": "circle-open", "color": c["text"], "line": {"width": 3}},
                                 hoverinfo="skip"))
    fig = go.Figure(data=traces, **FAST)
    style(fig, theme, height=height)
    # The legend wraps its entries to the width it has (fixed-width entries cut long names off).
    fig.update_layout(xaxis={"title": {"text": x_label}}, yaxis={"title": {"text": y_label}})
    return fig


def shrinkage_strip(table: pd.DataFrame, *, population: float, coefficient: str = "intercept",
                    theme: str = "light", label: str = "Intercept", selected: str | None = None,
                    height: int = 460) -> go.Figure:
    """One coefficient: group estimates alone (top row) and from the mixed model (bottom row)."""
    c = palette(theme)
    wide = _wide(table).sort_values("n").reset_index(drop=True)
    # A small vertical offset per group (ordered by size) keeps overlapping arrows apart.
    wide["offset"] = np.linspace(-0.15, 0.15, len(wide)) if len(wide) > 1 else 0.0
    wide["size"] = 7 + 13 * np.sqrt(wide["n"] / wide["n"].max())
    est = wide[wide["estimable"]]
    top, bottom = 1.0, 0.0
    hover = [_group_hover(r) for r in est.itertuples()]
    fig = go.Figure()
    fig.add_trace(_arrow_trace(est[f"{coefficient}_none"], top + est["offset"], est[f"{coefficient}_partial"],
                               bottom + est["offset"], METHOD_STYLE["partial"]["color"],
                               "Shrinkage: own estimate → mixed model", hover, width=1.5))
    for m, y, d in (("none", top, est), ("partial", bottom, wide)):
        s = METHOD_STYLE[m]
        fig.add_trace(go.Scatter(
            x=d[f"{coefficient}_{m}"], y=y + d["offset"], mode="markers", name=s["name"],
            marker={"color": s["color"], "size": d["size"], "symbol": s["symbol"],
                    "line": {"width": 1, "color": c["paper"]}},
            text=[_group_hover(r) for r in d.itertuples()],
            hovertemplate="%{text}<extra></extra>", customdata=d["group"]))
    # The label sits inside the plot, under the empty band below the bottom row: above the plot
    # it ran into the legend.
    fig.add_vline(x=population, line={"color": c["population"], "width": 2, "dash": "dash"},
                  annotation_text="fixed effect", annotation_position="bottom right")
    if selected is not None and selected in set(wide["group"]):
        r = wide[wide["group"] == selected].iloc[0]
        fig.add_trace(go.Scatter(x=[r[f"{coefficient}_none"], r[f"{coefficient}_partial"]], y=[top, bottom],
                                 mode="markers", name=f"Selected: {selected}", hoverinfo="skip",
                                 marker={"size": 22, "symbol": "circle-open", "color": c["text"], "line": {"width": 3}}))
    style(fig, theme, height=height)
    fig.update_yaxes(tickvals=[top, bottom], ticktext=["Own estimate<br>(no pooling)", "Mixed model<br>(partial pooling)"],
                     range=[-0.4, 1.4], zeroline=False)
    fig.update_xaxes(title_text=label)
    return fig


def _wide(table: pd.DataFrame) -> pd.DataFrame:
    """group-level frame with intercept_/slope_ columns for no and partial pooling."""
    none = table[table["method"] == "none"].set_index("group")
    part = table[table["method"] == "partial"].set_index("group")
    wide = pd.DataFrame({
        "group": part.index.astype(str),
        "n": part["n"].to_numpy(),
        "estimable": none["estimable"].reindex(part.index).fillna(False).astype(bool).to_numpy(),
        "intercept_none": none["intercept"].reindex(part.index).to_numpy(float),
        "slope_none": none["slope"].reindex(part.index).to_numpy(float),
        "intercept_partial": part["intercept"].to_numpy(float),
        "slope_partial": part["slope"].to_numpy(float),
    })
    moved = np.hypot(wide["intercept_partial"] - wide["intercept_none"],
                     np.nan_to_num(wide["slope_partial"] - wide["slope_none"]))
    wide["moved"] = moved
    return wide.reset_index(drop=True)


def _group_hover(r) -> str:
    def fmt(v):
        return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.4g}"

    own = f"({fmt(r.intercept_none)}, {fmt(r.slope_none)})" if r.estimable else "cannot be estimated alone"
    return (f"<b>{r.group}</b> (n = {r.n})<br>own estimate: {own}<br>"
            f"mixed model: ({fmt(r.intercept_partial)}, {fmt(r.slope_partial)})<br>moved: {fmt(r.moved)}")


# -- distributions of group coefficients -------------------------------------------
DIST_ORDER = (("truth", "Truth", TRUTH_COLOR), ("none", "No pooling", METHOD_STYLE["none"]["color"]),
              ("partial", "Partial pooling", METHOD_STYLE["partial"]["color"]))


def coefficient_distributions(values: pd.DataFrame, *, theme: str = "light",
                              labels: dict[str, str] | None = None, height: int = 420) -> go.Figure:
    """Violins of per-group coefficients, one panel per coefficient, one violin per method.

    ``values`` has columns method ("truth" | "none" | "partial"), coefficient, value.
    The panels are laid out by hand (x axes side by side, one shared y axis) rather than
    with make_subplots, which costs more than the rest of the figure on a live redraw.
    """
    coefs = list(dict.fromkeys(values["coefficient"]))
    labels = labels or {}
    k = max(len(coefs), 1)
    gap = 0.08
    width = (1 - gap * (k - 1)) / k
    traces, layout = [], {"annotations": []}
    for j, coef in enumerate(coefs):
        axis = "x" if j == 0 else f"x{j + 1}"
        lo = j * (width + gap)
        layout["xaxis" if j == 0 else f"xaxis{j + 1}"] = {"domain": [lo, lo + width], "anchor": "y"}
        label = labels.get(coef, coef)
        if len(label) > 14 and " (" in label:  # narrow panels: the unit goes on a second line
            label = label.replace(" (", "<br>(", 1)
        layout["annotations"].append({"text": label, "x": lo + width / 2, "xref": "paper", "xanchor": "center",
                                      "y": 1.0, "yref": "paper", "yanchor": "bottom", "showarrow": False,
                                      "font": {"size": FONT_SIZE}})
        for method, name, color in DIST_ORDER:
            v = values[(values["coefficient"] == coef) & (values["method"] == method)]["value"].dropna()
            if v.empty:
                continue
            traces.append(dict(type="violin", x=v.to_numpy(), name=name, orientation="h", xaxis=axis, yaxis="y",
                               line={"color": color}, fillcolor=color, opacity=0.55, points=False,
                               meanline={"visible": True}, box={"visible": False}, legendgroup=method,
                               showlegend=False, spanmode="hard", hoveron="violins",
                               hovertemplate=f"{name}<extra></extra>"))
    fig = go.Figure(data=traces, layout=layout, **FAST)
    style(fig, theme, height=height)
    # The violins are named on the y axis, so no legend is needed.
    fig.update_layout(showlegend=False, margin={"t": 50},
                      yaxis={"autorange": "reversed", "type": "category"})
    return fig


def bar_compare(frame: pd.DataFrame, *, x: str, y: str, color_by: str, theme: str = "light",
                y_label: str = "", height: int = 360) -> go.Figure:
    """Grouped bars, coloured by pooling method where ``color_by`` holds method names."""
    fig = go.Figure()
    for method, d in frame.groupby(color_by, sort=False):
        s = METHOD_STYLE.get(method, {"name": str(method), "color": TRUTH_COLOR})
        fig.add_trace(go.Bar(x=d[x], y=d[y], name=s["name"], marker_color=s["color"],
                             hovertemplate=f"{s['name']}<br>%{{x}}: %{{y:.4g}}<extra></extra>"))
    style(fig, theme, height=height)
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text=y_label)
    return fig
