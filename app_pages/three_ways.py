"""Three ways to pool: each group's own line, one line for all, and the mixed model's compromise."""

import streamlit as st

import charts
from app_shell import derived, presenter
from app_shell import ui
from teaching.pooling import (centre_by_default, centring_help, centring_label, covariate_mean, no_pooling_meaning,
                              possessive, singular_message, varying_names)
from teaching.selection import choose_groups, observations

choice = ui.current()
info = choice.data
result = ui.pooling_for(choice)

st.title("Three ways to pool")
g = ui.plain(info.group_label)  # for text; figures get info's own
colour = {m: charts.METHOD_STYLE[m]["colour"] for m in charts.METHOD_STYLE}
varies = " and ".join(varying_names(result))
st.markdown(
    f"""
The {ui.plain(info.name)} data come in groups ({info.n_groups} {ui.plural(g)}). There are three
ways to draw a line through the points of each {g}:

- **Complete pooling** ({colour["complete"]}, dashed) ignores the groups: one regression through all
  the points, the same line in every panel.
- **No pooling** ({colour["none"]}, dotted) gives every {g} its own {varies}, as if the others did
  not exist.
- **Partial pooling** ({colour["partial"]}, solid) is the mixed model: each {g} keeps its own
  {varies}, but pulled towards the population value. The less a {possessive(g)} own data say, the
  stronger the pull.

{no_pooling_meaning(result.random, result.data.covariate, g, result.data.extra_names, result.data.response, result.data.group)}
The same definition is used on every page of the app.

**Look for** the panels where the {colour["none"]} line is extreme: the {colour["partial"]} line is pulled
back from it. That move is *shrinkage*.
"""
)
singular = singular_message(result, g)
if singular:
    st.warning(singular, icon=":material/warning:")
centred = False
if result.data.x is not None and "intercept" in varying_names(result):
    centred = st.toggle(centring_label(ui.plain(info.covariate), covariate_mean(result)),
                        value=centre_by_default(result), key="centred", bind=ui.URL,
                        help=centring_help(ui.plain(info.covariate)))

METHOD_LABELS = {"complete": "Complete pooling", "none": "No pooling", "partial": "Partial pooling"}
methods = st.pills(
    "Lines to show", list(METHOD_LABELS), default=list(METHOD_LABELS), selection_mode="multi",
    format_func=METHOD_LABELS.get, key="lines", bind=ui.URL,
)
groups = list(result.group_sizes.index)
shown = groups
if len(groups) > 24:
    left, mid, right = st.columns([2, 2, 3])
    with left:
        how = st.radio(
            f"Which {ui.plain(info.group_label)}s to show", ["moved most", "random", "picked"], horizontal=True,
            key="subset", bind=ui.URL,
            help=f"{len(groups)} {ui.plain(info.group_label)}s are too many panels; show a few.",
        )
    with mid:
        count = st.slider("How many panels", 4, 24, 12, key="panels", bind=ui.URL)
    picked = []
    with right:
        if how == "picked":
            picked = st.multiselect(f"Pick {ui.plain(info.group_label)}s", groups, default=groups[:6], key="picked",
                                    bind=ui.URL)
    shown = choose_groups(result, how=how.split()[0], count=count, picked=picked, seed=1)

shown = presenter.panels(shown, key="panel_page", label=f"{info.group_label.capitalize()}s shown")
all_obs = observations(result)
obs = all_obs[all_obs["group"].isin(shown)]
lines = result.lines[result.lines["group"].isin(shown)]
fig = charts.pooling_facets(
    obs, lines, methods=methods or [], theme=ui.theme(), x_label=info.covariate_label,
    y_label=info.response_label, ncols=presenter.facet_columns(6, len(shown)),
    mark_x=covariate_mean(result) if centred else None,
)
note = ""
if result.held_at_mean:
    held = ", ".join(f"{k} = {v:.3g}" for k, v in result.held_at_mean.items())
    note = f" Lines hold {held} at its mean."
ui.show(
    fig,
    f"One panel per {ui.plain(info.group_label)}: the points are the observations of {ui.plain(info.response_label)} against "
    f"{ui.plain(info.covariate_label)}; the lines are the three fits"
    + (f" (markers: each line's value at {ui.plain(info.covariate)} = {covariate_mean(result):.3g}, its mean, where the "
       "intercepts are compared)" if centred else "")
    + f". {derived.between_sentence(choice, g, centred)}{note}",
    key="facets",
)


def model_numbers(choice: ui.Choice, formula: str) -> None:
    fixed_table, variance_table, summary = derived.model_printout(choice)  # cached with the fit
    st.markdown(f"Model: {ui.code(formula)}, fitted by REML.")
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Fixed effects** (the population's coefficients)")
        st.dataframe(fixed_table, hide_index=False)
    with c2:
        st.markdown("**Variance components** (how much groups differ, and the noise)")
        st.dataframe(variance_table, hide_index=True)
    ui.printout(summary, key="summary")


ui.section("The model's numbers (what lme4 would print)", "three_ways_numbers", model_numbers, choice, result.formula)
