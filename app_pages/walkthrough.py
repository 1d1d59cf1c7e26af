"""Guided walkthrough: the ideas in the seed material's order, one short step at a time.

Content (texts, questions, feedback) lives in ``lessons.py``, numbers in ``teaching.walkthrough_numbers``;
this page only lays out a step: its text and question on the left, its live figure and
control on the right, Back/Next (keys ← and →) on top. The path and step are in the URL
(``?path=sleepstudy&step=7``), and answers are kept in session state while the student
moves around the app. Each path uses its own data set, whatever the sidebar says.
"""
import numpy as np
import streamlit as st

import charts
import datasets
from app_shell import walkthrough_content as lessons
from app_shell import presenter
from app_shell import ui
# The cached numbers (shared by all sessions, read-only) live in a module: decorated once, not on every rerun.
from app_shell.walkthrough_cache import facts, model_fit, predictions, profile, scenario, thinned
from charts import walkthrough as wt_charts
from teaching import walkthrough_numbers as numbers
from teaching.pooling import inward_share, axis_labels, centred_population, centred_table, pull_phrase
from teaching.selection import choose_groups, observations
from teaching.shrinkage import ellipse_rings
from lmm_core import random_effect_covariance

PROGRESS = "wt_progress"  # {path: {step key: {"choice": str, "right": bool}}}; not a widget key
STEPS = "wt_steps"  # {path: step number last shown}
LAST_PATH = "wt_path"
HEIGHT = 560 if presenter.active() else 520


# -- where we are: path and step, from the URL or the session --------------------------------
def go(path_key: str, step: int) -> None:
    """Show ``step`` of a path: remember it and put it in the URL."""
    st.session_state.setdefault(STEPS, {})[path_key] = step
    st.session_state[LAST_PATH] = path_key
    st.query_params["path"] = path_key
    st.query_params["step"] = str(step)


def position() -> tuple[lessons.Path, int, str | None]:
    """The path and step to show, and a note when the URL asked for something that does not exist."""
    steps = st.session_state.setdefault(STEPS, {})
    note = None
    asked_path, asked_step = st.query_params.get("path"), st.query_params.get("step")
    if asked_path in lessons.PATHS:
        key = asked_path
    else:
        key = st.session_state.get(LAST_PATH, "sleepstudy")
        if asked_path is not None:
            note = f"There is no walkthrough called '{ui.plain(asked_path, 60)}'. The paths are: {', '.join(lessons.PATHS)}."
    path = lessons.PATHS[key]
    step = steps.get(key, 1)
    if asked_step is not None and asked_path in (None, key):
        try:
            step = int(asked_step)
        except ValueError:
            note = f"'{ui.plain(asked_step, 60)}' is not a step number; showing step {step}."
    if not 1 <= step <= len(path):
        note = note or f"This path has steps 1 to {len(path)}; showing the nearest."
        step = min(max(step, 1), len(path))
    go(key, step)
    return path, step, note


def progress(path_key: str) -> dict:
    return st.session_state.setdefault(PROGRESS, {}).setdefault(path_key, {})


def _pick_path() -> None:
    key = st.session_state.get("wt_path_pick")
    if key in lessons.PATHS:
        go(key, st.session_state.get(STEPS, {}).get(key, 1))


def _jump(path_key: str) -> None:
    step = st.session_state.get("wt_jump")
    if step:
        go(path_key, int(step))


def _record(path_key: str, step_key: str, widget: str, answer: str) -> None:
    choice = st.session_state.get(widget)
    if choice is not None:
        progress(path_key)[step_key] = {"choice": choice, "right": choice == answer}


