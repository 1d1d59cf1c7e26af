"""How the model is fitted: the matrices, one criterion for all parameters, and where the random
effects come from, with the chosen data set's own numbers."""

import numpy as np
import pandas as pd
import streamlit as st

import charts
import charts.fitting as figs
import datasets
from app_shell import compute, screens, ui
from lmm_core import tables
from teaching import anatomy
from teaching.pooling import possessive

choice = ui.current()
info = choice.data
fit = ui.fit_for(choice)
g, gs = ui.plain(info.group_label), ui.plain(ui.plural(info.group_label))  # for text; figures get info's own
gp = possessive(g)  # "subject's", "species'"
levels = list(fit.model.terms[0].levels)
MULTIPLES = [0, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10]
CORRELATIONS = ["fitted", "-0.9", "-0.5", "0", "0.5", "0.9"]


# -- cached numerics (app_shell.compute: keyed by the whole input; uploaded data stay in this session) --
KEY, MODEL = compute.data_key(choice), compute.model_key(choice.model)


@compute.cached(max_entries=32)
def criterion_curve(key, model: tuple, upto: float, *, _fit):
    return anatomy.criterion_curve(_fit, upto=upto)


@compute.cached(max_entries=32)
def criterion_grid(key, model: tuple, corr, upto: tuple, *, _fit):
    return anatomy.criterion_grid(_fit, corr, upto)


@compute.cached(max_entries=16)
def henderson(key, model: tuple, *, _fit):
    return anatomy.henderson_check(_fit)


@compute.cached(max_entries=16)
def unbalanced(key, model: tuple, *, _frame, _info):
    return anatomy.unbalanced_fit(model[1], _frame, _info.group, _info.covariate)


@compute.cached(max_entries=8)
def sd_profile(key, model: tuple, *, _fit):
    return anatomy.sd_profile(_fit)


def ri_choice(data_info) -> ui.Choice:
    return ui.Choice(data_info, data_info.model("ri"))


def fmt(v: float) -> str:
    return f"{v:.4g}"


def show_table(frame: pd.DataFrame, tiny=("Difference",), **kwargs):
    """A table whose difference columns (rounding-sized numbers) show in scientific notation."""
    config = {c: st.column_config.NumberColumn(format="%.1e") for c in tiny
              if c in frame.columns and frame[c].abs().max() < 1e-4}
    st.dataframe(frame, width="stretch", column_config=config, **kwargs)


# -- the question --------------------------------------------------------------------------------
st.title("How the model is fitted")
# One screen per idea (for projecting step by step; "All" shows the whole page).
MISREADINGS = ["Spread of the b̂", "Their correlation", "A variance of 0",
               f"Only {info.n_groups} {gs}?" if info.n_groups <= 3 else "How sure is τ̂?"]
selected = st.selectbox(f"{g.capitalize()} to follow through the page", levels, key="group", bind=ui.URL,
                        help=f"Its rows are shown first in the matrices, and its random effect is worked out by hand below.")
page = screens.Screens(["The question", "The matrices", "One criterion", f"One {g}'s random effect",
                        "Balanced data", *MISREADINGS])
page.mark(1)
st.markdown(
    f"""
A question almost every learner asks: *are the fixed effects and the random effects estimated
separately and then put together? Is a {gp} random effect just its own regression?*

**No to both.** The software searches for the variances (how much {gs} differ, and how noisy
single observations are) by minimising **one** number, the REML criterion. Everything else
follows from those variances in one step: the fixed effects and each {gp} random effect are
solved *together*, and a {gp} random effect is its own deviation **shrunk** towards zero by an
amount the variances decide. This page walks through it with the **{ui.plain(info.title.lower())}** data and
the model `{choice.model.formula}`.
"""
)

