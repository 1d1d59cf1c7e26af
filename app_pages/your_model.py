"""Your model: type an lme4 formula, read what R would print, compare fits, bring your own data.

Layout and widgets only: reading files is datasets.upload, checks and comparisons are
lmm_core.comparison, tables lmm_core.tables, figures charts.model.
"""
from __future__ import annotations

import re

import streamlit as st

import datasets
from app_shell import ui
from charts import model as model_charts
from datasets import upload
from lmm_core import FormulaError, LmmError, tables
from lmm_core import comparison
from teaching import anatomy, lrt
from teaching.pooling import boundary_parts, modes_spread_sentence

choice = ui.current()
info = choice.data
FORMULA, METHOD, MODELS, LAST = "ym_formula", "ym_method", "ym_models", "ym_last"
METHODS = ["REML (lme4's default)", "ML (maximum likelihood)"]

# Example formulas from the seed material, one click away: data set -> [(button label, formula)].
SHORT = {"intercept": "random intercept", "slope": "slope only", "both": "intercept + slope",
         "uncorrelated": "uncorrelated"}


def examples_of(info_) -> list[tuple[str, str]]:
    return [(SHORT[m.random], m.formula) for m in info_.models]


EXAMPLES = {d: examples_of(datasets.info(d)) for d in ("sleepstudy", "iris", "gpa")}
EXAMPLES["gpa"] += [("categorical", "gpa ~ occasion + sex + job + (1 | student)"),
                    ("categorical + slope", "gpa ~ occasion + sex + job + (1 + occasion | student)")]
NUMBER = {"logLik": "%.2f", "AIC": "%.2f", "AICc": "%.2f", "BIC": "%.2f", "deviance": "%.2f",
          "REML criterion": "%.2f", "ΔAIC": "%.2f", "Chisq": "%.3f", "Pr(>Chisq)": "%.3g"}


# -- callbacks (run before the script, so they may still change the sidebar chooser) -----------
def use_example(data_name: str, formula: str) -> None:
    st.session_state[FORMULA] = formula
    target = datasets.info(data_name) if data_name in datasets.names() else None
    label = next((m.label for m in target.models if m.formula == formula), None) if target else None
    if data_name != st.session_state.get("data"):
        ui.select_data(data_name, label)
    elif label:
        ui.select_data(data_name, label)
    st.session_state["ym_seen"] = (data_name, label or st.session_state.get("model"))


def add_to_comparison(entries) -> None:
    models = st.session_state.setdefault(MODELS, [])
    for entry in entries:
        if entry not in models:
            models.append(entry)


def clear_comparison() -> None:
    st.session_state[MODELS] = []


def keep_formula_in_step() -> None:
    """A new data set or sidebar model puts that model's formula in the box; a typed formula stays
    otherwise (also after an error)."""
    seen = (info.name, choice.model.label)
    if st.session_state.get("ym_seen") == seen:
        return
    typed = st.session_state.get(FORMULA)
    first_run = "ym_seen" not in st.session_state
    st.session_state["ym_seen"] = seen
    if not (first_run and typed):  # a formula arriving with a link is kept
        st.session_state[FORMULA] = choice.model.formula


# -- page ---------------------------------------------------------------------------------------
st.title("Your model")
st.markdown(
    """
Write a mixed model the way you would in R's **lme4** and see what R would show you: the
printed summary, the tables behind it and the figures to check it. Add fits to a comparison
table to choose between models, and bring your own data: once loaded, it is offered in the
sidebar and every page of the app works with it.
"""
)


