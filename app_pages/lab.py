"""Shrinkage lab: simulate groups with a known truth, move a slider, watch the estimates move."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa
import streamlit as st

import charts
from app_shell import ui
from teaching import lab
from teaching.pooling import axis_labels, centring_help, centring_label
from teaching.simulate import PRESETS, SimulationSettings

CUSTOM = "Your own settings"
BALANCE = {"Equal group sizes": "equal", "Unbalanced sizes": "unbalanced", "Dropout over time": "dropout"}


def _grid(top: float, step: float, extra=()) -> list[float]:
    """Slider stops: a regular grid plus the presets' exact values (e.g. the GPA fit's 0.213)."""
    n = int(round(top / step))
    return sorted({round(i * step, 4) for i in range(n + 1)} | {float(v) for v in extra})


def _preset_values(field: str) -> list[float]:
    return [getattr(s, field) for s in PRESETS.values()]


# Widget key -> (settings field, label, help). Every key is bound to the URL.
SLIDERS = {
    "groups": ("n_groups", "Number of groups", "How many students (groups) are simulated."),
    "per_group": ("n_per_group", "Observations per group",
                  "Measurements per group (for dropout: the planned number of occasions)."),
    "sd_int": ("sd_intercept", "SD of intercepts between groups", "How different the groups' starting points are."),
    "sd_slope": ("sd_slope", "SD of slopes between groups", "How different the groups' trends are."),
    "corr": ("correlation", "Correlation of intercepts and slopes",
             "Do groups that start high also rise faster (positive) or slower (negative)?"),
    "sd_resid": ("sd_residual", "Residual SD (noise)", "How far single measurements scatter around a group's line."),
}
GRIDS = {
    "sd_int": _grid(1.0, 0.025, _preset_values("sd_intercept")),
    "sd_slope": _grid(0.3, 0.005, _preset_values("sd_slope")),
    "corr": [round(-0.9 + 0.1 * i, 1) for i in range(19)],
    "sd_resid": _grid(1.0, 0.025, _preset_values("sd_residual"))[1:],  # noise must be > 0
}


def _apply(settings: SimulationSettings) -> None:
    for key, (field, *_rest) in SLIDERS.items():
        st.session_state[key] = getattr(settings, field)
    st.session_state["balance"] = next(k for k, v in BALANCE.items() if v == settings.balance)


def _on_preset() -> None:
    name = st.session_state.get("preset")
    if name in PRESETS:
        _apply(PRESETS[name])


def _on_setting() -> None:
    st.session_state["preset"] = CUSTOM


def _new_sample() -> None:
    st.session_state["seed"] = int(st.session_state.get("seed", 1)) % 9999 + 1


def _initial_state() -> None:
    """Widgets not set by the URL start from the preset named in the URL (default: the GPA fit)."""
    preset = st.query_params.get("preset")
    base = PRESETS.get(preset, PRESETS["As fitted (GPA)"])
    for key, (field, *_rest) in SLIDERS.items():
        if key not in st.session_state and key not in st.query_params:
            st.session_state[key] = getattr(base, field)
    if "balance" not in st.session_state and "balance" not in st.query_params:
        st.session_state["balance"] = next(k for k, v in BALANCE.items() if v == base.balance)
    if "seed" not in st.session_state and "seed" not in st.query_params:
        st.session_state["seed"] = base.seed


def controls() -> SimulationSettings:
    names = list(PRESETS) + [CUSTOM]
    preset = st.selectbox("Start from a setting of the GPA example", names, key="preset", bind=ui.URL,
                          on_change=_on_preset, help="Each preset changes several sliders at once.")
    st.slider(SLIDERS["groups"][1], 2, 500, key="groups", bind=ui.URL, on_change=_on_setting,
              help=SLIDERS["groups"][2])
    st.slider(SLIDERS["per_group"][1], 1, 30, key="per_group", bind=ui.URL, on_change=_on_setting,
              help=SLIDERS["per_group"][2])
    for key in ("sd_int", "sd_slope", "corr", "sd_resid"):
        _field, label, help_text = SLIDERS[key]
        st.select_slider(label, GRIDS[key], key=key, bind=ui.URL, on_change=_on_setting, help=help_text)
    st.radio("Group sizes", list(BALANCE), key="balance", bind=ui.URL, on_change=_on_setting,
             help="Unbalanced: sizes vary around the chosen number (some groups have a single observation). "
                  "Dropout: everyone starts, and groups leave at a random occasion.")
    st.number_input("Seed", 1, 9999, key="seed", bind=ui.URL, help="The same seed gives the same sample.")
    st.button("New sample", on_click=_new_sample, icon=":material/casino:", width="stretch",
              help="Draw new data with the same settings.")
    base = PRESETS.get(preset, PRESETS["As fitted (GPA)"])
    values = {field: st.session_state[key] for key, (field, *_r) in SLIDERS.items()}
    return replace(base, **values, balance=BALANCE[st.session_state["balance"]],
                   seed=int(st.session_state["seed"]),
                   max_per_group=base.max_per_group if preset in PRESETS else None)


# Settings are keyed by their repr (exact: ints, floats, text): Streamlit hashes a dataclass through
# dataclasses.asdict, a quarter of a millisecond per call on every slider move.
SETTINGS_KEY = {SimulationSettings: repr}


@ui.shared_cache(max_entries=256, hash_funcs=SETTINGS_KEY)
def run(settings: SimulationSettings, _start=None) -> lab.LabView:
    """Shared by all sessions: a lecture hall moving the same slider computes each view once."""
    return lab.simulated_lab(settings, start=_start)


@ui.shared_cache(max_entries=256, hash_funcs=SETTINGS_KEY)
def map_figure(settings: SimulationSettings, theme: str, centred: bool = False, _view=None, _centred=None):
    """The shrinkage map (None without a mixed model). Made, and sent, before the distributions:
    the map is the figure a slider move is watched on."""
    view = _view if _view is not None else run(settings)  # the caller's view of these settings
    if view.result is None:
        return None
    c = _centred_view(view, settings, centred, _centred)
    x_label, _ = axis_labels(None, c is not None, "y", "occasion", xbar=c.xbar if c else None)
    pop = c.population if c else view.result.population
    return charts.shrinkage_map(  # tables as their columns: cheaper to build and to read
        c.table if c else view.result.columns, population=(pop["intercept"], pop["slope"]),
        ellipses=c.estimated_rings if c else lab.estimated_rings(view.result),
        truth=c.truth if c else lab.truth_columns(view.sim),
        true_ellipses=c.true_rings if c else lab.true_rings(settings), theme=theme,
        x_label=x_label, y_label="Slope (per occasion)", height=640, webgl=True)


@ui.shared_cache(max_entries=256, hash_funcs=SETTINGS_KEY)
def distributions_figure(settings: SimulationSettings, theme: str, centred: bool = False, _view=None,
                         _centred=None):
    view = _view if _view is not None else run(settings)
    c = _centred_view(view, settings, centred, _centred)
    return charts.coefficient_distributions(c.values if c else view.coefficient_columns, theme=theme,
                                            labels={"intercept": "Intercepts" + (f" (at occasion {c.xbar:.3g})" if c else ""),
                                                    "slope": "Slopes"}, height=380)


def _centred_view(view: lab.LabView, settings: SimulationSettings, centred: bool, given=None):
    """The view read at the covariate's mean (the caller's, if it has one), or None."""
    if not centred or view.result is None:
        return None
    return given if given is not None else lab.centred_lab(view, settings)


def numbers(view: lab.LabView, centred=None) -> None:
    pull = centred.shrinkage if centred else view.shrinkage
    if centred:
        view = replace(view, error_columns=centred.errors)
    better = lab.improvement(view)

    def share(values: dict, key: str, suffix: str = "") -> str:
        if key not in values:
            return "—"
        if suffix == " smaller" and values[key] < 0:  # say "larger" rather than "−5% smaller"
            return f"{-values[key]:.0%} larger"
        return f"{values[key]:.0%}{suffix}"

    first, second = st.columns(2)
    first.metric("Mean pull: intercepts", share(pull, "intercept"),
                 help="How much of the distance from the groups' own intercepts to the average the mixed model "
                      "removes, as the arrows show it (0% = not at all, 100% = all the way; groups that start "
                      "far away count more).")
    second.metric("Mean pull: slopes", share(pull, "slope"), help="The same for the slopes.")
    first.metric("Mixed model's error, intercepts", share(better, "intercept", " smaller"),
                 help="RMSE against the true intercepts: partial pooling compared with no pooling.")
    second.metric("Mixed model's error, slopes", share(better, "slope", " smaller"),
                  help="RMSE against the true slopes: partial pooling compared with no pooling.")
    p = view.parameter_columns
    # Arrow tables built from the view's columns: Streamlit sends a DataFrame as Arrow anyway, and
    # converting one from pandas cost more than the two tables' numbers.
    params = pa.table({"Parameter": list(p["label"]), "True value": np.asarray(p["true"], float),
                       "Estimated (REML)": np.asarray(p["estimated"], float)})
    ui.table(params)
    st.caption("What the mixed model estimated, next to the values the data were drawn from.")
    e = view.error_columns
    errors = pa.table({"Method": list(e["label"]), "Error of intercepts (RMSE)": np.asarray(e["rmse_intercept"], float),
                       "Error of slopes (RMSE)": np.asarray(e["rmse_slope"], float)})
    ui.table(errors)
    n = int(e["n_groups"][0])
    verdict = []
    for coefficient, value in better.items():
        if value > 0:
            verdict.append(f"for the {coefficient}s partial pooling is {value:.0%} closer to the truth")
        else:
            verdict.append(f"for the {coefficient}s partial pooling is {-value:.0%} further from the truth in this "
                           "sample (it can happen by chance, or when the model is singular; repeat the "
                           "experiment below to see the average)")
    st.caption(f"How far each method's group coefficients are from the truth (root mean squared error over the "
               f"{n} groups whose own line could be estimated). Smaller is better: "
               + "; ".join(verdict) + ".")


def _narrower(view: lab.LabView, centred_view) -> str:
    """Which distributions are narrower, from the numbers drawn (SD per method and coefficient);
    ``centred_view`` is the view read at the covariate's mean, or None for lme4's intercepts."""
    values = centred_view.values if centred_view is not None else view.coefficient_columns
    # Masks on plain arrays: a pandas groupby here cost ~3 ms of every slider move.
    coefficient, method = values["coefficient"], values["method"]
    value = np.asarray(values["value"], dtype=float)

    def spread(c: str, m: str) -> float:
        chosen = value[(coefficient == c) & (method == m)]
        chosen = chosen[np.isfinite(chosen)]  # as pandas' std, which skips missing values
        return float(np.std(chosen, ddof=1)) if chosen.size > 1 else float("nan")

    said = []
    for c in ("intercept", "slope"):
        own, mixed = spread(c, "none"), spread(c, "partial")
        if np.isfinite(own) and np.isfinite(mixed):
            said.append(f"{c}s {mixed:.3g} against {own:.3g} ({'narrower' if mixed < own else 'not narrower'})")
    if not said:
        return ""
    narrower = all("(narrower)" in p for p in said)
    return ("SD of the mixed model's group coefficients against the own regressions': " + "; ".join(said) + "."
            + (" The mixed model's are narrower: that is shrinkage." if narrower else ""))


@ui.fragment
def lab_fragment() -> None:
    """Controls and output rerun together without rerunning the rest of the app."""
    panel, output = st.columns([1, 2.6], gap="medium")
    with panel:
        with st.container(border=True):
            settings = controls()
    view = run(settings, _start=st.session_state.get("lab_theta"))
    if view.theta is not None:
        st.session_state["lab_theta"] = view.theta
    with output:
        centred = st.toggle(centring_label("occasion", float(view.sim.x.mean())), value=False,
                            key="lab_centred", bind=ui.URL, help=centring_help("occasion"))
    centred = bool(centred and view.result is not None)
    centred_view = lab.centred_lab(view, settings) if centred else None  # read by the figures, numbers, caption
    map_fig = map_figure(settings, ui.theme(), centred, _view=view, _centred=centred_view)
    with output:
        for note in view.notes:
            if note.startswith("**Singular fit**"):
                st.warning(note, icon=":material/warning:")
            else:
                st.info(note)
        if map_fig is not None:
            ui.show(map_fig, "Shrinkage map of the simulated groups: green circles are each group's true intercept "
                             "and slope, blue dots its own estimate, purple diamonds the mixed model's estimate, with "
                             "an arrow from own to mixed. Green dotted rings: the true distribution of groups; grey "
                             "rings: the distribution the mixed model estimated (50%, 80%, 95%).", key="lab_map")
            numbers(view, centred_view)
        dist_fig = distributions_figure(settings, ui.theme(), centred, _view=view, _centred=centred_view)
        ui.show(dist_fig, "Distributions of the groups' intercepts and slopes: the truth (green), each group's own "
                          "regression (blue) and the mixed model (purple). " + _narrower(view, centred_view),
                key="lab_dist")


st.title("Shrinkage lab")
st.markdown(
    """
