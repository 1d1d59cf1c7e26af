"""The shrinkage map: every group as a point moving from its own estimate to the mixed model's."""

import numpy as np
import streamlit as st

import charts
from app_shell import derived, ui
from lmm_core import tables
from teaching.pooling import (axis_labels, centring_help, centring_label, centre_by_default, centred_covariance,
                              centred_population, centred_table, covariate_mean, no_pooling_meaning, possessive,
                              pull_fraction, pull_phrase, push_reason, singular_message, varying_names)
from teaching.selection import observations, one_coefficient_table
from teaching.shrinkage import ellipse_rings, intercept_shrinkage


def _look_closer_at_clicked() -> None:
    """A click on a group's point or arrow in the map (called before the rerun, so the chooser
    drawn above the map can still be set): look closer at that group."""
    clicked = ui.clicked_group(st.session_state.get("map"))
    if clicked is not None and clicked in ui.pooling_for(ui.current()).group_sizes.index:
        st.session_state["group"] = clicked


choice = ui.current()
info = choice.data
result = ui.pooling_for(choice)
fit = result.fit
pop = result.population
kind = choice.random
g = ui.plain(info.group_label)  # for text; figures get info's own
gs = ui.plain(ui.plural(info.group_label))

st.title("The shrinkage map")
colour = {m: charts.METHOD_STYLE[m]["colour"] for m in charts.METHOD_STYLE}
has_x = result.data.x is not None
centred = False
if has_x:
    centred = st.toggle(centring_label(ui.plain(info.covariate), covariate_mean(result)),
                        value=centre_by_default(result), key="centred", bind=ui.URL,
                        help=centring_help(ui.plain(info.covariate)))
table = centred_table(result) if centred else result.table
pop = centred_population(result) if centred else result.population
x_label, y_label = axis_labels(result, centred, info.response)
if kind in ("both", "uncorrelated"):
    st.markdown(
        f"""
Each {g} is a point in the plane of **intercept** (where its line is at the chosen {info.covariate})
and **slope** (how fast it rises). The {colour["none"]} point is the {possessive(g)} own estimate (no pooling:
{no_pooling_meaning(kind, info.covariate, g, result.data.extra_names).split(": ", 1)[1].rstrip(".")});
the arrow ends where the mixed model puts it ({colour["partial"]}). The star is the population line
(fixed effects); the {colour["complete"]} cross is the single regression for everyone. The rings show where
the model expects {gs} to fall.

Arrows point *inwards*, but not always straight at the star: the model pulls hardest in
the direction the {possessive(g)} own data say least about, and it uses the correlation between
intercepts and slopes.
"""
    )
else:
    coefficient = "slope" if kind == "slope" else "intercept"
    other = "intercept" if coefficient == "slope" else "slope"
    st.markdown(
        f"""
This model lets only the **{coefficient}** vary between {gs}, so there is one number per {g}.
Top row: each {possessive(g)} own {coefficient} (no pooling, with one {other} shared by all {gs}).
Bottom row: the mixed model's. Arrows show the pull towards the fixed effect (dashed line).
Bigger dots are {gs} with more observations: they move less.
"""
    )
singular = singular_message(result, g)
if singular:
    st.warning(singular, icon=":material/warning:")

levels = list(result.group_sizes.index)
selected = st.selectbox(f"Look closer at one {g}", levels, key="group", bind=ui.URL,
                        help="Or click a point in the figure.")

if kind in ("both", "uncorrelated"):
    cov = tables.random_effect_covariance(fit)
    if centred:
        cov = centred_covariance(result, cov)
    center = (pop["intercept"], pop["slope"])
    rings = ellipse_rings(center, cov, levels=(0.5, 0.8, 0.95))
    fig = charts.shrinkage_map(table, population=center, ellipses=rings, theme=ui.theme(),
                               x_label=x_label, y_label=y_label, selected=selected)
    caption = (f"Shrinkage map: one arrow per {g}, from its own estimate ({colour['none']}) to the mixed model's "
               f"({colour['partial']}). Rings: 50%, 80% and 95% of {gs} under the fitted model. Star: fixed effects. "
               + f"Intercepts read at {ui.plain(info.covariate)}"
               + (f" = {covariate_mean(result):.3g} (its mean)." if centred else " = 0, as lme4 reports them."))
    if singular:
        caption += f" The fit is singular: the rings are flat and the arrows end on one line."