def show_own_data_section() -> None:
    user = ui.user_data()
    with st.expander("Bring your own data (a CSV file, a pasted table, or the simulation exercise)",
                     expanded=ui.is_user(choice)):
        st.markdown(
            f"Limits: {upload.LIMITS_TEXT}. The first row must hold the column names. Your data stay "
            "**in this browser session only**: they are not saved, other people cannot see them, and when "
            "you close or reload the tab the server deletes them within about two and a half minutes."
        )
        source = st.radio("Where the data come from", ["Upload a file", "Paste a table", "Simulated exercise"],
                          horizontal=True, key="ym_source")
        if source == "Upload a file":
            file = st.file_uploader("CSV file", key="ym_file", max_upload_size=upload.MAX_BYTES // (1024 * 1024),
                                    help="Comma, semicolon, tab or | separated text with a header row.")
            if file is not None and st.session_state.get("ym_file_id") != file.file_id:
                st.session_state["ym_file_id"] = file.file_id
                read_table(lambda: upload.read_csv_bytes(file.getvalue(), file.name))
        elif source == "Paste a table":
            st.text_area("Paste a table (copied from a spreadsheet, or CSV text)", key="ym_paste", height=160,
                         placeholder="score,week,pupil\n12.5,1,A\n13.1,2,A\n...")
            if st.button("Read the pasted table", key="ym_read_paste"):
                read_table(lambda: upload.read_pasted(st.session_state.get("ym_paste", ""), "pasted table"))
        else:
            st.markdown(
                "The seed material's exercise: 50 groups with 3 observations each, a covariate x drawn from a "
                "normal distribution, group intercepts with SD 0.75 and group slopes with SD 0.25, no "
                "correlation between them, and noise with SD 0.25. Fit intercepts only, uncorrelated slopes and "
                "correlated slopes, and let AIC and the likelihood-ratio test choose."
            )
            seed = st.number_input("Random seed", 1, 99999, 1234, key="ym_seed")
            if st.button("Make the simulated data", key="ym_simulate"):
                read_table(lambda: upload.simulated_exercise(int(seed)), roles=("y", "group", "x"))
        show_role_pickers()
        if user is not None:
            st.caption(f"In use: **{ui.plain(user.name)}** ({user.info.n_rows} rows, {user.info.n_groups} groups).")
            st.button("Forget my data", key="ym_forget", on_click=ui.set_user_data, args=(None,))


def read_table(read, roles=None) -> None:
    """Read a table; keep it for the role pickers (or use it at once with the given roles)."""
    try:
        table = read()
        if roles:
            use_table(table, *roles)
            return
        st.session_state["ym_table"] = table
    except LmmError as exc:
        st.session_state["ym_table_error"] = str(exc)


def use_table(table, response, group, covariate) -> None:
    user = upload.make_user_data(table, response, group, covariate)
    ui.set_user_data(user)
    st.session_state.pop("ym_table", None)
    st.rerun()


def show_role_pickers() -> None:
    error = st.session_state.pop("ym_table_error", None)
    if error:
        st.error(f"{ui.plain(error, 600)}\n\nYour previous data (if any) are still in use.")
    table = st.session_state.get("ym_table")
    if table is None:
        return
    frame = table.frame
    st.markdown(f"**{ui.plain(table.file_name)}**: {len(frame)} rows, {frame.shape[1]} columns; read as {table.encoding} "
                f"text with a {table.delimiter_name} between values.")
    for note in table.notes:
        st.info(ui.plain(note, 600))
    st.dataframe(frame.head(8), hide_index=True)
    guess = upload.guess_roles(frame)
    columns = list(frame.columns)
    c1, c2, c3 = st.columns(3)
    response = c1.selectbox("Response (what to explain)", columns, index=columns.index(guess[0]), key="ym_response")
    group = c2.selectbox("Group (who belongs together)", columns, index=columns.index(guess[1]), key="ym_group")
    covariate = c3.selectbox("Covariate (for slopes)", columns, index=columns.index(guess[2]), key="ym_covariate")
    if st.button("Use these columns", type="primary", key="ym_use"):
        try:
            use_table(table, response, group, covariate)
        except LmmError as exc:
            st.error(f"{ui.plain(exc, 600)}\n\nChange the columns above and try again.")


def show_examples() -> None:
    st.markdown("**Start from an example** (one click fills the box and picks the data set):")
    rows = dict(EXAMPLES)
    user = ui.user_data()
    if user is not None:
        rows = {user.name: examples_of(user.info), **rows}
    for data_name, examples in rows.items():
        label_col, *cols = st.columns([1, 1, 1, 1, 1], vertical_alignment="center")
        label_col.markdown(f"**{ui.plain(data_name)}**")
        for i, (label, formula) in enumerate(examples):
            cols[i % 4].button(label, key=f"ym_ex_{data_name}_{i}", on_click=use_example, args=(data_name, formula),
                               help=ui.code(formula), width="stretch")