Here the data are **simulated**, so we know every group's *true* intercept and slope, and can
check who gets closer to it: each group's own regression (no pooling) or the mixed model
(partial pooling). Move a slider: the data are drawn again and all three ways are refitted.

**Try this:** raise *Observations per group* and watch the arrows shorten (a group's own data
are then trustworthy, so the mixed model leaves them alone); lower it to 3 and watch them grow.
Raise *SD of intercepts* and the intercepts shrink less. Set *SD of slopes* to 0 and the fit
becomes singular: the slopes are pulled all the way. Then compare the errors below, and repeat
the experiment many times at the bottom of the page to see why the pull pays off on average.
"""
)
st.caption("This page simulates its own data; the data set chosen in the sidebar applies to the other pages.")
_initial_state()
lab_fragment()


def why_shrinking_helps() -> None:
    st.markdown(
        r"""
A group's own regression is unbiased but noisy: with few observations, an extreme estimate is
more often luck than a truly extreme group. The mixed model weighs the group's own estimate
against what it has learned about all groups. For a random intercept the weight is

$$\lambda_j = \frac{\tau^2}{\tau^2 + \sigma^2 / n_j},$$

where $\tau^2$ is the variance between groups, $\sigma^2$ the residual variance and $n_j$ the
group's size. Few observations or a small $\tau^2$ make $\lambda_j$ small: a strong pull. Many
observations or a large $\tau^2$ make it close to 1: the group keeps its own estimate. The pull
trades a little bias for much less noise, which lowers the total error (the RMSE table).
With a random intercept *and* slope the weight is a 2×2 matrix, so a group can be pulled more
in one direction than in the other (arrows that do not point straight at the centre).
"""
    )


ui.section("Why does shrinking make estimates better?", "lab_why", why_shrinking_helps)


# -- repeat the experiment: bias and variance of shrinkage -----------------------------------
def repeated(settings: SimulationSettings, repeats: int, random: str, progress=None):
    """Finished runs shared by all sessions (the same settings and R give the same copies), up to
    35 MB each (500 groups, R = 200): kept within the caches' byte budget (app_shell.budget)."""
    from teaching.lab_repeat import repeat_experiment

    cache = ui.shared_dict("lab.repeated", max_entries=32)
    key = (settings, repeats, random)
    found = cache.get(key)
    if found is None:
        found = cache.put(key, repeat_experiment(settings, repeats, random=random, progress=progress))
    return found