# -- the step's question ------------------------------------------------------------------
def ask(path: lessons.Path, step: lessons.Step, facts_: dict) -> None:
    question = lessons.filled_question(step.question, facts_)
    widget = f"wt_q_{path.key}_{step.key}"
    saved = progress(path.key).get(step.key)
    if widget not in st.session_state and saved and saved["choice"] in question.options:
        st.session_state[widget] = saved["choice"]  # bring the answer back after a page switch
    st.markdown("**Check your understanding**")
    choice = st.radio(question.prompt, question.options, index=None, key=widget,
                      on_change=_record, args=(path.key, step.key, widget, question.answer))
    verdict = question.feedback(choice)
    if verdict is not None:
        right, text = verdict
        if right:
            st.success(f"**Right.** {text}", icon=":material/check_circle:")
        else:
            st.warning(f"**Not quite.** {text}", icon=":material/visibility:")


# -- the views: one control and one live figure per step -----------------------------------
def show(fig, caption: str, key: str) -> None:
    ui.show(fig, caption, key=key, screen=0.64)  # under the step's heading and control: fits one screen


def sleep_frame():
    data = datasets.load("sleepstudy")
    return data.rename(columns={"Subject": "group", "Days": "x", "Reaction": "y"})[["group", "x", "y"]]


def labels(name: str) -> dict:
    info = datasets.info(name)
    return {"x_label": info.covariate_label, "y_label": info.response_label}


def view_one_line(f: dict) -> None:
    join = st.toggle("Join each subject's points", key="wt_join")
    line = {"x": [0, 9], "y": [f["cp_intercept"], f["cp_intercept"] + 9 * f["cp_slope"]]}
    fig = wt_charts.one_line(sleep_frame(), line, connect_groups=join, theme=ui.theme(), height=HEIGHT,
                             **labels("sleepstudy"))
    show(fig, "All 180 reaction times with one least-squares line (orange, dashed). Joined up, the points of "
              "each subject form a path of their own that the line ignores.", "wt_fig_one_line")


def view_day_means(f: dict) -> None:
    points = st.toggle("Show every observation", value=True, key="wt_points")
    data = datasets.load("sleepstudy")
    means = numbers.means_by_x(data, "Reaction", "Days")
    line = {"x": [0, 9], "y": [f["cp_intercept"], f["cp_intercept"] + 9 * f["cp_slope"]]}
    fig = wt_charts.means_and_line(sleep_frame(), means, line, show_points=points, theme=ui.theme(),
                                   height=HEIGHT - 80, **labels("sleepstudy"))
    show(fig, "The mean reaction time of each day (squares, with bars of ±1 SD across subjects) and the line "
              "through the ten means.", "wt_fig_means")
    table = numbers.one_line_and_means(data, "Reaction", "Days")
    st.dataframe(table.style.format(precision=3), width="stretch")


def view_no_pooling(f: dict) -> None:
    keep = st.slider("Days each subject keeps", 2, 10, 10, key="wt_keep",
                     help="The fits use only each subject's first days; the rest are held back (hollow).")
    t = thinned("sleepstudy", keep, "both")
    shown = presenter.panels(list(dict.fromkeys(t.kept["group"].astype(str))), key="wt_no_pooling_panels")
    kept, hidden = (d[d["group"].astype(str).isin(shown)] for d in (t.kept, t.hidden))
    fig = wt_charts.facets_with_hidden(kept, hidden, t.lines, theme=ui.theme(), ncols=presenter.facet_columns(6, len(shown)),
                                       height_per_row=150, **labels("sleepstudy"))
    show(fig, f"One panel per subject. Blue dotted: the subject's own regression on its first {keep} days; "
              "orange dashed: one line for everyone. Hollow points were held back from both fits.",
         "wt_fig_no_pooling")


def facets(data_name: str, model_key: str, methods, key: str, caption: str, groups=None, ncols: int = 6,
           per_row: int = 150) -> None:
    result = ui.pooling(data_name, model_key)
    obs = observations(result)
    lines = result.lines
    every = list(dict.fromkeys(obs["group"].astype(str))) if groups is None else [str(g) for g in groups]
    groups = presenter.panels(every, key=f"{key}_panels")
    obs, lines = obs[obs["group"].astype(str).isin(groups)], lines[lines["group"].astype(str).isin(groups)]
    ncols = presenter.facet_columns(ncols, len(groups))
    fig = charts.pooling_facets(obs, lines, methods=methods, theme=ui.theme(), ncols=ncols,
                                height_per_row=per_row, **labels(data_name))
    show(fig, caption, key)