def show_table(table, key: str, **kwargs) -> None:
    """A table with rounded numbers on screen (the CSV keeps every digit); empty columns left out."""
    table = table.dropna(axis=1, how="all")
    config = {c: st.column_config.NumberColumn(format=f) for c, f in NUMBER.items() if c in table}
    if "Formula" in table:
        config["Formula"] = st.column_config.TextColumn(width="medium")
    st.dataframe(table, hide_index=True, key=key, column_config=config, **kwargs)


def show_formula_error(exc: FormulaError, formula: str) -> None:
    message = getattr(exc, "plain_message", str(exc))
    position = getattr(exc, "position", None)
    text = f"**The formula cannot be read.** {ui.plain(message, 600)}"
    if position is not None and 0 <= position <= len(formula):
        text += f" (at character {position + 1})"
        st.error(text + "\n\nFix the formula in the box; the mark below shows where.")
        ui.printout(f"{formula}\n{' ' * position}^", key="formula_error")
    else:
        st.error(text + "\n\nA formula looks like `response ~ covariate + (1 | group)`.")


def fit_or_explain(formula: str, reml: bool):
    """The fit, or None after a plain error message. Never raises."""
    try:
        return ui.fit_formula(choice, formula, reml)
    except FormulaError as exc:
        show_formula_error(exc, formula)
    except LmmError as exc:
        st.error(f"**This model cannot be fitted to {ui.plain(info.name)}.** {ui.plain(exc, 800)}")
    except Exception as exc:  # a last guard: the page must keep working whatever happens
        st.error(f"**Something unexpected went wrong** ({type(exc).__name__}). Try a simpler formula; if it "
                 "keeps happening, please report the formula and the data.")
    return None


def show_fit_messages(fit) -> None:
    if fit.singular:
        here = boundary_parts(fit)
        st.warning(
            "**Boundary (singular) fit.** The best fit puts at least one variance at zero (or a correlation at "
            "±1): the data cannot tell that random effect apart from the noise. "
            + (f"Here {'; '.join(here)}. " if here else "")
            + "The fit is still a result, but the model is more complex than the data support: try dropping that "
            "random effect or the correlation (e.g. `(1 | g) + (0 + x | g)` instead of `(x | g)`).",
            icon=":material/info:")
    for message in fit.messages:
        if "singular" in message:
            continue
        if "rank deficient" in message:
            st.warning(f"{ui.plain(message, 600)} Some fixed effects are exact combinations of others, so they cannot all be "
                       "estimated; lme4 drops the later ones, and so does this app.")
        else:
            st.info(ui.plain(message, 600))


def download(table, name: str, key: str) -> None:
    st.download_button("Download CSV", table.to_csv(index=False).encode("utf-8"), file_name=f"{name}.csv",
                       mime="text/csv", key=key, icon=":material/download:")


def show_tables(fit) -> None:
    fixed = tables.fixed_effects_table(fit).reset_index(names="Term")
    st.markdown("**Fixed effects**: the population's coefficients (the same for every group), with standard errors, t values and 95% Wald intervals "
                "(estimate ± 1.96 SE).")
    st.dataframe(fixed, hide_index=True)
    download(fixed, "fixed_effects", "ym_dl_fixed")
    variance = tables.variance_table(fit)
    st.markdown("**Variance components**: how much groups differ, and the noise. The share is each "
                "variance's part of the total (for slopes it depends on the covariate's units).")
    st.dataframe(variance, hide_index=True)
    download(variance, "variance_components", "ym_dl_variance")
    ranef = tables.random_effects_table(fit)
    st.markdown("**Random effects** (conditional modes, what `ranef` gives) with their conditional SDs and 95% "
                "intervals.")
    st.dataframe(ranef, hide_index=True, height=280)
    download(ranef, "random_effects", "ym_dl_ranef")
    coefs = tables.coef_table(fit)
    st.markdown("**Coefficients per group** (`coef`: fixed effect + that group's random effect).")
    st.dataframe(coefs, hide_index=True, height=280)
    download(coefs, "coef", "ym_dl_coef")