# -- 1. the matrices -----------------------------------------------------------------------------
page.mark(2)
st.header("The model, written with this data set's matrices")
st.latex(r"y = X\beta + Zb + \varepsilon,\qquad b \sim N(0, \Sigma_\theta),\qquad \varepsilon \sim N(0, \sigma^2 I)")
view = anatomy.design_view(fit, first=selected, rows_per_group=10 if info.n_groups > 3 else 6)
st.markdown(
    f"""
- **y** holds the {view.n} observations of {ui.plain(info.response_label.lower())}.
- **X** ({view.n} × {view.p}) holds the columns of the *fixed* part: one column per fixed effect
  ({", ".join(f"`{c}`" for c in fit.fixed_names)}). The same β applies to every row.
- **Z** ({view.n} × {view.q}) holds the columns of the *random* part: for every {g}, its own copy of
  {", ".join(f"`{n}`" for t in fit.model.terms for n in t.names)}. A row has non-zero entries only in
  the columns of its own {g}, so Zb adds that {gp} random effects and nobody else's.
"""
)
left, right = st.columns([2, 3])
with left:
    ui.show(figs.design_heatmap(view.X, theme=ui.theme(), title="X (fixed part)", group=view.group),
            f"The first rows of X for {len(set(view.group))} {gs} (row numbers as in the data). Each row "
            f"is one observation; each column multiplies one fixed effect.", key="x_matrix")
with right:
    hidden = f" The other {view.hidden_z_columns} columns of Z (the other {gs}) are all 0 in these rows." \
        if view.hidden_z_columns else ""
    ui.show(figs.design_heatmap(view.Z, theme=ui.theme(), title="Z (random part)", group=view.group),
            f"The same rows of Z, showing only the columns of these {gs}.{hidden}", key="z_matrix")

row = anatomy.explain_row(fit, int(view.rows[0]))
def product(v: float, b: float) -> str:
    return f"{v:.4g} × " + (f"({b:.4g})" if b < 0 else f"{b:.4g}")


fixed_sum = " + ".join(product(v, b) for _, v, b in row.fixed_terms)
random_sum = " + ".join(product(v, b) for _, v, b in row.random_terms)
st.markdown(
    f"""
**What one row means.** Row {row.row + 1} belongs to {g} **{row.group}**.
Its row of X times β gives the population line's value: {fixed_sum} = **{row.fixed_part:.4g}**.
Its row of Z picks out {g} {row.group}'s random effects ({", ".join(f"`{n}`" for n, _, _ in row.random_terms)}):
{random_sum} = **{row.random_part:.4g}**. Together: fitted value **{row.fitted:.4g}**; the observed value is
{row.y:.4g}, so the residual ε is {row.residual:.4g}.
"""
)

