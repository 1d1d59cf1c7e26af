"""Predictions: a group in the data, a new group, a group with only a few observations, and a
hold-out test of the three ways to pool."""

import numpy as np
import pandas as pd
import streamlit as st

import charts
import charts.predictions as figs
from app_shell import compute, ui
from lmm_core import LmmError
from teaching.pooling import (axis_labels, centre_by_default, centring_help, centring_label, covariate_mean,
                              intercept_at, possessive)
from teaching.predictions import (holdout_comparison, known_group_prediction, new_group_prediction,
                                  partial_data_path, partial_data_prediction)

choice = ui.current()
info = choice.data
result = ui.pooling_for(choice)
g, gs = ui.plain(info.group_label), ui.plain(ui.plural(info.group_label))  # for text; figures get info's own
gp = possessive(g)  # "subject's", "species'"
obs_word = {"sleepstudy": "days", "gpa": "semesters", "iris": "flowers"}.get(info.name, "observations")
HOLDOUT = ["10%", "20%", "30%", "40%", "50%"]


# -- cached numerics (app_shell.compute: keyed by the whole input; uploaded data stay in this session) --
KEY, MODEL = compute.data_key(choice), compute.model_key(choice.model)


def _args(data_info, model: tuple) -> dict:
    return {"response": data_info.response, "group": data_info.group, "covariate": data_info.covariate,
            "random": model[2], "extra_covariates": data_info.extra_covariates}


@compute.cached(max_entries=64)
def partial(key, model: tuple, group: str, k: int, fixed_uncertainty: bool, x: tuple, *, _frame, _info):
    return partial_data_prediction(_frame, chosen_group=group, k=k, x=np.array(x),
                                   fixed_uncertainty=fixed_uncertainty, **_args(_info, model))


@compute.cached(max_entries=32)
def path(key, model: tuple, group: str, n: int, step: int, *, _frame, _info):
    return partial_data_path(_frame, chosen_group=group, ks=range(0, n + 1, step), **_args(_info, model))


@compute.cached(max_entries=32)
def holdout(key, model: tuple, last: int, *, _frame, _info):
    return holdout_comparison(_frame, holdout_last=last, **_args(_info, model))


def clamp(key: str, low: int, high: int) -> None:
    """Keep a remembered slider value inside this data set's range (ranges differ between data sets)."""
    value = st.session_state.get(key)
    if isinstance(value, (int, float)) and not low <= value <= high:
        st.session_state[key] = int(min(max(value, low), high))


# -- page ------------------------------------------------------------------------------------------
st.title("Predictions")
st.markdown(
    f"""
A mixed model predicts differently depending on what it knows about the {g}:

1. **A {g} in the data**: the population line plus that {gp} own random effects.
2. **A new {g}**: only the population line (fixed effects), because nothing is known about this {g}.
   Its band is wide: it must allow for how much {gs} differ (the random-effect variance) as well as the
   noise of single observations (the residual variance).
3. **A {g} with only a few observations**: in between. With every extra observation its line moves from the
   population line towards the {gp} own line (never all the way: the mixed model keeps some pull), and its
   uncertainty shrinks.
"""
)
if info.name == "iris":
    st.warning(
        "With iris, the three species are all the species there are in the data, and a new species would "
        "not be 'another draw' from the same few. The new-species band rests on a spread estimated from only "
        "three species, so read it as a rough guess. The partial-data and hold-out parts add or hold back "
        "flowers in order of sepal length (shortest first), so the hold-out test checks how well each method "
        "extrapolates to the longest sepals."
    )