def show_figures(fit) -> None:
    ranef = tables.random_effects_table(fit)
    factors = list(dict.fromkeys(ranef["Group"]))
    factor = factors[0]
    if len(factors) > 1:
        factor = st.selectbox("Grouping factor", factors, key="ym_factor")
    one = ranef[ranef["Group"] == factor]
    theme = ui.theme()
    ui.show(model_charts.caterpillar(one, theme=theme, group_label=factor),
            f"Caterpillar plot: each {factor}'s conditional mode (diamond) with its 95% interval, ordered by the "
            "first panel's mode, as lme4's dotplot does, so one row is one level in every panel. Intervals that cross the dashed zero line are levels the model cannot tell apart "
            "from the average.", key="ym_caterpillar")
    groups = None
    frame = fit.design.frame
    if frame is not None and factor in frame.columns:
        groups = frame[factor].astype(str).to_numpy()
    ui.show(model_charts.residuals_vs_fitted(fit.fitted, fit.residuals, groups, theme=theme, group_label=factor),
            "Residuals against fitted values. A healthy model shows a shapeless band around the dashed zero line; "
            "a funnel means the noise grows with the fitted value, a curve means a missing term.",
            key="ym_residuals")
    panels = {term: comparison.qq_points(one[one["Term"] == term]["Mode"]) for term in dict.fromkeys(one["Term"])}
    spread = anatomy.spread_vs_variance(fit)
    of_factor = {vc.group for vc in fit.varcorr if vc.factor == factor}
    spread = spread[spread["Group"].isin(of_factor)]
    ui.show(model_charts.qq_random_effects(panels, theme=theme),
            f"Normal Q-Q plot of the conditional modes of each {factor}: the model assumes they come from a normal "
            f"distribution, so the points should lie near the dashed line. "
            + modes_spread_sentence(spread, factor, int(fit.ngroups.get(factor, len(one))), fit.reml), key="ym_qq")


def show_result(fit, formula: str, reml: bool) -> None:
    show_fit_messages(fit)
    summary_tab, tables_tab, figures_tab = st.tabs(["What R prints", "Tables", "Figures"])
    with summary_tab:
        ui.printout(fit.summary(data_name=data_label()), key="summary")
    with tables_tab:
        show_tables(fit)
    with figures_tab:
        show_figures(fit)
    st.button("Add this fit to the comparison", key="ym_add", icon=":material/add:", on_click=add_to_comparison,
              args=([(info.name, formula, reml)],))


def data_label() -> str:
    """The data name in the printed summary, as a short R-like name."""
    if not ui.is_user(choice):
        return info.name
    stem = re.sub(r"\.[A-Za-z]+$", "", info.file)
    return re.sub(r"\W+", "_", stem).strip("_") or "your_data"


def show_comparison() -> None:
    st.subheader("Compare models")
    entries = [e for e in st.session_state.get(MODELS, []) if e[0] == info.name]
    others = len(st.session_state.get(MODELS, [])) - len(entries)
    st.markdown(
        "Add fits with the button above (or all examples of this data set at once). Models can only be compared "
        f"on the same data, so this table holds the fits to **{info.name}**."
        + (f" ({others} fit(s) to other data sets are kept for when you switch back.)" if others else "")
    )
    c1, c2 = st.columns(2)
    examples = [(info.name, m.formula, True) for m in info.models]
    c1.button("Add this data set's example models", key="ym_add_examples", on_click=add_to_comparison,
              args=(examples,))
    c2.button("Clear the comparison", key="ym_clear", on_click=clear_comparison)
    fits, names = [], {}
    for i, (_, formula, reml) in enumerate(entries, start=1):
        name = f"M{i}"
        try:
            fits.append((name, ui.fit_formula(choice, formula, reml)))
            names[name] = formula
        except LmmError as exc:
            st.error(f"{ui.plain(name)} ({ui.code(formula)}) no longer fits: {ui.plain(exc, 600)}")
    if not fits:
        st.info("No fits in the comparison yet.")
        return
    table = comparison.comparison_table(fits)
    table.insert(1, "Formula", [names[n] for n in table["Model"]])
    show_table(table, "ym_comparison_table")
    download(table, "model_comparison", "ym_dl_comparison")
    st.caption(
        "npar: estimated parameters (fixed effects, variances and correlations, residual SD). Lower AIC, AICc "
        "and BIC are better; ΔAIC is the distance to the best. Each model is scored on the criterion it was "
        "fitted with: AIC of REML fits is only comparable between models with the same fixed effects."
    )
    if len(fits) < 2:
        return
    st.markdown("**Likelihood-ratio test** (R's `anova()`), for nested models:")
    chosen = st.multiselect("Models to test", [n for n, _ in fits], default=[n for n, _ in fits][-2:],
                            key="ym_lrt_models")
    if len(chosen) < 2:
        st.info("Choose at least two models.")
        return
    try:
        result = comparison.safe_anova([(n, f) for n, f in fits if n in chosen])
    except LmmError as exc:
        st.error(ui.plain(exc, 600))
        return
    st.info(result.refit_message, icon=":material/sync:")
    lrt = result.table.copy()
    lrt.insert(1, "Formula", [names[n] for n in lrt["Model"]])
    show_table(lrt, "ym_lrt_table")
    download(lrt, "likelihood_ratio_test", "ym_dl_lrt")
    for note in result.notes:
        st.warning(ui.plain(note, 600))
    read_lrt(result.table, dict(fits))