# -- 2. one criterion ----------------------------------------------------------------------------
page.mark(3)
st.header("One criterion, all parameters at once")
parts = anatomy.scale_parts(fit)
st.markdown(
    f"""
The only numbers the optimiser searches over are the **relative standard deviations** θ: how large
the spread between {gs} is compared with the residual SD σ. For any θ, the best fixed effects,
the best random effects and σ follow by (penalised) least squares in one go. So the REML criterion is a
function of θ alone, and the fit is its minimum.

**Try it:** move θ away from its best value and watch the criterion rise, the fixed effects change
(only in unbalanced data: see below the figure) and the random effects grow (more spread allowed: less shrinkage) or shrink towards 0 (less spread
allowed: more pooling). At 0 every {g} gets the population line (complete pooling); very large values
let every {g} keep almost its own line (no pooling).
"""
)
# The θ sliders and what they move rerun alone (a fragment): the rest of the page, all nine
# screens of it, is not rebuilt on every move.
@ui.fragment
def theta_section() -> None:
    cols = st.columns(len(parts.labels) + len(parts.corr_labels))
    multiples = []
    for i, label in enumerate(parts.labels):
        with cols[i]:
            multiples.append(st.select_slider(
                f"SD of {label.split(': ')[1]} ÷ residual SD, as a multiple of its best value ({parts.ratios[i]:.3g})",
                MULTIPLES, value=1, key=f"sd{i + 1}", bind=ui.URL,
                help="1 is the fitted value; 0 switches this random effect off."))
    corr_choice = None
    if parts.corr_labels:
        with cols[-1]:
            corr_choice = st.radio(f"Correlation (fitted: {parts.corrs[0]:.2f})", CORRELATIONS, horizontal=True,
                                   key="corr", bind=ui.URL, help="The correlation between the random intercepts and slopes.")
    corr = None if corr_choice in (None, "fitted") else float(corr_choice)
    ratios = parts.ratios * np.array(multiples, float)
    theta = anatomy.theta_from_scales(fit, ratios, None if corr is None else [corr])
    at = anatomy.fit_at_theta(fit, theta)

    if parts.ratios.size == 1:
        upto = float(parts.ratios[0]) * max(3.0, multiples[0] * 1.05) or 1.0
        curve = criterion_curve(KEY, MODEL, upto, _fit=fit)
        fig = figs.criterion_curve(curve, best=float(parts.ratios[0]), chosen=float(ratios[0]), chosen_value=at.objective,
                                   theme=ui.theme(), x_label=f"θ = SD of {parts.labels[0].split(': ')[1]} ÷ residual SD")
        caption = ("The REML criterion (σ and the fixed effects worked out for each θ) against the ratio θ. "
                   "The star is the minimum: the fitted model. The purple dot is your choice.")
    else:
        upto = tuple(float(r) * max(3.0, m * 1.05) or 1.0 for r, m in zip(parts.ratios, multiples))
        xs, ys, z = criterion_grid(KEY, MODEL, corr, upto, _fit=fit)
        names = [lab.split(": ")[1] for lab in parts.labels]
        fig = figs.criterion_contour(xs, ys, z, best=tuple(parts.ratios), chosen=tuple(ratios), theme=ui.theme(),
                                     x_label=f"SD of {names[0]} ÷ residual SD", y_label=f"SD of {names[1]} ÷ residual SD")
        held = ("" if not parts.corr_labels else
                f" The correlation is held at {'its fitted value' if corr is None else corr}, so this is a slice "
                "through a three-parameter criterion.")
        caption = ("Contours of the REML criterion over the two relative SDs, drawn as √(criterion − minimum) so the "
                   "rings are evenly spaced. Star: the minimum (the fitted model); purple dot: your choice." + held)
    ui.show(fig, caption, key="criterion")

    m1, m2, m3 = st.columns(3)
    above = at.objective - fit.objective
    if above < 5e-4:
        m1.metric("REML criterion at your θ", f"{at.objective:.3f}", delta="the minimum", delta_color="off",
                  delta_arrow="off")
    else:
        m1.metric("REML criterion at your θ", f"{at.objective:.3f}", delta=f"{above:+.3f} vs best",
                  delta_color="inverse")
    sigma_change = at.sigma - fit.sigma
    m2.metric("Residual SD σ̂(θ)", fmt(at.sigma),
              delta=f"{sigma_change:+.3g} vs fitted" if abs(sigma_change) > 1e-9 * fit.sigma else "as fitted",
              delta_color="off", delta_arrow="auto" if abs(sigma_change) > 1e-9 * fit.sigma else "off")
    sds = ", ".join(f"{s:.3g}" for vc in at.varcorr for s in vc.sd)
    m3.metric(f"SD between {gs} (θ × σ̂)", sds)
    fe = pd.DataFrame({"At your θ": at.fixef, "At the fitted θ": fit.fixef})
    fe["Change"] = fe["At your θ"] - fe["At the fitted θ"]
    fe_change = float(fe["Change"].abs().max())
    at_best = bool(np.allclose(theta, fit.theta, rtol=1e-9, atol=1e-12))
    balanced_now = anatomy.balance_comparison(fit).balanced
    if at_best:
        st.markdown("**Fixed effects** at your θ and at the fitted θ: move a slider above to see whether they change.")
    elif fe_change <= 1e-8 * (1 + float(fe["At the fitted θ"].abs().max())):
        st.markdown(
            f"**Fixed effects** do not change with θ here (largest change {fe_change:.1e}, rounding): the data are "
            f"balanced (every {g} observed at the same values), and then the fixed effects equal those of one ordinary "
            "regression for *every* θ (screen 5, 'Balanced data'). Make the data unbalanced to see them move with θ:")
    else:
        st.markdown(f"**Fixed effects** change with θ too (by up to {fe_change:.3g}): they are estimated together with the "
                    "random effects, and θ decides how much each group's data count.")
    show_table(fe, tiny=("Change",))
    if balanced_now and not at_best:
        if st.toggle(f"Make the data unbalanced here (every second {g} keeps only its first 40% of rows)",
                     key="unbalanced_fe", bind=ui.URL):
            ufit, _thinned = unbalanced(KEY, MODEL, _frame=ui.frame(choice), _info=info)
            uat = anatomy.fit_at_theta(ufit, theta)
            ufe = pd.DataFrame({"At your θ": uat.fixef, "At the fitted θ": ufit.fixef})
            ufe["Change"] = ufe["At your θ"] - ufe["At the fitted θ"]
            st.markdown(f"Unbalanced data ({ufit.model.n} rows), θ as above: the fixed effects now move with θ, by up to "
                        f"**{float(ufe['Change'].abs().max()):.3g}**.")
            show_table(ufe, tiny=("Change",))
    modes = []
    for name_group, table in at.ranef.items():
        best_table = fit.ranef[name_group]
        for col in table.columns:
            modes.append(pd.DataFrame({"group": table.index.astype(str), "name": col,
                                       "best": best_table[col].to_numpy(), "chosen": table[col].to_numpy()}))
    modes = pd.concat(modes, ignore_index=True)
    ui.show(figs.modes_compare(modes, theme=ui.theme(), group_label=info.group_label),
            f"Each {gp} random effect (conditional mode) at the fitted θ (hollow) and at your θ (purple). "
            "Smaller θ pulls them all towards 0 (dashed line); larger θ lets them spread out.", key="modes")