def view_random_intercept(f: dict) -> None:
    result = ui.pooling("sleepstudy", "ri")
    subject = st.selectbox("Pick a subject", result.levels, key="wt_subject")
    facets("sleepstudy", "ri", ["complete", "partial"], "wt_fig_ri",
           "Purple: the random-intercept model's line for each subject (all parallel); orange dashed: one line "
           "for everyone.")
    fit = result.fit
    own = result.table.query("group == @subject and method == 'none'")["intercept"].iloc[0]
    fixed, random = fit.fixef["(Intercept)"], fit.ranef["Subject"].loc[subject, "(Intercept)"]
    cols = [c for row in (st.columns(2), st.columns(2)) for c in row]  # 2 × 2: labels not cut at 1366 px
    cols[0].metric("Fixed intercept", f"{fixed:.2f}")
    cols[1].metric(f"Random effect of {subject}", f"{random:+.2f}")
    cols[2].metric("Its intercept (purple line)", f"{fixed + random:.2f}")
    cols[3].metric("Its own intercept (no pooling)", f"{own:.2f}",
                   help="From y ~ Days + Subject: every subject's own intercept with one slope shared by all, "
                        "the no pooling that matches a random intercept.")
    complete = result.table.query("group == @subject and method == 'complete'")["intercept"].iloc[0]
    mixed = fixed + random
    if min(complete, own) - 1e-9 <= mixed <= max(complete, own) + 1e-9:
        share = (own - mixed) / (own - complete) if own != complete else 0.0
        st.caption(f"Subject {subject}: the mixed model's {mixed:.2f} lies between one line for all "
                   f"({complete:.2f}) and its own intercept ({own:.2f}): pulled {share:.0%} of the way from its "
                   "own intercept towards the fixed one.")
    else:
        st.caption(f"Subject {subject}: the mixed model's {mixed:.2f} is not between {complete:.2f} and {own:.2f}: "
                   "in unbalanced data the shared slope is estimated a little differently by each method.")


def view_random_slope(f: dict) -> None:
    methods = st.pills("Lines to show", ["complete", "none", "partial"], default=["complete", "partial"],
                       selection_mode="multi", key="wt_lines_rs",
                       format_func=lambda m: charts.METHOD_STYLE[m]["name"])
    facets("sleepstudy", "rs_only", methods or [], "wt_fig_rs",
           "Purple: the random-slope model's line for each subject, all starting from the same point on day 0. "
           "Blue dotted: no pooling for this model (one shared start, each subject's own slope); orange dashed: "
           "one line for everyone.")


def view_both(f: dict) -> None:
    which = st.radio("Correlation of intercepts and slopes", ["estimated", "fixed at zero"], horizontal=True,
                     key="wt_corr")
    model = "rs" if which == "estimated" else "rs_uncorr"
    facets("sleepstudy", model, ["complete", "partial"], "wt_fig_both",
           f"Purple: each subject's line from the model with random intercepts and slopes ({which} correlation); "
           "orange dashed: one line for everyone.")