@ui.fragment
def repeat_fragment() -> None:
    from charts import lab_repeat as repeat_charts
    from teaching.lab_repeat import MAX_REPEATS, summary

    st.subheader("Repeat this experiment many times")
    st.markdown(
        "One sample shows one set of estimates. Keep the **same groups** (their true intercepts and "
        "slopes, their sizes) and draw only new measurement noise, again and again; refit both ways each "
        "time. Then each method's estimates scatter around the truth, and we can measure their **bias** "
        "(how far they sit from the truth on average), their **variance** (how much they scatter) and "
        "the **RMSE**, which combines both: RMSE² = bias² + variance.")
    settings = _current_settings()
    view = run(settings)
    if view.result is None:
        st.info("No mixed model can be fitted to these settings, so there is nothing to repeat.")
        return
    left, mid, right = st.columns(3)
    repeats = left.slider("Repeats (R)", 10, MAX_REPEATS, 100, step=10, key="repeats",
                          help="How many noise draws of the same groups are refitted.")
    coefficient = mid.radio("Coefficient", ["slope", "intercept"], horizontal=True, key="repeat_coef")
    all_sizes = sorted(set(int(n) for n in view.result.group_sizes.to_numpy()))
    # sizes where every method has an estimate (a slope needs 2 observations of its own)
    sizes = [n for n in all_sizes if n >= (2 if coefficient == "slope" and view.random != "intercept" else 1)] \
        or all_sizes
    size = right.select_slider("Group size shown on the left", sizes, value=sizes[0], key="repeat_size") \
        if len(sizes) > 1 else sizes[0]
    clicked = st.button(f"Repeat {repeats} times with the lab's current settings", icon=":material/replay:",
                        key="repeat_run")
    wanted = (settings, repeats, view.random)
    if clicked:
        bar = st.progress(0.0, text=f"Refitting {repeats} copies …")
        st.session_state["repeat_last"] = wanted
        repeated(*wanted, progress=lambda done, total: bar.progress(done / total,
                                                                     text=f"Refitted {done} of {total} copies"))
        bar.empty()
    last = st.session_state.get("repeat_last")
    if last is None:
        st.caption("Press the button to run the repeated experiment (about a second for 200 copies).")
        return
    if last != wanted:
        st.caption("The lab's settings or R changed since the last run: press the button to repeat with the "
                   "new ones. Shown: the last run.")
    settings, repeats, _random = last
    exp = repeated(*last)
    theme = ui.theme()
    col1, col2 = st.columns(2)
    with col1:
        ui.show(repeat_charts.repeat_errors(exp.estimates, size, coefficient, theme=theme),
                f"Errors (estimate − truth) of every group with {size} observations, over {repeats} copies: no "
                f"pooling (blue) and partial pooling (purple); vertical lines: each method's mean error, the "
                f"{charts.colour_word(theme)} line at 0 is the truth. {_size_sentence(exp, size, coefficient)}", key="repeat_hist")
    with col2:
        if len(sizes) > 1:
            ui.show(repeat_charts.error_by_size(exp.by_size, coefficient, theme=theme, selected=size),
                    "Error against group size: RMSE (thick), |bias| (dashed) and SD (dotted) for no pooling "
                    "(blue) and partial pooling (purple), averaged over the groups of each size.", key="repeat_size_fig")
        else:
            st.info("All groups have the same size here. Choose *Unbalanced sizes* or *Dropout* to see the error "
                    "against group size (the smaller the group, the more partial pooling gains).")
    table = summary(exp, coefficient)
    none, partial = table.loc["none"], table.loc["partial"]
    lower_rmse = partial["rmse"] < none["rmse"]
    st.markdown(
        f"Over all groups and {repeats} copies ({coefficient}s): no pooling has mean |bias| "
        f"{none['abs_bias']:.3g}, SD {np.sqrt(none['variance']):.3g}, RMSE {none['rmse']:.3g}; partial pooling "
        f"has mean |bias| {partial['abs_bias']:.3g}, SD {np.sqrt(partial['variance']):.3g}, RMSE {partial['rmse']:.3g}. "
        + ("Partial pooling buys its smaller variance with some bias, and its total error is smaller: "
           "that is why pulling towards the mean is a good trade." if lower_rmse else
           "Here partial pooling's bias costs more than its smaller variance saves, so its RMSE is not "
           "smaller; this happens when groups have plenty of data or the model's variances are badly estimated."))
    ui.section("Check yourself", "lab_check", _check_yourself)