theta_section()

# -- 3. from variances to random effects -----------------------------------------------------------
page.mark(4)
st.header(f"From the variance estimates to one {gp} random effect")
ident = anatomy.shrinkage_identity(fit, selected)
if ident.kind == "intercept":
    st.markdown(
        f"""
With a random intercept only, the random effect of a {g} is its own average deviation from the
population line, multiplied by a **shrinkage factor** λ between 0 and 1. λ compares the spread between
{gs} (τ²) with the noise in the {gp} mean (σ²/n: less noise with more observations).
"""
    )
    st.latex(r"\lambda_j = \frac{\hat\tau^2}{\hat\tau^2 + \hat\sigma^2/n_j}"
             rf"= \frac{{{ident.tau2:.5g}}}{{{ident.tau2:.5g} + {ident.sigma2:.5g}/{ident.n}}} = {ident.lam:.5f}")
    st.latex(r"\hat b_j = \lambda_j\,(\bar y_j - \bar x_j'\hat\beta)"
             rf"= {ident.lam:.5f} \times ({ident.ybar:.5g} - {ident.xbar_beta:.5g}) = {ident.by_hand[0]:.6g}")
else:
    def bmatrix(a) -> str:
        a = np.atleast_2d(a)
        return r"\begin{bmatrix}" + r"\\".join(" & ".join(f"{v:.4g}" for v in r) for r in a) + r"\end{bmatrix}"

    st.markdown(
        f"""
With a random slope, or several random effects per {g}, the same idea needs matrices: the {gp} own
evidence (its cross-products S = Zⱼ'Zⱼ and Zⱼ'rⱼ, where rⱼ are its residuals from the population line)
is weighed against the spread between {gs} (Σ̂) and the noise (σ̂² = {ident.sigma2:.4g}):
"""
    )
    st.latex(r"\hat b_j = \hat\Sigma\,(\hat\sigma^2 I + S_j\hat\Sigma)^{-1} Z_j' r_j,\qquad "
             rf"\hat\Sigma = {bmatrix(ident.Sigma)},\; S_j = {bmatrix(ident.S)},\; Z_j'r_j = {bmatrix(ident.Zr.reshape(-1, 1))}")
    st.latex(rf"\hat b_j = {bmatrix(ident.by_hand.reshape(-1, 1))}")
check = pd.DataFrame({"By hand": ident.by_hand, "Engine (ranef)": ident.engine}, index=ident.names)
check["Difference"] = check["By hand"] - check["Engine (ranef)"]
show_table(check)
st.caption(f"{g.capitalize()} {ui.plain(selected)}: the formula filled in with the fitted numbers gives the engine's "
           f"conditional mode (the difference is rounding, about 1e-12).")
st.info(
    f"""
**What is "random" about a random effect?** The {gs} in the data are treated as a sample from a
population of {gs} whose effects follow a normal distribution with SD τ. The model's *parameters* are
the fixed effects, τ (and correlations) and σ. A {gp} own effect bⱼ is not a parameter: it is an
unobserved value, and b̂ⱼ is the best **prediction** of it given the data (the *conditional mode*,
also called BLUP). That is why lme4 reports conditional variances for b̂ⱼ, not standard errors.
Nothing random is drawn when the model is fitted.
"""
)