else:
    strip_pop = pop[coefficient]
    fig = charts.shrinkage_strip(one_coefficient_table(result, coefficient, table), population=strip_pop,
                                 coefficient=coefficient, theme=ui.theme(),
                                 label=x_label if coefficient == "intercept" else y_label, selected=selected)
    caption = (f"Each {possessive(g)} own {coefficient} (top) and the mixed model's (bottom), with an arrow between "
               f"them; bigger dots: more observations. {derived.between_sentence(choice, g)}")
ui.show(fig, caption, key="map", on_click=_look_closer_at_clicked)

st.subheader(f"{g.capitalize()} {ui.plain(selected)}")
obs = observations(result)
row = result.table[result.table["group"] == selected].set_index("method")
left, right = st.columns([3, 2])
with left:
    if result.data.x is not None:
        one = charts.pooling_facets(obs[obs["group"] == selected], result.lines[result.lines["group"] == selected],
                                    theme=ui.theme(), x_label=info.covariate_label, y_label=info.response_label,
                                    ncols=1, height_per_row=330)
        ui.show(one, f"{g.capitalize()} {ui.plain(selected)}: its observations and the three lines.", key="one")
with right:
    n = int(row.loc["partial", "n"])
    st.metric("Observations", n)
    own = row.loc["none"]
    if not bool(own["estimable"]):
        st.info(f"This {g} has too little data for an estimate of its own, yet the mixed model still "
                "gives it a line: it borrows strength from the others.")
    shown = table[(table["group"] == selected)].set_index("method")
    for what in varying_names(result):
        own_v, mixed_v, pop_v = shown.loc["none", what], shown.loc["partial", what], pop[what]
        value = float(pull_fraction(own_v, mixed_v, pop_v)) if bool(own["estimable"]) else float("nan")
        st.metric(f"Pull on its {what}", f"{value:.0%} of the way" if np.isfinite(value) else "—",
                  help=f"What the arrow shows: (own − mixed) ÷ (own − fixed {what}). 0% = not moved, 100% = all "
                       "the way to the fixed value; above 100% = pulled past it; below 0% = pushed away.")
        if np.isfinite(value):
            st.caption(f"{mixed_v:.4g} from its own {own_v:.4g}; fixed {what} {pop_v:.4g}: "
                       f"{pull_phrase(value, what, 'the fixed ' + what)}.")
    if kind in ("both", "uncorrelated") and any(
            np.isfinite(v) and (v < -0.005 or v > 1.005) for v in
            (pull_fraction(shown.loc["none", w], shown.loc["partial", w], pop[w]) for w in ("intercept", "slope"))):
        st.caption(push_reason())
if kind == "intercept":
    with st.container():
        shrink = intercept_shrinkage(result)
        lam = shrink.table.set_index("group").loc[selected]
        engine_b = fit.ranef[info.group].loc[selected, "(Intercept)"]
        st.markdown("**Why this much?** For a random intercept the pull has a formula:")
        st.latex(r"\lambda_j = \frac{\tau^2}{\tau^2 + \sigma^2 / n_j} = "
                 rf"\frac{{{shrink.tau2:.4g}}}{{{shrink.tau2:.4g} + {shrink.sigma2:.4g} / {n}}} = {lam['lambda']:.3f}")
        st.latex(r"\hat b_j = \lambda_j\,(\bar y_j - \bar x_j'\hat\beta) = "
                 rf"{lam['lambda']:.3f} \times {lam['raw_deviation']:.4g} = {lam['conditional_mode']:.4g}")
        arrow = float(row.loc["partial", "pull_intercept"])
        agree = (f"1 − λⱼ = {1 - lam['lambda']:.1%} is the pull shown above ({arrow:.1%})"
                 + (": the same, because the data are balanced and every method uses the same slope."
                    if abs(1 - lam['lambda'] - arrow) < 5e-4 else
                    ": close but not equal, because in unbalanced data the no-pooling slope (within "
                    f"{gs}) differs a little from the mixed model's, so the arrow starts a little elsewhere "
                    "than ȳⱼ − x̄ⱼ'β̂.")) if np.isfinite(arrow) else ""
        st.caption(f"τ² is the variance between {gs}, σ² the residual variance, ȳⱼ the {possessive(g)} mean and "
                   f"x̄ⱼ'β̂ the population line's mean prediction for it. The engine's conditional mode for "
                   f"this {g} is {engine_b:.6g}: the same number. {agree}")