def map_view(data_name: str, model_key: str, label: str, slope_label: str, key: str, group_word: str) -> None:
    result = ui.pooling(data_name, model_key)
    selected = st.selectbox(f"Pick a {group_word}", result.levels, key=f"wt_pick_{data_name}")
    center = (result.population["intercept"], result.population["slope"])
    rings = ellipse_rings(center, random_effect_covariance(result.fit), levels=(0.5, 0.8, 0.95))
    fig = charts.shrinkage_map(result.table, population=center, ellipses=rings, theme=ui.theme(), selected=selected,
                               x_label=f"Intercept ({label})", y_label=f"Slope ({slope_label})",
                               height=HEIGHT)
    row = result.table.query("group == @selected and method == 'partial'").iloc[0]
    pulls = "; ".join(pull_phrase(row[f"pull_{c}"], c, f"the fixed {c}") for c in ("intercept", "slope"))
    inward = inward_share(result)
    odd = any(not (-0.005 <= row[f"pull_{c}"] <= 1.005) for c in ("intercept", "slope") if np.isfinite(row[f"pull_{c}"]))
    show(fig, f"One arrow per {group_word}: from its own regression (blue) to the mixed model (purple). Star: "
              f"fixed effects; rings: 50/80/95% of {ui.plural(group_word)} under the model. {inward:.0%} of the arrows "
              f"end on a smaller ring than they start. {group_word.capitalize()} {selected}: {pulls}."
              + (" The pair is pulled inwards together, so one coordinate can overshoot or move outwards." if odd else ""),
         key)


def view_map(f: dict) -> None:
    map_view("sleepstudy", "rs", "ms on day 0", "ms per day", "wt_fig_map", "subject")


def view_strength(f: dict) -> None:
    left, right = st.columns(2)
    n = left.slider("Observations per group", 2, 20, 6, key="wt_n")
    ratio = right.select_slider("Variance between groups (× the GPA fit's)", [0.25, 0.5, 1.0, 2.0, 4.0], value=1.0,
                                key="wt_ratio")
    sc = scenario(n, ratio)
    s = sc.settings
    center = (sc.result.population["intercept"], sc.result.population["slope"])
    est = random_effect_covariance(sc.result.fit)
    rings = ellipse_rings(center, est, levels=(0.5, 0.95))
    truth = ellipse_rings((s.fixed_intercept, s.fixed_slope), s.covariance, levels=(0.95,))
    fig = charts.shrinkage_map(sc.result.table, population=center, ellipses=rings, true_ellipses=truth,
                               theme=ui.theme(), x_label="Intercept", y_label="Slope", height=HEIGHT - 60)
    show(fig, f"40 simulated groups with {n} observations each. Arrows: from each group's own line (blue) to the "
              "mixed model's (purple); green dotted ring: where 95% of the true groups lie.", "wt_fig_strength")
    w = sc.own_weight
    cols = st.columns(2)
    cols[0].metric("Weight on own data: intercepts", f"{w.iloc[0]:.2f}",
                   help="1 = no shrinkage, 0 = pulled all the way.")
    cols[1].metric("Weight on own data: slopes", f"{w.iloc[1]:.2f}")


def view_predictions(f: dict) -> None:
    keep = st.slider(f"Days subject {numbers.PREDICTION_SUBJECT} has in its partly observed version", 1, 9, 3,
                     key="wt_pred_keep")
    p = predictions(keep)
    fig = wt_charts.three_predictions(p.curves, p.observed, p.shown, theme=ui.theme(), height=HEIGHT,
                                      **labels("sleepstudy"))
    show(fig, f"Subject {numbers.PREDICTION_SUBJECT} predicted three ways, each with a 95% band for a new "
              f"measurement: with all its data (purple), from its first {keep} day(s) only (green), and as a new "
              "subject (light blue, fixed effects only).", "wt_fig_predictions")


def estimation_view(data_name: str, group_word: str, step: float, y_top: float, key: str) -> None:
    prof = profile(data_name)
    top = float(prof.curve["theta"].max())
    theta = st.slider("θ (between-group SD ÷ residual SD)", 0.0, top, round(prof.best / step) * step, step,
                      key=f"wt_theta_{data_name}")
    table = numbers.intercepts_at_theta(prof, theta)
    fig = wt_charts.criterion_and_intercepts(prof.curve, theta=theta, best=prof.best, plausible=prof.plausible,
                                             intercepts=table, theme=ui.theme(), group_label=group_word,
                                             height=HEIGHT, y_top=y_top)
    show(fig, f"Left: how much higher the REML criterion is at each θ than at the fitted θ = {prof.best:.2f} (star); "
              "the shaded band holds the θ values less than 3.84 above it (dotted line). "
              f"Right: the own intercept of each {group_word} (blue) and the mixed model's at θ = {theta:.2f} "
              "(purple); dashed: the fixed intercept at that θ.", key)
    cols = st.columns(3)
    cols[0].metric("Fixed intercept at this θ", f"{table['fixed'].iloc[0]:.4g}")
    cols[1].metric("Residual SD", f"{table['sigma'].iloc[0]:.4g}")
    cols[2].metric(f"SD between {ui.plural(group_word)}", f"{table['sd_between'].iloc[0]:.4g}")