def henderson_equations(key, model, fit, g: str) -> None:
    hc = henderson(key, model, _fit=fit)
    st.markdown(
        "For given variances, β̂ and all b̂ together solve one linear system. With G = Σ̂ for every "
        f"{g} (block diagonal):"
    )
    st.latex(r"\begin{bmatrix} X'X & X'Z \\ Z'X & Z'Z + \hat\sigma^2 G^{-1} \end{bmatrix}"
             r"\begin{bmatrix}\hat\beta \\ \hat b\end{bmatrix} = \begin{bmatrix} X'y \\ Z'y\end{bmatrix}")
    st.markdown(
        f"Here that is **{hc.size} equations** ({fit.model.p} fixed effects and {hc.size - fit.model.p} random "
        f"effects). Solving them directly gives the engine's fixed effects to within {hc.beta_difference:.1e} and its "
        f"random effects to within {hc.b_difference:.1e}. The term σ̂²G⁻¹ is the penalty that pulls the b̂ towards 0; "
        "without it these would be the equations of an ordinary regression with one dummy column per group. "
        "lme4 solves the same system in a rescaled form (with Λθ, so that a zero variance causes no trouble) using a "
        "sparse Cholesky factorisation."
    )


ui.section("The general form: Henderson's mixed-model equations", "fitting_henderson", henderson_equations,
           KEY, MODEL, fit, g)

# -- 4. balanced data ------------------------------------------------------------------------------
page.mark(5)
st.header("When the fixed effects equal one ordinary regression")
make_unbalanced = st.toggle(f"Make the data unbalanced (every second {g} keeps only its first 40% of rows)",
                            key="unbalanced", bind=ui.URL)
if make_unbalanced:
    ufit, thinned = unbalanced(KEY, MODEL, _frame=ui.frame(choice), _info=info)
    comp = anatomy.balance_comparison(ufit)
    shown_thinned = ", ".join(thinned[:6]) + (" …" if len(thinned) > 6 else "")
    st.markdown(f"Refitted on {comp.n_rows} of {fit.model.n} rows ({len(thinned)} {gs} thinned: {shown_thinned}).")
else:
    comp = anatomy.balance_comparison(fit)
show_table(comp.table)
biggest = float(comp.table["Difference"].abs().max())
if comp.balanced:
    st.success(
        f"""
Every {g} here was observed at the same values of {', '.join(fit.fixed_names[1:]) or 'the predictors'}:
the data are **balanced**. Then the mixed model's fixed effects are exactly those of one ordinary
regression that ignores the {gs} (largest difference {biggest:.1e}). The random effects change the
standard errors and give each {g} its own line, but not the population line.
"""
    )
else:
    why = (f"The thinned {gs} now have fewer observations. One ordinary regression weighs every *observation* "
           f"equally, so {gs} with many rows count more. The mixed model knows that observations of one {g} "
           f"share that {gp} effect, so it weighs each {gp} information by how reliable it is: a {g} with few rows "
           f"counts for more per row than in the regression, a {g} with many rows for less.") if make_unbalanced else (
           f"The {gs} were not observed at the same values of the predictors (each {g} has its own measurements), "
           "so the mixed model weighs each group's information differently from one ordinary regression.")
    st.warning(f"**The two differ** (by up to {biggest:.3g}). {why}")

@ui.shared_cache()
def _singular_iris():
    from teaching.pooling import compare_pooling

    return compare_pooling(datasets.load("iris"), "Petal.Width", "Species", "Petal.Length", random="both")


