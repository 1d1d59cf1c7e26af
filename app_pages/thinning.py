"""Less data, more shrinkage: thin real groups and watch the mixed model pull them in."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

import charts
from app_shell import compute, derived, presenter, ui
from teaching import lab
from teaching.pooling import (arrow_pulls, axis_labels, centre_by_default, centred_population, centred_table,
                              centring_help, centring_label,
                              mean_pull, possessive, singular_message, varying_names)
from teaching.selection import choose_groups

choice = ui.current()
info = choice.data
g, gs = ui.plain(info.group_label), ui.plain(ui.plural(info.group_label))  # for text; figures get info's own
gp = possessive(g)  # "subject's", "species'"

st.title("Less data, more shrinkage")
st.markdown(
    f"""
Real data this time: the **{ui.plain(info.name)}** data ({ui.plain(info.title[0].lower() + info.title[1:])}). Keep only the first few observations of each
{g} (or of one {g}) and refit. A {g} with little data of its own cannot say much about itself,
so the mixed model leans on what the other {gs} show: its line moves towards the population
line. The faint lines are the fits to the full data, for comparison.
"""
)
if choice.random in ("slope", "both", "uncorrelated"):
    st.markdown(
        f"What is pulled hardest is what the kept observations say least about: keep only a {possessive(g)} first "
        f"few observations (in the order of {ui.plain(info.covariate_label.lower())}) and its *slope* is barely known, so it "
        "is pulled towards the average slope"
        + (", while its starting value is still fairly well measured." if choice.random != "slope" else "."))
else:
    st.markdown(f"This model lets only the **intercept** vary between {gs} (every {g} has the same slope), so "
                f"thinning changes how far each {possessive(g)} intercept is pulled towards the fixed intercept.")

if info.covariate is None:
    st.info(f"Thinning keeps the first observations in the order of a covariate, and this data set has none. "
            "Choose a data set with a covariate in the sidebar.")
    st.stop()

@compute.cached(max_entries=128)
def thinned(key, model: tuple, keep: int, groups: tuple | None, *, _frame, _info, _full):
    """The thinned fit. The key is the whole input: the data's identity (for uploaded data the content,
    the column names and the roles), the model, what is kept; the data and the full fit follow from it."""
    return lab.thinned_lab(_frame, _info.response, _info.group, _info.covariate, keep,
                           groups=list(groups) if groups else None, random=model[2],
                           extra_covariates=_info.extra_covariates, full=_full, start=_full.fit.theta)


full = ui.pooling_for(choice)
levels = list(full.group_sizes.index)
largest = int(full.group_sizes.max())
# The thinning controls and all they change rerun alone (a fragment): the page's introduction and
# the full fit around them are not rebuilt on every move of the slider.
@ui.fragment
def thinned_section() -> None:
    ONE, ALL = f"One {g}", f"Every {g}"
    mode = st.radio("Thin", [ALL, ONE], key="thin_mode", bind=ui.URL, horizontal=True,
                    help=f"Take observations away from every {g}, or from a single one while the others keep all theirs.")
    if mode == ONE:
        picked = st.selectbox(f"Which {g}", levels, key="thin_group", bind=ui.URL)
        groups = [picked]
    else:
        groups = None
    keep = st.slider(f"Observations kept per thinned {g} (the first ones, by {ui.plain(info.covariate_label.lower())})",
                     1, largest, key="keep", value=min(3, largest), bind=ui.URL,
                     help=f"{ui.plain(info.covariate_label)} values beyond this many are dropped.")


    view = thinned(compute.data_key(choice), compute.model_key(choice.model), int(keep),
                   tuple(groups) if groups else None, _frame=ui.frame(choice), _info=info, _full=full)

    st.caption(f"{view.kept_rows} of {view.total_rows} observations kept.")
    for note in view.notes:
        st.info(note)
    if view.thinned is None:
        st.stop()

    result = view.thinned
    singular = singular_message(result, g)
    if singular:
        st.warning(singular, icon=":material/warning:")
    if mode == ONE:
        shown = [picked]
    else:
        shown = choose_groups(result, "moved", min(12, len(levels))) if len(levels) > 12 else levels
        shown = [str(s) for s in shown]
        shown = presenter.panels(shown, key="thin_panel_page", label=f"{gs.capitalize()} shown")
    panels = lab.thinned_panels(full, result, shown)
    panel_obs, left_out, panel_lines, faint = panels.kept, panels.left_out, panels.lines, panels.faint
    ncols = 1 if mode == ONE else presenter.facet_columns(6, len(shown))
    fig = charts.pooling_facets(panel_obs, panel_lines, theme=ui.theme(), x_label=info.covariate_label,
                                y_label=info.response_label, ncols=ncols, faint_lines=faint, faint_obs=left_out,
                                height_per_row=420 if mode == ONE else 190)
    what = f"{g} {ui.plain(picked)}" if mode == ONE else f"{len(shown)} {gs}" + (" (those that moved most)" if len(shown) < len(levels) else "")
    ui.show(fig, f"{what.capitalize()}: filled dots are the kept observations, hollow ones were left out. Lines fitted "
                 f"to the kept data only: own line (blue, dotted, where it can be drawn), one line for all (orange, "
                 f"dashed), mixed model (purple, solid). The faint purple line is the mixed model on all the data.",
            key="thin_facets")

    # The pull reported here is the one every page reports (teaching.pooling.arrow_pulls / mean_pull): the
    # share of the way each arrow goes from a group's own estimate to the population value. Intercepts are read
    # where the map below reads them (for iris at the full data's mean sepal length, for both fits).
    xbar = float(full.data.x.mean())
    centred = False
    if "intercept" in varying_names(full):
        centred = st.toggle(centring_label(ui.plain(info.covariate), xbar), value=centre_by_default(full), key="centred",
                            bind=ui.URL, help=centring_help(ui.plain(info.covariate)))
    at_x = xbar if centred else None
    moved = view.moved.set_index("group")
    thinned_names = [str(x) for x in view.thinned_groups if str(x) in moved.index]
    # the full fit's side is the same on every move of the slider: cached with the fit (app_shell.derived)
    full_arrows, mean_full = derived.full_data_pulls(choice, at_x, thinned_names)
    arrows = {"full": full_arrows, "thinned": arrow_pulls(result, at_x)}
    coefficients = [c for c in varying_names(result) if c in arrows["full"] and c in arrows["thinned"]]
    read_at = (f" (intercepts read at {ui.plain(info.covariate)} = {xbar:.3g}, its mean)" if centred and "intercept" in coefficients
               else "")
    if mode == ONE:
        cols = st.columns(1 + len(coefficients))
        row = moved.loc[picked]
        cols[0].metric("Observations used", f"{int(row['n_kept'])} of {int(row['n_full'])}")
        for i, c in enumerate(coefficients):
            before, after = (float(arrows[k][c].get(picked, float("nan"))) for k in ("full", "thinned"))
            words = [f"{v:.0%}" if np.isfinite(v) else "no arrow" for v in (before, after)]
            cols[1 + i].metric(f"Pull on its {c}: all data → thinned", f"{words[0]} → {words[1]}")
    else:
        table = moved[["n_full", "n_kept"]].rename(columns={"n_full": "All obs.", "n_kept": "Kept"})
        for c in coefficients:  # in percent, so the screen shows whole percents
            table[f"Pull on {c}: all"] = 100 * arrows["full"][c].reindex(table.index).to_numpy()
            table[f"Pull on {c}: thinned"] = 100 * arrows["thinned"][c].reindex(table.index).to_numpy()
        # Groups with the same sizes and covariate values have the same pull: one row each, with a count.
        # NaN (no arrow) counts as a value of its own, as groupby(dropna=False) and duplicated() count it.
        distinct, firsts, counts = lab.same_rows(table, 4) if len(table) > 12 else (len(table), None, None)
        if firsts is not None and distinct < len(table):
            first = table.loc[firsts].copy()
            first.insert(0, f"{gs.capitalize()} like this", counts)
            first.index.name = f"first such {g}"
            table = first
            st.caption(f"{gs.capitalize()} with the same numbers are shown once ({len(table)} rows for {len(moved)} {gs}).")
        # Whole percents (the header says so); a group without an arrow has an empty cell.
        table = table.rename(columns={c: f"{c} (%)" for c in table.columns if c.startswith("Pull")})
        for c in table.columns:
            if c.startswith("Pull"):
                table[c] = pd.array(np.round(table[c].to_numpy(float)), dtype="Float64").astype("Int64")
        with st.container(height=420 if len(table) > 11 else "content"):  # a long table scrolls in place
            ui.table(table, hide_index=False)
    st.caption(f"The pull is the share of the way the mixed model moves a {possessive(g)} estimate from its own estimate "
               "to the population value, measured along its arrow (0% = not at all, 100% = all the way; above 100% = "
               "past the population value, below 0% = away from it): the same measure as on the shrinkage map and in "
               f"the lab{read_at}. A {g} whose kept observations give no own estimate (one observation cannot give a "
               "slope) has no arrow, so no pull is shown for it. The mean pull below weighs each "
               f"{g} by how far its own estimate lies from the population value (long arrows count more), as in the lab.")
    # What actually happened to the pull, from the numbers, and why when it fell.
    sd_full = {n: float(v) for n, v in zip(full.fit.varcorr[0].terms, full.fit.varcorr[0].sd)}
    sd_thin = {n: float(v) for n, v in zip(result.fit.varcorr[0].terms, result.fit.varcorr[0].sd)}
    mean_thin = mean_pull(result, thinned_names, at_x)
    said = []
    for c in coefficients:
        term = "(Intercept)" if c == "intercept" else info.covariate
        expected = (float(moved.loc[thinned_names, f"{c}_full"].mean()), float(moved.loc[thinned_names, f"{c}_thinned"].mean()))
        if c not in mean_full or c not in mean_thin:
            said.append((f"{g.capitalize()} {ui.plain(picked)} has" if mode == ONE else f"The thinned {gs} have")
                        + f" no own {c} to be pulled from (too few observations), so there is no {c} arrow; from the "
                        f"variances alone the model would pull a {g} with this little data {expected[1]:.0%} of the way.")
            continue
        before, after = mean_full[c], mean_thin[c]
        direction = "rises" if after > before + 5e-3 else ("falls" if after < before - 5e-3 else "stays about the same")
        line = (f"Pull on {possessive(g + ' ' + ui.plain(picked))} {c}" if mode == ONE else f"Mean pull on the thinned {gs}' {c}s") + \
            f": {before:.0%} → {after:.0%} ({direction})."
        if direction == "falls":
            line += (f" Less data usually means more pull, but here the model also re-estimates how much {gs} differ "
                     f"from the thinned data: the SD of the {c}s between {gs} went from {sd_full.get(term, float('nan')):.3g} "
                     f"to {sd_thin.get(term, float('nan')):.3g}"
                     + (f", and a larger spread between {gs} makes the model trust each {possessive(g)} own data more."
                        if sd_thin.get(term, 0) > sd_full.get(term, 0) else
                        f". That spread did not grow, so the fall comes from where the thinned {gs}' own estimates "
                        "happen to land (the expected pull, below, does not depend on that)."))
            if c == "intercept" and choice.random != "intercept" and not centred:
                line += (f" The intercept is read at {ui.plain(info.covariate)} = 0, and the kept first observations sit closer "
                         "to 0 than all of them do, so the intercept is better measured after thinning.")
        said.append(line)
    if said:
        st.markdown(" ".join(said))
    ui.section(
        "The pull the model expects, whatever a group's own estimate", "thin_expected", st.markdown,
        f"Each arrow's pull depends on two things: how much the {possessive(g)} data say (how many observations, "
        "where on the covariate) and where its own estimate happens to land (an own estimate close to the population "
        "value gives a short arrow whose share is jumpy). The first part alone is the expected pull, conditional "
        f"variance / variance between {gs} (for a random intercept exactly (σ²/nⱼ) / (τ² + σ²/nⱼ), and then, in "
        "balanced data, exactly the arrow's pull). Averaged over the thinned " + gs + ": "
        + "; ".join(f"{c} {float(moved.loc[thinned_names, f'{c}_full'].mean()):.0%} → "
                    f"{float(moved.loc[thinned_names, f'{c}_thinned'].mean()):.0%}" for c in coefficients
                    if f"{c}_full" in moved and f"{c}_thinned" in moved)
        + ".")

    if choice.random in ("both", "uncorrelated"):
        pop = centred_population(result) if centred else result.population
        ftable = centred_table(full) if centred else full.table
        if centred:  # the thinned fit read at the full data's covariate mean, so both maps share one x̄
            ttable = result.table.assign(intercept=result.table["intercept"] + result.table["slope"] * xbar)
            pop = {"intercept": result.population["intercept"] + result.population["slope"] * xbar,
                   "slope": result.population["slope"]}
        else:
            ttable = result.table
        reference = ftable[ftable["method"] == "partial"][["group", "intercept", "slope"]]
        rings = lab.estimated_rings(result)
        if centred:
            rings = [(lvl, x + y * xbar, y) for lvl, x, y in rings]
        x_label, y_label = axis_labels(full, centred, info.response)
        fig = charts.shrinkage_map(ttable, population=(pop["intercept"], pop["slope"]), ellipses=rings,
                                   theme=ui.theme(), reference=reference,
                                   selected=picked if mode == ONE else None,
                                   x_label=x_label, y_label=y_label, height=560)
        ui.show(fig, f"Shrinkage map after thinning: arrows from each {gp} own estimate (blue) to the mixed model's "
                     f"(purple); the hollow, faint purple diamonds are the mixed model on the full data.", key="thin_map")


thinned_section()

ui.section(
    "Why do thinned groups usually move more, and when do they not?", "thin_why", st.markdown,
    rf"""
For a random intercept the mixed model's estimate of {g} $j$ is its own deviation from the population
line multiplied by

$$\lambda_j = \frac{{\tau^2}}{{\tau^2 + \sigma^2 / n_j}}.$$

$\sigma^2 / n_j$ is how uncertain the {gp} own mean is; it grows as $n_j$, the number of its
observations, falls. With fewer observations $\lambda_j$ gets smaller and the estimate moves towards
the population value. A {g} with all its data keeps most of its own estimate. The same happens, in
two dimensions, to intercepts and slopes together.

But $\tau^2$ (the variance between {gs}) and $\sigma^2$ are estimated again from the thinned data.
If the thinned data make the {gs} look *more* different (a larger $\tau^2$), $\lambda_j$ can rise and
the pull fall, even though each {g} has less data. With few {gs} (iris has three) this happens easily.
"""
)