def view_estimation(f: dict) -> None:
    estimation_view("sleepstudy", "subject", 0.05, 30.0, "wt_fig_estimation")


def view_gpa_facets(f: dict) -> None:
    how = st.radio("Which students", ["moved most", "random"], horizontal=True, key="wt_gpa_subset")
    result = ui.pooling("gpa", "rs")
    groups = choose_groups(result, how=how.split()[0], count=12, seed=3)
    facets("gpa", "rs", ["complete", "partial"], "wt_fig_gpa_facets",
           "Twelve students: their grades, the mixed model's line for each (purple) and one line for everyone "
           "(orange dashed).", groups=groups, ncols=6, per_row=170)


def view_gpa_lines(f: dict) -> None:
    which = st.radio("Lines", ["own regressions", "mixed model"], horizontal=True, key="wt_gpa_method")
    method = "none" if which == "own regressions" else "partial"
    result = ui.pooling("gpa", "rs")
    rows = result.table[(result.table["method"] == method) & result.table["estimable"]]
    fig = wt_charts.all_lines(rows, (result.population["intercept"], result.population["slope"]), (0, 5),
                              method=method, theme=ui.theme(), height=HEIGHT, group_word="student",
                              **labels("gpa"))
    falling = int((rows["slope"] < 0).sum())
    show(fig, f"All 200 students' lines ({which}); the {falling} falling ones are drawn stronger. "
              f"{charts.colour_word(ui.theme()).capitalize()}: the fixed effects.",
         "wt_fig_gpa_lines")


def view_gpa_distributions(f: dict) -> None:
    # From 3 up: with 2 semesters every student has 2 observations for 2 random effects (intercept and
    # slope), more random effects than the data can support, and no mixed model with both can be fitted.
    keep = st.slider("Semesters kept per student", 3, 6, 6, key="wt_gpa_keep",
                     help="At least 3: with 2 semesters a student has as many observations as random effects "
                          "(intercept and slope), and the mixed model cannot separate them from the noise.")
    t = thinned("gpa", keep, "both")
    values = numbers.coefficient_values(t.result)
    fig = charts.coefficient_distributions(values, theme=ui.theme(), height=HEIGHT - 80,
                                           labels={"intercept": "Intercept (GPA, first semester)",
                                                   "slope": "Slope (GPA per semester)"})
    show(fig, f"Distributions of the 200 students' intercepts and slopes from their first {keep} semesters: "
              "separate regressions (blue) and the mixed model (purple).", "wt_fig_gpa_dist")


def view_gpa_map(f: dict) -> None:
    map_view("gpa", "rs", "GPA in the first semester", "GPA points per semester", "wt_fig_gpa_map", "student")


def view_iris_facets(f: dict) -> None:
    methods = st.pills("Lines to show", ["complete", "none", "partial"], default=["complete", "none", "partial"],
                       selection_mode="multi", key="wt_lines_iris",
                       format_func=lambda m: charts.METHOD_STYLE[m]["name"])
    facets("iris", "rs", methods or [], "wt_fig_iris",
           "One panel per species: petal width against sepal length (sepal width at its mean), with the three "
           f"fits. Weight on each species' own data: {f['w0']:.2f} for intercepts, {f['w1']:.2f} for slopes "
           "(1 = no shrinkage).", ncols=3, per_row=360)


