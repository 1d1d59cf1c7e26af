"""Figures of the three pooling methods: facets, the shrinkage map and strip, distributions."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .base import (FONT_SIZE, LINE_WIDTH, METHOD_STYLE, METHODS, TRUTH_COLOR, facet_grid, fast_figure,
                   legend_over_titles, nan_join, palette, panel_titles, rounded, style)


# -- three ways to pool ---------------------------------------------------------
def _rows_by(frame: pd.DataFrame | None, keys: list[str]) -> dict:
    """Row positions of ``frame`` per key (group as text, or (group, method)), without a groupby."""
    if frame is None or frame.empty:
        return {}
    cols = [frame[k].astype(str).to_numpy() if k == "group" else frame[k].to_numpy() for k in keys]
    labels = list(zip(*cols)) if len(cols) > 1 else cols[0]
    out: dict = {}
    for i, label in enumerate(labels):
        out.setdefault(label, []).append(i)
    return out


def _columns_xy(frame: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """x and y of a frame as rounded arrays (rounded once per column, then sliced per panel)."""
    if frame is None or frame.empty:
        return np.array([]), np.array([])
    return rounded(frame["x"].to_numpy(float)), rounded(frame["y"].to_numpy(float))


def pooling_facets(obs: pd.DataFrame, lines: pd.DataFrame, *, methods=METHODS, theme: str = "light",
                   x_label: str = "x", y_label: str = "y", ncols: int = 6, faint_lines: pd.DataFrame | None = None,
                   faint_obs: pd.DataFrame | None = None, height_per_row: int = 190,
                   mark_x: float | None = None) -> go.Figure:
    """Small multiples: one panel per group with its points and one line per pooling method.
    ``mark_x``: where the intercepts are read (e.g. the covariate's mean), marked on every line.

    ``obs`` has columns group, x, y; ``lines`` has group, method, x, y (two or more points per
    group and method). ``faint_lines`` (same shape) are drawn thin and pale, e.g. full-data fits;
    ``faint_obs`` (like ``obs``) are observations left out of the fit, drawn hollow.
    Built from plain trace dicts in one Figure call (the landing page draws it on every visit).
    """
    groups = list(dict.fromkeys(obs["group"].astype(str)))
    ids, layout, nrows = facet_grid(len(groups), ncols)
    c = palette(theme)
    obs_by, line_by = _rows_by(obs, ["group"]), _rows_by(lines, ["group", "method"])
    faint_by, left_by = _rows_by(faint_lines, ["group", "method"]), _rows_by(faint_obs, ["group"])
    obs_x, obs_y = _columns_xy(obs)
    line_x, line_y = _columns_xy(lines)
    faint_x, faint_y = _columns_xy(faint_lines)
    left_x, left_y = _columns_xy(faint_obs)
    traces, titles = [], panel_titles(layout, groups, size=FONT_SIZE - 2)
    shown_left = marked = False
    for i, (g, (xa, ya)) in enumerate(zip(groups, ids)):
        axes = {"xaxis": xa, "yaxis": ya}
        for m in methods:
            rows = faint_by.get((g, m))
            if rows is not None:
                traces.append(dict(type="scatter", x=faint_x[rows], y=faint_y[rows], mode="lines", hoverinfo="skip", showlegend=False,
                                   line={"color": METHOD_STYLE[m]["color"], "width": 1.5, "dash": "solid"},
                                   opacity=0.35, legendgroup=m, name=f"{m} (all data)", **axes))
        rows = left_by.get(g)
        if rows is not None:
            traces.append(dict(
                type="scatter", x=left_x[rows], y=left_y[rows], mode="markers", name="Held back (not used by the fit)",
                legendgroup="left", showlegend=i == 0 or not shown_left,
                marker={"color": c["points"], "size": 7, "symbol": "circle-open"},
                hovertemplate=f"{g} (left out)<br>{x_label}: %{{x}}<br>{y_label}: %{{y:.3g}}<extra></extra>", **axes))
            shown_left = True
        rows = obs_by.get(g)
        if rows is not None:
            traces.append(dict(
                type="scatter", x=obs_x[rows], y=obs_y[rows], mode="markers", name="Observations", legendgroup="obs",
                showlegend=i == 0, marker={"color": c["points"], "size": 7},
                hovertemplate=f"{g}<br>{x_label}: %{{x}}<br>{y_label}: %{{y:.3g}}<extra></extra>", **axes))
        for m in methods:
            rows = line_by.get((g, m))
            if rows is None or np.isnan(line_y[rows]).all():
                continue
            s = METHOD_STYLE[m]
            traces.append(dict(
                type="scatter", x=line_x[rows], y=line_y[rows], mode="lines", name=s["name"], legendgroup=m, showlegend=i == 0,
                line={"color": s["color"], "width": LINE_WIDTH, "dash": s["dash"]},
                hovertemplate=f"{g}: {s['short']}<br>{x_label}: %{{x}}<br>{y_label}: %{{y:.4g}}<extra></extra>",
                **axes))
            xs, ys = line_x[rows], line_y[rows]
            if mark_x is not None and len(xs) >= 2 and xs.min() <= mark_x <= xs.max():
                at = float(np.interp(mark_x, xs, ys))
                if not marked:  # one neutral legend entry for the markers of every method
                    traces.append(dict(type="scatter", x=[None], y=[None], mode="markers", legendgroup="mark",
                                       name=f"Intercepts read here ({x_label} = {mark_x:.3g})", hoverinfo="skip",
                                       marker={"color": c["text"], "size": 11, "symbol": "circle-open",
                                               "line": {"width": 2}}, **axes))
                    marked = True
                traces.append(dict(
                    type="scatter", x=[mark_x], y=[at], mode="markers", name=f"{s['short']} at {mark_x:.3g}",
                    legendgroup="mark", showlegend=False,
                    marker={"color": s["color"], "size": 11, "symbol": s["symbol"], "line": {"width": 1.5, "color": c["text"]}},
                    hovertemplate=f"{g}: {s['short']} at {mark_x:.3g}: %{{y:.4g}}<extra></extra>", **axes))
    # One axis title for the whole grid, centred, instead of one per panel: at the figure's bottom
    # and left edges (the margins' full width away from the panels), clear of the tick labels.
    titles.append({"text": x_label, "x": 0.5, "y": 0, "yref": "paper", "xref": "paper", "yshift": -70,
                   "yanchor": "bottom", "showarrow": False, "font": {"size": FONT_SIZE}})
    titles.append({"text": y_label, "x": 0, "y": 0.5, "xref": "paper", "yref": "paper", "xshift": -80,
                   "xanchor": "left", "textangle": -90, "showarrow": False, "font": {"size": FONT_SIZE}})
    layout["annotations"] = titles
    fig = fast_figure(traces, layout, theme=theme, height=max(320, 110 + nrows * height_per_row))
    fig.update_layout(margin={"t": 40, "b": 70, "l": 80})
    legend_over_titles(fig)
    return fig


# -- shrinkage map ----------------------------------------------------------------
def _arrow_trace(x0, y0, x1, y1, color, name, hover=None, width=2.0, showlegend=True,
                 head: float | None = 13.0, groups=None) -> dict:
    """All arrows in one trace: a segment per arrow and an arrowhead marker at its end
    (``head=None``: the segments only). Arrows with ``hover`` text can be clicked: both ends of an
    arrow then carry its group as customdata, as the points do (an arrow's end lies on its point,
    and a click there may find the arrow first)."""
    n = len(x0)
    xs = np.column_stack([x0, x1, np.full(n, np.nan)]).ravel()
    ys = np.column_stack([y0, y1, np.full(n, np.nan)]).ravel()
    text = customdata = None
    if hover is not None:
        text = np.column_stack([hover, hover, np.full(n, "", dtype=object)]).ravel()
    if groups is not None:
        groups = np.asarray(groups, dtype=object)
        customdata = np.column_stack([groups, groups, np.full(n, None, dtype=object)]).ravel()
    trace = dict(type="scatter", x=rounded(xs), y=rounded(ys), mode="lines", name=name, showlegend=showlegend,
                 line={"color": color, "width": width},
                 text=text, hovertemplate="%{text}<extra></extra>" if hover is not None else None,
                 hoverinfo=None if hover is not None else "skip", customdata=customdata)
    if head:
        # A head is a marker turned along its segment ("previous": the segment's start, a marker of size 0).
        trace.update(mode="lines+markers", marker={"symbol": "arrow", "angleref": "previous",
                                                   "size": np.tile([0.0, float(head), 0.0], n), "color": color})
    return trace


def shrinkage_map(table: pd.DataFrame | dict, *, population: tuple[float, float], ellipses=(), theme: str = "light",
                  x_label: str = "Intercept", y_label: str = "Slope", selected: str | None = None,
                  truth: pd.DataFrame | dict | None = None, true_ellipses=(), reference: pd.DataFrame | None = None,
                  reference_name: str = "Mixed model on all the data", height: int = 620,
                  webgl: bool = False) -> go.Figure:
    """Intercept–slope plane: an arrow per group from its own estimate to the mixed model's.

    ``table``: rows per group and method (columns group, method, intercept, slope, n, estimable), a
    frame or its columns as arrays (``PoolingResult.columns``: the lab's map is drawn on every move).
    ``ellipses``: (level, xs, ys) contours of the estimated random-effect distribution.
    ``truth``: optional per-group true coefficients (group, intercept, slope) for simulations (a
    frame or its columns).
    ``reference``: optional per-group (group, intercept, slope) drawn faint, e.g. the full-data fit.
    With many groups, arrows and markers get thinner so the picture stays readable, and the arrows
    are drawn without heads: a head that small hides under the diamond it ends at (the segment runs
    from the own estimate's dot to the mixed model's diamond), yet its markers were 40% of the
    browser's work to redraw the lab's map on every slider move.
    ``webgl``: with many groups, the points are drawn with WebGL (``scattergl``) rather than as one
    SVG element each: for a figure redrawn on every slider move (the lab's) that halved Plotly's
    redraw in Chromium. The live chart draws them as SVG where the browser has no WebGL.
    """
    c = palette(theme)
    wide = _wide_arrays(table)  # arrays, not a frame: this runs on every lab slider move
    dense = len(wide["group"]) > 60
    marker_size, arrow_width = (6, 1.0) if dense else (9, 2.0)
    traces = []  # one Figure(...) call at the end: adding traces one by one costs more than building them
    if reference is not None:
        traces.append(dict(type="scatter", x=rounded(reference["intercept"]), y=rounded(reference["slope"]), mode="markers", name=reference_name,
                                 marker={"color": METHOD_STYLE["partial"]["color"], "size": marker_size + 4,
                                         "symbol": "diamond-open", "opacity": 0.45, "line": {"width": 1.5}},
                                 text=reference["group"].to_numpy(dtype=object), hovertemplate="%{text}: all data<extra></extra>"))
    for rings, name, line in (
        (ellipses, "Estimated spread of groups", {"color": c["faint"], "width": 2}),
        (true_ellipses, "True spread of groups", {"color": TRUTH_COLOR, "width": 2, "dash": "dot"}),
    ):
        if len(rings):
            xs, ys = nan_join([r[1] for r in rings], [r[2] for r in rings])
            traces.append(dict(type="scatter", x=rounded(xs), y=rounded(ys), mode="lines", hoverinfo="skip", name=name,
                               line=line))
    est = {k: v[wide["estimable"]] for k, v in wide.items()}
    hover_by_group = {fields[0]: fields for fields in _hover_table(wide)}
    # The arrows carry no hover text of their own (the points at both ends do): fewer strings to copy.
    traces.append(_arrow_trace(est["intercept_none"], est["slope_none"], est["intercept_partial"],
                               est["slope_partial"], METHOD_STYLE["partial"]["color"],
                               "Shrinkage: own → mixed", None, width=arrow_width,
                               head=None if dense else 13))
    for m, col in (("none", "none"), ("partial", "partial")):
        d = est if m == "none" else wide
        s = METHOD_STYLE[m]
        traces.append(dict(type="scatter",
            x=rounded(d[f"intercept_{col}"]), y=rounded(d[f"slope_{col}"]), mode="markers", name=s["short"].capitalize(),
            marker={"color": s["color"], "size": marker_size, "symbol": s["symbol"],
                    "line": {"width": 0.5 if dense else 1, "color": c["paper"]}},
            # The words of the hover label once in the template, per point only its values
            # (customdata[0] is the group, as clicked_group expects): a third of the map's JSON.
            customdata=np.array([hover_by_group[g] for g in d["group"]], dtype=object),
            hovertemplate=HOVER_TEMPLATE))
    if truth is not None:
        traces.append(dict(type="scatter", x=rounded(truth["intercept"]), y=rounded(truth["slope"]), mode="markers", name="Truth",
                                 marker={"color": TRUTH_COLOR, "size": 8, "symbol": "circle-open",
                                         "line": {"width": 2}},
                                 text=np.asarray(truth["group"], dtype=object), hovertemplate="%{text}: truth<extra></extra>"))
    first_complete = int(np.flatnonzero(np.asarray(table["method"], dtype=object) == "complete")[0])
    comp = {c_: float(np.asarray(table[c_])[first_complete]) for c_ in ("intercept", "slope")}
    traces.append(dict(type="scatter", x=[comp["intercept"]], y=[comp["slope"]], mode="markers",
                             name=METHOD_STYLE["complete"]["short"].capitalize(),
                             marker={"color": METHOD_STYLE["complete"]["color"], "size": 18, "symbol": "x",
                                     "line": {"width": 2, "color": c["paper"]}},
                             hovertemplate=f"Complete pooling<br>{x_label}: %{{x:.4g}}<br>{y_label}: %{{y:.4g}}<extra></extra>"))
    traces.append(dict(type="scatter", x=[population[0]], y=[population[1]], mode="markers", name="Fixed effects",
                             marker={"color": c["population"], "size": 16, "symbol": "star"},
                             hovertemplate=f"Fixed effects<br>{x_label}: %{{x:.4g}}<br>{y_label}: %{{y:.4g}}<extra></extra>"))
    if selected is not None and selected in set(wide["group"]):
        at = int(np.flatnonzero(wide["group"] == selected)[0])
        r = {k: v[at] for k, v in wide.items()}
        traces.append(dict(type="scatter", x=[r["intercept_none"], r["intercept_partial"]],
                                 y=[r["slope_none"], r["slope_partial"]], mode="markers+text",
                                 name=f"Selected: {selected}", text=["own", "mixed"],
                                 textposition=_pair_label_positions(r, wide),
                                 marker={"size": 20, "symbol": "circle-open", "color": c["text"], "line": {"width": 3}},
                                 hoverinfo="skip"))
    if webgl and dense:
        for trace in traces:
            if trace["mode"] == "markers":
                trace["type"] = "scattergl"  # drawn above the SVG lines (arrows, rings), as before
    fig = fast_figure(traces, theme=theme, height=height)
    # The legend wraps its entries to the width it has (fixed-width entries cut long names off).
    wrap = lambda t: t.replace(" (", "<br>(", 1) if len(t) > 28 else t  # long titles: two lines, not cut off
    fig.update_layout(xaxis={"title": {"text": wrap(x_label)}}, yaxis={"title": {"text": wrap(y_label)}})
    return fig


def _pair_label_positions(r, wide) -> list[str]:
    """Where the "own" and "mixed" labels of the selected group go: each on its outer side, so
    the two never cover each other; near an edge of the plot (where a label would run into the
    axis's tick labels) both go on the inner side, the upper point's label above the lower's."""
    def span(cols):
        v = np.column_stack([np.asarray(wide[c], float) for c in cols])
        lo, hi = np.nanmin(v), np.nanmax(v)
        return lo, hi, 0.12 * (hi - lo) if hi > lo else 0.0

    x_lo, x_hi, x_edge = span(["intercept_none", "intercept_partial"])
    y_lo, y_hi, y_edge = span(["slope_none", "slope_partial"])
    own_x, mixed_x = float(r["intercept_none"]), float(r["intercept_partial"])
    if min(own_x, mixed_x) - x_lo >= x_edge and x_hi - max(own_x, mixed_x) >= x_edge:
        return ["middle left", "middle right"] if own_x <= mixed_x else ["middle right", "middle left"]
    side = "right" if min(own_x, mixed_x) - x_lo < x_edge else "left"
    own_y, mixed_y = float(r["slope_none"]), float(r["slope_partial"])
    upper, lower = ("top", "bottom")
    if min(own_y, mixed_y) - y_lo < y_edge:  # the lower label would reach the x axis's ticks
        upper, lower = "top", "middle"
    elif y_hi - max(own_y, mixed_y) < y_edge:  # the upper label would reach the legend
        upper, lower = "middle", "bottom"
    own_pos, mixed_pos = (upper, lower) if own_y >= mixed_y else (lower, upper)
    return [f"{own_pos} {side}", f"{mixed_pos} {side}"]


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
    hover = [_hover_text(fields) for fields in _hover_table(est)]
    traces = [_arrow_trace(est[f"{coefficient}_none"], top + est["offset"], est[f"{coefficient}_partial"],
                           bottom + est["offset"], METHOD_STYLE["partial"]["color"],
                           "Shrinkage: own estimate → mixed model", hover, width=1.5,
                           groups=est["group"].to_numpy(dtype=object))]
    for m, y, d in (("none", top, est), ("partial", bottom, wide)):
        s = METHOD_STYLE[m]
        traces.append(dict(
            type="scatter", x=rounded(d[f"{coefficient}_{m}"]), y=rounded(y + d["offset"]), mode="markers",
            name=s["name"], marker={"color": s["color"], "size": rounded(d["size"], 2), "symbol": s["symbol"],
                                    "line": {"width": 1, "color": c["paper"]}},
            text=[_hover_text(fields) for fields in _hover_table(d)],
            hovertemplate="%{text}<extra></extra>", customdata=d["group"].to_numpy(dtype=object)))
    if selected is not None and selected in set(wide["group"]):
        r = wide[wide["group"] == selected].iloc[0]
        traces.append(dict(type="scatter", x=[r[f"{coefficient}_none"], r[f"{coefficient}_partial"]], y=[top, bottom],
                           mode="markers", name=f"Selected: {selected}", hoverinfo="skip",
                           marker={"size": 22, "symbol": "circle-open", "color": c["text"], "line": {"width": 3}}))
    # The fixed effect as a dashed vertical line over the whole plot, labelled inside its foot (above
    # the plot the label ran into the legend).
    layout = {"shapes": [{"type": "line", "xref": "x", "yref": "y domain", "x0": population, "x1": population,
                          "y0": 0, "y1": 1, "line": {"color": c["population"], "width": 2, "dash": "dash"}}],
              "annotations": [{"text": "fixed effect", "x": population, "xref": "x", "y": 0, "yref": "y domain",
                               "yanchor": "bottom", "xanchor": "left", "xshift": 4, "showarrow": False}],
              "yaxis": {"tickvals": [top, bottom], "ticktext": ["Own estimate<br>(no pooling)",
                                                                "Mixed model<br>(partial pooling)"],
                        "range": [-0.4, 1.4], "zeroline": False},
              "xaxis": {"title": {"text": label}}}
    return fast_figure(traces, layout, theme=theme, height=height)


def _wide_arrays(table) -> dict[str, np.ndarray]:
    """Per group (in the order of the partial-pooling rows): group (Python str), n, estimable and
    intercept_/slope_ for no and partial pooling, and the distance moved, as arrays (numpy only:
    this runs on every lab slider move). ``table``: the pooling table, or its columns as arrays."""
    method = np.asarray(table["method"], dtype=object)
    group = np.array([str(g) for g in np.asarray(table["group"], dtype=object)], dtype=object)
    part, none = np.flatnonzero(method == "partial"), np.flatnonzero(method == "none")
    where_none = {g: i for g, i in zip(group[none], none)}
    rows = np.array([where_none.get(g, -1) for g in group[part]], dtype=int)
    has = rows >= 0

    def own(column: str, fill):
        values = np.asarray(table[column])
        out = np.full(len(part), fill, dtype=float if fill is np.nan else bool)
        out[has] = values[rows[has]]
        return out

    def partial(column: str) -> np.ndarray:
        return np.asarray(table[column], float)[part]

    wide = {
        "group": group[part],
        "n": np.asarray(table["n"])[part],
        "estimable": own("estimable", False),
        "intercept_none": own("intercept", np.nan),
        "slope_none": own("slope", np.nan),
        "intercept_partial": partial("intercept"),
        "slope_partial": partial("slope"),
    }
    wide["moved"] = np.hypot(wide["intercept_partial"] - wide["intercept_none"],
                             np.nan_to_num(wide["slope_partial"] - wide["slope_none"]))
    return wide


def _wide(table: pd.DataFrame) -> pd.DataFrame:
    """``_wide_arrays`` as a frame (group as text)."""
    wide = _wide_arrays(table)
    return pd.DataFrame({**wide, "group": pd.array(wide["group"], dtype=str)})


def _formatted(values) -> list[str]:
    """Each number of a column to 4 significant digits, "—" where missing (formatted column by column:
    a function call per value cost a fifth of the lab's map)."""
    return ["—" if v != v else format(v, ".4g") for v in np.asarray(values, float).tolist()]


def _hover_table(wide) -> list[list]:
    """Per group of ``_wide`` (a frame or its arrays): [group, n, own estimate, mixed model's estimate,
    distance moved] as HOVER_TEMPLATE shows them."""
    own = zip(_formatted(wide["intercept_none"]), _formatted(wide["slope_none"]))
    mixed = zip(_formatted(wide["intercept_partial"]), _formatted(wide["slope_partial"]))
    return [[group, int(n), f"({a}, {b})" if estimable else "cannot be estimated alone", f"({c}, {d})", moved]
            for group, n, estimable, (a, b), (c, d), moved in zip(
                np.asarray(wide["group"]).tolist(), np.asarray(wide["n"]).tolist(),
                np.asarray(wide["estimable"]).tolist(), own, mixed, _formatted(wide["moved"]))]


HOVER_TEMPLATE = ("<b>%{customdata[0]}</b> (n = %{customdata[1]})<br>own estimate: %{customdata[2]}<br>"
                  "mixed model: %{customdata[3]}<br>moved: %{customdata[4]}<extra></extra>")


def _hover_text(fields: list) -> str:
    g, n, own, mixed, moved = fields
    return f"<b>{g}</b> (n = {n})<br>own estimate: {own}<br>mixed model: {mixed}<br>moved: {moved}"


# -- distributions of group coefficients -------------------------------------------
DIST_ORDER = (("truth", "Truth", TRUTH_COLOR), ("none", "No pooling", METHOD_STYLE["none"]["color"]),
              ("partial", "Partial pooling", METHOD_STYLE["partial"]["color"]))


def coefficient_distributions(values: pd.DataFrame | dict, *, theme: str = "light",
                              labels: dict[str, str] | None = None, height: int = 420) -> go.Figure:
    """Violins of per-group coefficients, one panel per coefficient, one violin per method.

    ``values`` has columns method ("truth" | "none" | "partial"), coefficient, value (a frame, or its
    columns as arrays: ``LabView.coefficient_columns``).
    The panels are laid out by hand (x axes side by side, one shared y axis) rather than
    with make_subplots, which costs more than the rest of the figure on a live redraw.
    """
    coef_of = np.asarray(values["coefficient"], dtype=object)
    method_of = np.asarray(values["method"], dtype=object)
    value_of = np.asarray(values["value"], float)
    coefs = list(dict.fromkeys(coef_of))
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
        means = {"x": [], "y": [], "color": []}
        for method, name, color in DIST_ORDER:
            v = value_of[(coef_of == coef) & (method_of == method)]
            v = v[~np.isnan(v)]
            if v.size == 0:
                continue
            traces.append(dict(type="violin", x=rounded(v), name=name, orientation="h", xaxis=axis, yaxis="y",
                               line={"color": color}, fillcolor=color, opacity=0.55, points=False,
                               meanline={"visible": False}, box={"visible": False}, legendgroup=method,
                               showlegend=False, spanmode="hard", hoveron="violins",
                               hovertemplate=f"{name}<extra></extra>"))
            means["x"].append(float(np.mean(v)))
            means["y"].append(name)
            means["color"].append(color)
        if means["x"]:
            # The mean as a tick across each violin, drawn as markers: Plotly's own meanline searches
            # the violin's outline point by point in the browser, half the figure's drawing time.
            traces.append(dict(type="scatter", x=rounded(np.array(means["x"])), y=means["y"], mode="markers",
                               xaxis=axis, yaxis="y", showlegend=False, name="Mean",
                               marker={"symbol": "line-ns-open", "size": 34, "color": means["color"],
                                       "line": {"width": 2.5, "color": means["color"]}},
                               hovertemplate="%{y}: mean %{x:.3g}<extra></extra>"))
    fig = fast_figure(traces, layout, theme=theme, height=height)
    # The violins are named on the y axis, so no legend is needed.
    fig.update_layout(showlegend=False, margin={"t": 50},
                      yaxis={"autorange": "reversed", "type": "category"})
    return fig


def bar_compare(frame: pd.DataFrame, *, x: str, y: str, color_by: str, theme: str = "light",
                y_label: str = "", height: int = 360) -> go.Figure:
    """Grouped bars, coloured by pooling method where ``color_by`` holds method names."""
    traces = []
    by = frame[color_by].to_numpy(dtype=object)
    xs, ys = frame[x].to_numpy(dtype=object), frame[y].to_numpy(float)
    for method in dict.fromkeys(v for v in by if v == v):  # in order of appearance, as groupby(sort=False); no NaN
        rows = by == method
        s = METHOD_STYLE.get(method, {"name": str(method), "color": TRUTH_COLOR})
        traces.append(dict(type="bar", x=xs[rows], y=rounded(ys[rows]), name=s["name"],
                           marker={"color": s["color"]},
                           hovertemplate=f"{s['name']}<br>%{{x}}: %{{y:.4g}}<extra></extra>"))
    return fast_figure(traces, {"barmode": "group", "yaxis": {"title": {"text": y_label}}}, theme=theme,
                       height=height)