def singular_example() -> None:
    """A real singular fit on the shrinkage map: the estimated distribution is a line, and every
    arrow ends on it (complete pooling across that line)."""
    from teaching.pooling import singular_message
    from teaching.shrinkage import ellipse_rings

    st.markdown("#### A real singular fit: iris, `Petal.Width ~ Petal.Length + (Petal.Length | Species)`")
    res = _singular_iris()
    vc = res.fit.varcorr[0]
    message = singular_message(res, "species")
    if message is None:  # the data changed: say so rather than show a wrong picture
        st.info("This fit is not singular any more.")
        return
    center = (res.population["intercept"], res.population["slope"])
    cov = tables.random_effect_covariance(res.fit)
    rings = ellipse_rings(center, cov, levels=(0.5, 0.95))
    fig = charts.shrinkage_map(res.table, population=center, ellipses=rings, theme=ui.theme(),
                               x_label="Intercept (Petal.Width at Petal.Length = 0)",
                               y_label="Slope (per unit of Petal.Length)", height=480)
    ui.show(fig, f"lme4 warns \"boundary (singular) fit\" for this model. The estimated correlation of the species' "
                 f"intercepts and slopes is {vc.corr[0, 1]:+.2f}, so the estimated distribution of species is not an "
                 "ellipse but a line (the flat grey rings), and each arrow ends on that line: across it the "
                 "species are pooled completely, along it they are pulled only partly.", key="singular_map")
    st.markdown(message.replace("(here: 3 species)", "(here: 3 species for 3 variance parameters)"))
    st.markdown("**Check yourself:** after this fit, can a species sit off the grey line? *(Answer: no. A "
                "correlation of ±1 says every species' intercept is fixed by its slope; the model has no room for a "
                "species off the line, so the arrows' endpoints line up. A simpler model, e.g. "
                "`(1 | Species) + (0 + Petal.Length | Species)`, lets them leave it.)*")


# -- 5. misreadings --------------------------------------------------------------------------------
# One screen per misreading (they were tabs at the foot of a long page).
tabs = []
for i, name in enumerate(MISREADINGS):
    page.mark(6 + i)
    if i == 0:
        st.header("Common misreadings, answered with this fit's numbers")
    box = st.container()
    box.subheader(f"5.{i + 1} {name}", anchor=False)
    tabs.append(box)
with tabs[0]:
    spread = anatomy.spread_vs_variance(fit)
    first = spread.iloc[0]
    st.markdown(
        f"""
*"The variance component is just the variance of the estimated random effects."* Not quite: every b̂ is
shrunk towards 0, so they spread **less** than {gs} really differ. For
`{first['Name']}`: the SD of the b̂ is **{first['SD of the modes']:.4g}**, the estimated SD is
**{first['Estimated SD']:.4g}**{" (here the b̂ spread *more* than the estimate: with few " + gs + " the estimate itself is rough)" if first['SD of the modes'] > first['Estimated SD'] else ""}. What is missing is roughly the average conditional variance
({first['Mean conditional variance']:.4g}), the uncertainty left in each b̂: √(mean b̂² + mean conditional
variance) = **{first['Modes + conditional variance']:.4g}**.
"""
    )
    gap = float(first['Modes + conditional variance'] - first['Estimated SD'])
    st.markdown(
        ("This fit is by REML. The identity (mean b̂² + mean conditional variance = estimated variance) is *exact* "
         "for maximum-likelihood fits: it is the point where the EM algorithm stops. REML also accounts for the "
         "uncertainty of the fixed effects, which the conditional variances lme4 reports leave out, so here the "
         f"two sides differ by {gap:+.3g} ({abs(gap) / first['Estimated SD']:.0%} of the SD)"
         + (f"; with only {info.n_groups} {gs} that part is large." if info.n_groups <= 5 else ", a small part.")
         if fit.reml else "This fit is by maximum likelihood, where the identity is exact (up to rounding)."))
    st.dataframe(spread, hide_index=True, width="stretch")
    if info.n_groups <= 3:
        st.caption(f"With only {info.n_groups} {gs} this bookkeeping is rough: the uncertainty of the fixed "
                   "effects matters too.")