levels = list(result.levels)
sizes = result.group_sizes
# The group, the slider of what the model has seen and what they change rerun alone (a fragment):
# the page's introduction and the hold-out test are not rebuilt on every move.
@ui.fragment
def one_group_section() -> None:
    top = st.columns([2, 3])
    with top[0]:
        group = st.selectbox(f"{g.capitalize()}", levels, key="group", bind=ui.URL)
    n_j = int(sizes.loc[group])
    with top[1]:
        clamp("observed", 0, int(sizes.max()))
        k = st.slider(f"How many of its {obs_word} the model has seen (panel 3)", 0, int(sizes.max()),
                      min(3, n_j), key="observed", bind=ui.URL,
                      help=f"0 = none (a new {g}); {n_j} = all of them.")
    k = min(int(k), n_j)
    fixed_unc = st.checkbox("Widen the bands for the uncertainty of the fixed effects too", key="fixed_unc",
                            bind=ui.URL, help="Adds x'Vx, the variance of the population line itself.")

    j = levels.index(group)
    g_rows = result.data.codes == j
    gx, gy = result.data.x[g_rows], result.data.y[g_rows]
    grid = np.linspace(gx.min(), gx.max(), 40)
    points = pd.DataFrame({"x": gx, "y": gy})
    pop = result.population
    own_row = result.table[(result.table["group"] == group) & (result.table["method"] == "none")].iloc[0]
    population_line = (grid, pop["intercept"] + pop["slope"] * grid, "population")
    refs = {"Population line (fixed effects)": population_line}
    if bool(own_row["estimable"]):
        refs_partial = {**refs, f"Its own estimate (no pooling), all {obs_word}":
                        (grid, own_row["intercept"] + own_row["slope"] * grid, "none")}
    else:
        refs_partial = refs

    known = known_group_prediction(result, group, grid, fixed_uncertainty=fixed_unc)
    new = new_group_prediction(result, grid, fixed_uncertainty=fixed_unc)
    try:
        if k == 0:
            part_curve, used, unseen = new, points.iloc[:0], points
        else:
            part = partial(KEY, MODEL, group, k, fixed_unc, tuple(grid), _frame=ui.frame(choice), _info=info)
            part_curve, used, unseen = part.curve, part.shown, part.hidden
    except LmmError as exc:
        st.error(f"The model could not be refitted with only {k} {obs_word} of this {g}: {exc} Try another number.")
        part_curve, used, unseen = new, points.iloc[:0], points

    panels = [
        figs.Panel(f"1. {info.group_label.capitalize()} {group}, all data", known, points, points.iloc[:0], refs),
        figs.Panel(f"2. A new {g}", new, points.iloc[:0], points, refs),
        figs.Panel(f"3. {info.group_label.capitalize()} {group}, {k} of {n_j} seen", part_curve, used, unseen, refs_partial),
    ]
    ui.show(figs.prediction_panels(panels, theme=ui.theme(), x_label=info.covariate_label, y_label=info.response_label),
            f"Three predictions for {g} {group}. Purple line: the prediction; shaded: 95% band for a new observation. "
            f"Filled points were used for the prediction, hollow ones were not. Panel 2 ignores this {gp} data "
            f"altogether; panel 3 uses only its first {k} {obs_word}.", key="panels")

    half = {name: 1.96 * float(np.sqrt(np.mean(c["se_line"] ** 2))) for name, c in
            (("known", known), ("new", new), ("partial", part_curve))}
    m1, m2, m3 = st.columns(3)
    m1.metric(f"Line uncertainty, {g} in the data", f"± {half['known']:.3g}")
    m2.metric(f"Line uncertainty, new {g}", f"± {half['new']:.3g}")
    m3.metric(f"Line uncertainty, {k} of {n_j} seen", f"± {half['partial']:.3g}",
              delta=f"{half['partial'] - half['new']:+.3g} vs new {g}", delta_color="inverse")
    st.caption("± 1.96 × the SD of the line itself (its random effects' conditional SD), averaged over the "
               f"{ui.plain(info.covariate)} range; the bands in the figure add the residual noise on top.")

    st.subheader(f"How {g} {ui.plain(group)}'s line moves as {obs_word} are added")
    step = 5 if n_j > 20 else 1
    trail = path(KEY, MODEL, group, n_j, step, _frame=ui.frame(choice), _info=info)
    names = list(result.fit.ranef[result.data.group].columns) if result.data.group in result.fit.ranef else []
    centred = False
    if "(Intercept)" in names and result.data.x is not None:
        centred = st.toggle(centring_label(ui.plain(info.covariate), covariate_mean(result)),
                            value=centre_by_default(result), key="centred", bind=ui.URL,
                            help=centring_help(ui.plain(info.covariate)))
    intercept_label, slope_label = axis_labels(result, centred, info.response)  # figure text: escaped by charts
    random_cols = {}
    if "(Intercept)" in names:
        random_cols["intercept_at_mean" if centred else "intercept"] = intercept_label
    if info.covariate in names:
        random_cols["slope"] = slope_label
    own = {"intercept": float(trail.own[0]), "slope": float(trail.own[1])}
    population = {"intercept": float(trail.population[0]), "slope": float(trail.population[1])}
    if centred:
        xbar = covariate_mean(result)
        own["intercept_at_mean"] = float(intercept_at(own["intercept"], own["slope"], xbar))
        population["intercept_at_mean"] = float(intercept_at(population["intercept"], population["slope"], xbar))
    last_row = trail.table.iloc[-1]
    moves = []
    shares = []
    why_outside = ("intercept and slope are pulled as a pair" if len(random_cols) == 2 else
                   "the shared coefficients are estimated a little differently by the mixed model and the own fit")
    for c in random_cols:
        end, start_, own_c = float(last_row[c]), population[c], own[c]
        word = "intercept (at the mean)" if c == "intercept_at_mean" else c
        if not np.isfinite(own_c) or abs(own_c - start_) < 1e-12:
            continue
        share_ = (end - start_) / (own_c - start_)
        shares.append(share_)
        moves.append(f"its {word} ends {share_:.0%} of the way from the population value to its own estimate "
                     f"({end:.4g}; own {own_c:.4g})" if 0 <= share_ <= 1.0005 else
                     f"its {word} ends at {end:.4g}, not between the population value {start_:.4g} and its own estimate "
                     f"{own_c:.4g} ({why_outside})")
    kept_pull = any(v < 0.995 for v in shares)
    ending = ("; with all its data " + "; ".join(moves)
              + (": the mixed model does not go all the way to the own estimate, it keeps some pull" if kept_pull else
                 ": with this much data (and groups this different) the pull is almost nil")) if moves else ""
    ui.show(figs.partial_path(trail.table, columns=random_cols, own=own, population=population,
                              current=k - k % step, theme=ui.theme(), x_label=f"{obs_word.capitalize()} seen (k)"),
            f"{possessive(g.capitalize() + ' ' + ui.plain(group))} {' and '.join(('intercept' if c.startswith('intercept') else c) for c in random_cols)} estimated from its "
            f"first k {obs_word} (purple, with 95% bars from the conditional SD). At k = 0 it is the population value "
            f"(dashed); the dotted blue line is its own estimate from all {obs_word} (no pooling){ending}.", key="path")

    if "intercept" in random_cols and centre_by_default(result):
        lo_x, hi_x = float(result.data.x.min()), float(result.data.x.max())
        st.caption(f"The intercept in the left panel is read at {ui.plain(info.covariate)} = 0, far outside the data ({lo_x:.3g} "
                   f"to {hi_x:.3g}): small changes of the slope swing it a lot, so its moves are mostly extrapolation. "
                   "The lines in the panels above, inside the data, change far less. Switch on reading intercepts at "
                   f"the mean {ui.plain(info.covariate)} above to follow the line where the data are.")