def _check_yourself() -> None:
    st.markdown("**Question:** no pooling is unbiased here. Why is it still the worse method for small groups?")
    st.markdown("*Answer:* because its estimates scatter widely: for a group with few observations the "
                "variance term dominates the error, and the mixed model removes more variance than the bias "
                "it adds. Compare the dotted (SD) and dashed (|bias|) lines on the right at the smallest size.")


def _size_sentence(exp, size: int, coefficient: str) -> str:
    """What the histogram shows at this group size, from its numbers."""
    d = exp.by_group[(exp.by_group["n"] == size) & (exp.by_group["coefficient"] == coefficient)]
    by = d.groupby("method").agg(sd=("variance", lambda v: float(np.sqrt(np.mean(v)))), bias=("abs_bias", "mean"))
    if not {"none", "partial"} <= set(by.index):
        return "No pooling has no estimate at this size."
    sd_n, sd_p = by.loc["none", "sd"], by.loc["partial", "sd"]
    b_n, b_p = by.loc["none", "bias"], by.loc["partial", "bias"]
    return (f"At this size partial pooling scatters {'less' if sd_p < sd_n else 'more'} (SD {sd_p:.3g} vs "
            f"{sd_n:.3g}) and sits {'further from' if b_p > b_n else 'as close to'} each group's truth on average "
            f"(mean |bias| {b_p:.3g} vs {b_n:.3g}).")


def _current_settings() -> SimulationSettings:
    """The settings the controls above hold (read from the session, no widgets drawn)."""
    preset = st.session_state.get("preset", CUSTOM)
    base = PRESETS.get(preset, PRESETS["As fitted (GPA)"])
    values = {field: st.session_state[key] for key, (field, *_r) in SLIDERS.items()}
    return replace(base, **values, balance=BALANCE[st.session_state["balance"]],
                   seed=int(st.session_state["seed"]),
                   max_per_group=base.max_per_group if preset in PRESETS else None)


repeat_fragment()
