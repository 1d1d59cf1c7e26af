"""Exercises from the seed material, each with a worked answer the app computes when asked.

Numbers come from ``teaching.walkthrough_numbers``; this page lays out the tasks, a switch to reveal each
answer (remembered while the student visits other pages) and the answer's tables.
"""
import streamlit as st

import datasets
from app_shell import presenter
from app_shell import ui
from charts import walkthrough as wt_charts
from teaching import walkthrough_numbers as numbers
from lmm_core import tables

SLEEP_SLOPES = numbers.FORMULAS["sleepstudy"]["both"]


@ui.shared_cache()
def sleep_fit():
    from lmm_core import lmer

    return lmer(SLEEP_SLOPES, datasets.load("sleepstudy"))


@ui.shared_cache(max_entries=32)
def simulated(seed: int, correlation: float):
    return numbers.simulated_aic_comparison(seed, correlation)


def reveal(key: str) -> bool:
    return st.toggle("Show the worked answer", key=key, persist_state="session",
                     help="Try it yourself first (in R or on the 'Your model' page), then compare.")


def correlation_words(r: float) -> str:
    size = "almost no" if abs(r) < 0.2 else "a weak" if abs(r) < 0.5 else "a clear"
    direction = ("subjects who start slower also tend to slow down faster" if r > 0
                 else "subjects who start slower tend to slow down less")
    return f"{size} link: {direction}" if abs(r) >= 0.2 else f"{size} link between a subject's start and its slope"


st.title("Exercises")
st.markdown(
    "Three exercises from the course material. Work each out first (in R with lme4, or on the "
    "*Your model* page), then switch on its worked answer: the app computes it live with the same "
    "engine as everywhere else."
)

# -- 1 -------------------------------------------------------------------------------------
st.header("1. The sleep study with a random slope", anchor="sleep-slope")
st.markdown(
    f"Fit `{SLEEP_SLOPES}` to the sleep study. What are the fixed effects and the variance components? "
    "What is the correlation between the random intercepts and the random slopes, and what does it mean? "
    "Look at `ranef()` and `coef()`: what do they show?"
)
if reveal("ex_answer_1"):
    fit = sleep_fit()
    vc = fit.varcorr[0]
    corr = float(vc.corr[0, 1])
    left, right = st.columns(2)
    with left:
        st.markdown("**Fixed effects**")
        st.dataframe(tables.fixed_effects_table(fit).style.format(precision=3), width="stretch")
    with right:
        st.markdown("**Variance components**")
        st.dataframe(tables.variance_table(fit).style.format(precision=3, subset=["Variance", "Std.Dev.",
                                                                                   "Share of variance"]),
                     hide_index=True, width="stretch")
    st.markdown(
        f"On day 0 reaction times average **{fit.fixef.iloc[0]:.1f} ms** and rise by **{fit.fixef.iloc[1]:.2f} ms** "
        f"per day. Subjects' starting levels vary with an SD of {vc.sd[0]:.1f} ms and their daily slowing with an "
        f"SD of {vc.sd[1]:.2f} ms/day, against a residual SD of {fit.sigma:.1f} ms.\n\n"
        f"The correlation of the random intercepts and slopes is **{corr:.2f}**: {correlation_words(corr)}."
    )
    st.markdown(
        "`ranef()` gives each subject's **deviations** from the fixed effects (they centre on zero); `coef()` "
        "gives each subject's own intercept and slope, the fixed effects plus those deviations."
    )
    modes, coefs = st.columns(2)
    modes.dataframe(fit.ranef["Subject"].style.format(precision=3), width="stretch")
    coefs.dataframe(fit.coef["Subject"].style.format(precision=3), width="stretch")

# -- 2 -------------------------------------------------------------------------------------
st.header("2. Fixed plus random, row by row", anchor="fixed-plus-random")
st.markdown(
    "With the model from exercise 1, add the fixed effects to every row of the random effects. In R, "
    "for example: `sweep(as.matrix(ranef(model)$Subject), 2, fixef(model), \"+\")`. "
    "Compare the result with `coef(model)$Subject`. What do you find?"
)
if reveal("ex_answer_2"):
    table = numbers.fixef_plus_ranef(sleep_fit())
    worst = float(table["largest difference"].max())
    st.dataframe(table.style.format(precision=4, subset=[c for c in table.columns if c != "largest difference"])
                 .format("{:.1e}", subset=["largest difference"]), width="stretch")
    st.markdown(
        f"The two are the same table: the largest difference over all subjects is {worst:.2g}, zero up to "
        "rounding. That is what `coef()` is: fixed effects plus each group's random effects. It is also why a "
        "random effect is not the group's own estimate: it is the (shrunk) distance from the fixed effect."
    )

# -- 3 -------------------------------------------------------------------------------------
st.header("3. Simulate random slopes, then choose by AIC", anchor="simulate-aic")
st.markdown(
    "Simulate 50 groups with 3 observations each: x from a standard normal, intercepts 2 + a normal deviation "
    "with SD 0.75, slopes 0.5 + a normal deviation with SD 0.25, and residual SD 0.25. Fit a random-intercept "
    "model, a model with uncorrelated random intercepts and slopes, and one with correlated ones. Compare "
    "their AIC: which model would you choose?"
)
seed_col, corr_col = st.columns(2)
seed = seed_col.number_input("Random seed", min_value=1, max_value=999_999, value=1234, step=1, key="ex_seed",
                             help="Another seed gives another simulated data set.")
true_corr = corr_col.slider("True correlation of intercepts and slopes", -0.9, 0.9, 0.0, 0.1, key="ex_corr",
                            help="The exercise uses 0. Raise it to see when the correlated model wins.")
if reveal("ex_answer_3"):
    comparison = simulated(int(seed), float(true_corr))
    st.dataframe(comparison.table.style.format(precision=2, subset=["REML criterion", "AIC", "Δ AIC"]),
                 width="stretch")
    st.markdown(numbers.aic_verdict(comparison))
    correlated = comparison.fits["Random slope, correlated"].varcorr[0]
    st.caption(
        f"The correlated model estimates the correlation as {correlated.corr[0, 1]:.2f} (truth: {true_corr:.1f}). "
        "AIC here is computed from the REML fits, as R's AIC() does for lmer models; that is fine because all "
        "three have the same fixed effects. R's random numbers differ from the app's, so R gives other values "
        "for the same seed."
    )
    data = comparison.data
    line = {"x": [data["x"].min(), data["x"].max()]}
    fixed = comparison.fits[comparison.best].fixef
    line["y"] = [fixed.iloc[0] + fixed.iloc[1] * v for v in line["x"]]
    fig = wt_charts.one_line(data, line, connect_groups=True, theme=ui.theme(), x_label="x", y_label="y",
                             height=460)
    fig.data[-1].name = "Fixed effects of the chosen model"
    ui.show(fig, "The simulated data: 150 points in 50 groups of 3 (each group's points joined), "
            "with the chosen model's fixed-effects line.", key="ex_fig_sim")