one_group_section()

# -- hold-out test ---------------------------------------------------------------------------------
st.header("Which way of pooling predicts best?")
st.markdown(
    f"""
A fair test: hide the last {obs_word} of every {g}, fit the three methods on the rest, and measure how far
their predictions land from the hidden values (root-mean-square error, RMSE; smaller is better).
"""
)
# The hold-out slider reruns this section alone (a fragment).
@ui.fragment
def holdout_section() -> None:
    share = st.select_slider(f"Share of each {gp} {obs_word} to hold out (the last ones)", HOLDOUT, value="20%",
                             key="holdout", bind=ui.URL)
    last = max(1, int(round(float(share.rstrip("%")) / 100 * int(sizes.min()))))
    last_words = f"{last} {obs_word}" if last > 1 else f"{obs_word[:-1]}"
    try:
        h = holdout(KEY, MODEL, last, _frame=ui.frame(choice), _info=info)
    except LmmError as exc:
        st.error(f"The hold-out fit failed: {exc} Hold out fewer {obs_word}.")
        st.stop()
    tab = h.table.copy()
    tab["Method"] = tab["method"].map(lambda m: charts.METHOD_STYLE[m]["name"])
    bars = tab.assign(what=f"Last {last_words} of each {g}")
    ui.show(charts.bar_compare(bars, x="what", y="rmse", color_by="method", theme=ui.theme(),
                               y_label="Prediction error (RMSE)"),
            f"Error on the {int(tab['n_predicted'].max())} hidden observations when the last {last_words} of each "
            f"{g} are held out.", key="holdout_bars")
    best = tab.loc[tab["rmse"].idxmin(), "method"]
    ui.table(tab[["Method", "rmse", "n_predicted"]].rename(columns={"rmse": "RMSE", "n_predicted": "Predicted rows"}))
    rmse = tab.set_index("method")["rmse"]
    order = list(rmse.sort_values().index)
    name = {m: charts.METHOD_STYLE[m]["short"] for m in rmse.index}
    verdict = {
        "partial": (f"Partial pooling predicts best (RMSE {rmse['partial']:.3g}): it keeps what is real about each {g} "
                    f"and discounts what is noise."),
        "none": (f"Here each {possessive(g)} own estimate predicts best (RMSE {rmse['none']:.3g}, partial pooling "
                 f"{rmse['partial']:.3g}): with this much data per {g}, the pull gains nothing on these held-out points."),
        "complete": (f"Here one line for everybody predicts best (RMSE {rmse['complete']:.3g}): the {gs} differ little "
                     "in what is held out."),
    }[best]
    why = []
    if order.index("none") > order.index("partial"):
        why.append(f"no pooling ({rmse['none']:.3g}) over-reacts to the noise in each {possessive(g)} points")
    if order.index("complete") > order.index("partial"):
        why.append(f"complete pooling ({rmse['complete']:.3g}) ignores real differences between {gs}")
    st.markdown(f"**{verdict}** " + ("Compared with partial pooling, " + " and ".join(why) + "." if why else ""))


holdout_section()