def view_iris_by_hand(f: dict) -> None:
    fit = model_fit("iris", "both")
    species = st.selectbox("Pick a species", list(fit.coef["Species"].index.astype(str)), key="wt_species")
    st.dataframe(numbers.by_hand_rows(fit, species).style.format(precision=4), width="stretch")
    st.caption(f"{species}: each coefficient is the fixed effect plus the species' random effect; the last two "
               "columns agree to every digit.")
    result = ui.pooling("iris", "rs")
    pop = centred_population(result)
    center = (pop["intercept"], pop["slope"])
    x_label, y_label = axis_labels(result, True, "Petal.Width")
    fig = charts.shrinkage_map(centred_table(result), population=center, theme=ui.theme(), selected=species,
                               x_label=x_label, y_label=y_label, height=HEIGHT - 120)
    show(fig, "The three species' own estimates (blue) and the mixed model's (purple), with the fixed effects (star). "
              "Intercepts are read at the mean sepal length (the table above has lme4's, at sepal length 0).",
         "wt_fig_iris_map")


def view_iris_estimation(f: dict) -> None:
    estimation_view("iris", "species", 0.25, 10.0, "wt_fig_iris_estimation")


VIEWS = {name[5:]: fn for name, fn in globals().items() if name.startswith("view_")}


# -- the page -------------------------------------------------------------------------------
path, number, note = position()
step = path.steps[number - 1]
facts_ = facts(path.key)
answers = progress(path.key)

if not presenter.active():
    st.title("Guided walkthrough")
    st.caption("Each path brings its own data, so the sidebar's choice does not apply here. Keys ← and → move "
               "between steps; your answers are kept while you visit other pages.")
if note:
    st.info(note)

# The step buttons get the room they need at 1366 px (ten steps, some with a ✓).
paths_col, steps_col, score_col = st.columns([3, 6, 1.6], vertical_alignment="center")
with paths_col:
    st.session_state["wt_path_pick"] = path.key
    st.segmented_control("Path", list(lessons.PATHS), key="wt_path_pick", on_change=_pick_path,
                         format_func=lambda k: lessons.PATHS[k].short, label_visibility="collapsed",
                         help="Each path uses its own data set.")
with steps_col:
    st.session_state["wt_jump"] = number
    st.segmented_control(
        "Step", list(range(1, len(path) + 1)), key="wt_jump", on_change=_jump, args=(path.key,),
        format_func=lambda i: f"{i} ✓" if answers.get(path.steps[i - 1].key, {}).get("right") else str(i),
        label_visibility="collapsed", help="Jump to a step; ✓ marks a question answered right.",
    )
with score_col:
    asked = [s for s in path.steps if s.question]
    right = sum(1 for s in asked if answers.get(s.key, {}).get("right"))
    st.markdown(f"**{right} of {len(asked)}** questions right")

back, title, forward = st.columns([1, 8, 1], vertical_alignment="center")
back.button("Back", key="wt_back", on_click=go, args=(path.key, number - 1), disabled=number == 1,
            shortcut="Left", width="stretch")
title.subheader(f"Step {number} of {len(path)} · {step.title}", anchor=False, help=path.title)
forward.button("Next", key="wt_next", on_click=go, args=(path.key, number + 1), disabled=number == len(path),
               shortcut="Right", type="primary", width="stretch")

text_col, figure_col = st.columns([2, 3], gap="large")
with text_col:
    st.markdown(lessons.fill(step.text, facts_))
    if step.look_for:
        st.markdown(f":material/visibility: **Look for:** {step.look_for}")
    if step.formula:
        ui.section("The model as a formula", "walkthrough_formula", st.latex, step.formula)
    if step.question:
        ask(path, step, facts_)
with figure_col:
    VIEWS[step.view](facts_)

if number == len(path):
    st.markdown(":material/flag: **That is the end of this path.** Try another path above, or the exercises.")
    st.page_link("app_pages/exercises.py", label="Go to the exercises", icon=":material/assignment:")

presenter.keyboard_ready()  # ← and → work as soon as the page has loaded
