"""The shrinkage map: every group as a point moving from its own estimate to the mixed model's."""

import streamlit as st

import charts
from app_shell import ui
from lmm_core import tables
from teaching.selection import observations, one_coefficient_table
from teaching.shrinkage import ellipse, intercept_shrinkage, pull_by_group

choice = ui.current()
info = choice.data
result = ui.pooling_for(choice)
fit = result.fit
pop = result.population
kind = choice.random
g = ui.plain(info.group_label)  # for text; figures get info's own
gs = ui.plain(ui.plural(info.group_label))

st.title("The shrinkage map")
if kind in ("both", "uncorrelated"):
    st.markdown(
        f"""
Each {g} is a point in the plane of **intercept** (where its line starts) and **slope**
(how fast it rises). The blue point is the {g}'s own regression; the arrow ends where the
mixed model puts it. The star is the population line (fixed effects); the orange cross is the
single regression for everyone. The rings show where the model expects {gs} to fall.

Arrows point *inwards*, but not always straight at the star: the model pulls hardest in
the direction the {g}'s own data say least about, and it uses the correlation between
intercepts and slopes.
"""
    )
else:
    coefficient = "slope" if kind == "slope" else "intercept"
    st.markdown(
        f"""
This model lets only the **{coefficient}** vary between {gs}, so there is one number per {g}.
Top row: each {g}'s own estimate. Bottom row: the mixed model's. Arrows show the pull
towards the fixed effect (dashed line). Bigger dots are {gs} with more observations: they
move less.
"""
    )

levels = list(result.group_sizes.index)
selected = st.selectbox(f"Look closer at one {g}", levels, key="group", bind=ui.URL,
                        help="Or click a point in the figure.")

if kind in ("both", "uncorrelated"):
    vc = fit.varcorr
    cov = tables.random_effect_covariance(fit)
    center = (pop["intercept"], pop["slope"])
    contours = ellipse(center, cov, levels=(0.5, 0.8, 0.95))
    rings = [(lvl, d["x"], d["y"]) for lvl, d in contours.groupby("level")]
    fig = charts.shrinkage_map(result.table, population=center, ellipses=rings, theme=ui.theme(),
                               x_label=f"Intercept ({ui.plain(info.response_label)} at {ui.plain(info.covariate)} = 0)",
                               y_label=f"Slope (per unit of {ui.plain(info.covariate)})", selected=selected)
    caption = (f"Shrinkage map: one arrow per {g}, from its own regression (blue) to the mixed model's "
               f"estimate (red). Rings: 50%, 80% and 95% of {gs} under the fitted model. Star: fixed effects.")
else:
    fig = charts.shrinkage_strip(one_coefficient_table(result, coefficient), population=pop[coefficient], coefficient=coefficient,
                                 theme=ui.theme(), label=coefficient.capitalize(), selected=selected)
    caption = (f"Each {g}'s own {coefficient} (top, with the other coefficient held at its fixed value) and "
               f"the mixed model's (bottom), with an arrow between them; bigger dots: more observations.")
event = ui.show(fig, caption, key="map", on_select="rerun", selection_mode="points")
clicked = ui.clicked_group(event)
if clicked and clicked != selected:
    st.session_state["group"] = clicked
    st.rerun()

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
        st.info(f"This {g} has too little data for a regression of its own, yet the mixed model still "
                "gives it a line: it borrows strength from the others.")
    pull = pull_by_group(fit).loc[selected]
    for name, value in pull.items():
        what = "intercept" if name == "(Intercept)" else "slope"
        st.metric(f"Pull on its {what}", f"{value:.0%} of the way",
                  help=f"How far the mixed model moves this {g}'s {what} from what its own data say towards the "
                       "population value (0% = not at all, 100% = all the way).")
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
        st.caption(f"τ² is the variance between {gs}, σ² the residual variance, ȳⱼ the {g}'s mean and "
                   f"x̄ⱼ'β̂ the population line's mean prediction for it. The engine's conditional mode for "
                   f"this {g} is {engine_b:.6g}: the same number.")