def read_lrt(table, fits: dict) -> None:
    """Each test in words; a test of random effects only (the same fixed effects) says that its
    p-value is conservative, because the simpler model puts a variance on its boundary (0)."""
    for i in range(1, len(table)):
        small, big = table.iloc[i - 1], table.iloc[i]
        p = big["Pr(>Chisq)"]
        if p != p:
            continue
        verdict = ("the extra parameters improve the fit more than chance would explain: prefer the larger model"
                   if p < 0.05 else "the extra parameters do not improve the fit clearly: the simpler model is enough")
        line = (f"- {ui.plain(small['Model'])} → {ui.plain(big['Model'])}: χ² = {big['Chisq']:.2f} on {int(big['Df'])} df, "
                f"p = {p:.3g}; {verdict}.")
        a, b = fits.get(small["Model"]), fits.get(big["Model"])
        if a is not None and b is not None:
            note = lrt.boundary_note(a, b, float(big["Chisq"]), int(big["Df"]), float(p))
            line += f" {note}" if note else ""
        st.markdown(line)


keep_formula_in_step()
show_own_data_section()
st.subheader(f"Formula for {ui.plain(info.name)}")
show_examples()
formula = st.text_input("lme4 formula", key=FORMULA, bind=ui.URL,
                        help="For example `y ~ x + (1 + x | group)`. Press Enter to fit.")
method = st.radio("Fitting criterion", METHODS, horizontal=True, key=METHOD, bind=ui.URL,
                  help="REML's variance estimates allow for the fixed effects having been estimated (less biased than ML's); "
                       "ML is needed to compare models with different fixed effects.")
reml = method != METHODS[1]
formula = formula or ""
ui.section("How to write a formula", "your_model_formula_help", st.markdown, """
- `y ~ x + (1 | g)`: a line in x for everyone, and an intercept of its own for each g (random intercept).
- `y ~ x + (x | g)` or `(1 + x | g)`: intercept and slope per g, with a correlation between them.
- `y ~ x + (1 | g) + (0 + x | g)`, or `(x || g)`: intercept and slope per g, uncorrelated.
- `y ~ x + (0 + x | g)`: a slope per g, one shared intercept.
- `a + b`, `a:b` (interaction), `a * b` (both and their interaction); text columns become dummy variables.
- `log(x)`, `sqrt(x)`, `exp(x)`, `log10(x)`, `scale(x)`, `center(x)` are the only functions allowed.
- Names with spaces or special characters go between backticks: `` `reaction time` ``.

Nothing you type is run as code: the formula is read as a formula and nothing else.
""")

fit = fit_or_explain(formula, reml) if formula.strip() else None
if not formula.strip():
    st.info("Type a formula above, or click one of the examples.")
if fit is not None:
    st.session_state[LAST] = (info.name, formula, reml)
    st.success(f"Fitted {ui.code(formula)} to {ui.plain(info.name)} by {'REML' if reml else 'ML'}: {fit.nobs} observations, "
               + ", ".join(f"{n} levels of {g}" for g, n in fit.ngroups.items()) + ".")
    show_result(fit, formula, reml)
else:
    last = st.session_state.get(LAST)
    if last and last[0] == info.name and (last[1], last[2]) != (formula, reml):
        try:
            previous = ui.fit_formula(choice, last[1], last[2])
            st.markdown(f"**Below: the last model that worked**, {ui.code(last[1])} ({'REML' if last[2] else 'ML'}).")
            show_result(previous, last[1], last[2])
        except LmmError:
            pass
show_comparison()