with tabs[1]:
    corr_table = anatomy.correlation_vs_estimate(fit)
    if corr_table.empty:
        st.info("This model estimates no correlation between random effects. Choose a model with a correlated "
                "random intercept and slope in the sidebar to see this misreading.")
    else:
        r = corr_table.iloc[0]
        st.markdown(
            f"""
*"The correlation of the estimated random effects is the estimated correlation."* No: shrinkage pulls
intercepts and slopes in directions that depend on each {gp} data, which can create or hide a
correlation. Here the model estimates **{r['Estimated correlation']:.3f}**, while the b̂ themselves are
correlated **{r['Correlation of the modes']:.3f}**.
"""
        )
        from charts.confusions import modes_vs_estimate

        modes_frame = fit.ranef[fit.varcorr[0].factor].iloc[:, :2]
        cov = tables.random_effect_covariance(fit)
        ui.show(modes_vs_estimate(modes_frame, cov, names=tuple(modes_frame.columns), theme=ui.theme(),
                                  group_label=info.group_label),
                f"Each {possessive(g)} two random effects (purple diamonds) with two 95% ellipses: solid, the "
                f"distribution the model estimated (its tilt is the estimated correlation, "
                f"{r['Estimated correlation']:.2f}); dashed, the spread of the diamonds themselves (correlation "
                f"{r['Correlation of the modes']:.2f}). The dashed ellipse is smaller (shrinkage) and tilted "
                "differently: shrinkage moves each pair along the direction its own data say least about.",
                key="modes_corr")
        diff = float(r['Correlation of the modes'] - r['Estimated correlation'])
        st.markdown(f"**Check yourself:** which number would you report as the correlation between {possessive(g)} "
                    f"intercepts and slopes, and why? *(Answer: the model's {r['Estimated correlation']:.2f}; the "
                    f"modes' {r['Correlation of the modes']:.2f} is {abs(diff):.2f} "
                    f"{'higher' if diff > 0 else 'lower'} because it mixes the true correlation with the direction "
                    "of shrinkage, which depends on each group's covariate values.)*")
        st.dataframe(corr_table, hide_index=True, width="stretch")
with tabs[2]:
    zero = anatomy.zero_variance_check(fit)
    gap = float((zero.beta_at_zero - zero.ols).abs().max())
    state = (f"This fit has a variance at (almost) 0: {', '.join(zero.singular_terms)}." if zero.singular_terms
             else "No variance in this fit is 0, but you can see what 0 would mean by setting the sliders in "
                  "screen 3 (\"One criterion\") to 0.")
    st.markdown(
        f"""
*"A variance estimated at 0 is an error."* It is an answer: the data show no more spread between {gs}
than the noise alone would produce, so the model pools completely for that term. Set every variance
of this model to 0 and every b̂ becomes 0 (largest: {zero.largest_mode:.1e}) while the fixed effects become
those of one ordinary regression (largest difference {gap:.1e}). {state}
"""
    )
    st.dataframe(pd.DataFrame({"Fixed effects with all variances 0": zero.beta_at_zero, "OLS": zero.ols}),
                 width="stretch")
    singular_example()
with tabs[3]:
    st.markdown(
        f"""
*"The SD between {gs} is estimated like any other number."* It is estimated from the {gs} themselves, so
its precision depends on how many {gs} there are, not on how many observations. Below: the likelihood
profile of the random-intercept SD (model `{info.model('ri').formula}`), and its 95% interval, computed as
lme4's `confint()` does.
"""
    )
    ri = ri_choice(info)
    prof = sd_profile(KEY, compute.model_key(ri.model), _fit=ui.fit_for(ri))
    ui.show(figs.sd_profile(prof.curve, estimate=prof.estimate, lower=prof.lower, upper=prof.upper,
                            cutoff=prof.cutoff, theme=ui.theme(), x_label=f"SD of the intercepts between {ui.plural(info.group_label)}"),
            f"How much worse the fit gets (deviance above its minimum) when the SD between {gs} is held at each "
            f"value. Values below the dashed line are compatible with the data: the purple bar is the 95% interval "
            f"({fmt(prof.lower)} to {fmt(prof.upper)}), lme4's profile interval: the row {ui.code(prof.parameter)} of "
            f"`confint(fit)` in R for this model.",
            key="profile")
    rows = []
    for name in datasets.names():
        ri = ri_choice(datasets.info(name))
        p = sd_profile(compute.builtin_key(name), compute.model_key(ri.model), _fit=ui.fit_for(ri))
        rows.append({"Data set": name, "Groups": p.n_groups, "SD (ML)": p.estimate, "lower 95%": p.lower,
                     "upper 95%": p.upper, "upper ÷ lower": p.upper / p.lower if p.lower > 0 else float("inf")})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption("The same interval for the random intercept in each data set. With 3 species the upper end is "
               "several times the lower end; with 200 students the SD is pinned down closely.")

screens.keyboard_ready()  # PageUp/PageDown (or ← → before clicking) step through the screens
