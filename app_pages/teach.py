"""Teach a class: the instructor's page in class mode, meant for the projector.

Start a class and get a join code, a link and a QR code for the students; push one of the
walkthrough's check questions or a class experiment in the lab; watch the answers or the
class's estimates arrive (a fragment redraws every 2 s from the database); reveal the
answer; close or delete the class. The instructor key lives only in this browser session
(never in the URL); it is shown in a closed box so the instructor can resume in another tab.
"""
from __future__ import annotations

import os
import secrets
import time
import urllib.parse
from dataclasses import replace

import streamlit as st

import datasets
from app_shell import presenter, ui
from app_shell import walkthrough_content as lessons
from charts import classroom as class_charts
from classroom import ClassError, ClassQuestion, ClassStore, codes, db, experiment, summaries
from classroom.store import MAX_GROUPS, QUESTION, ExperimentSpec
from teaching import walkthrough_numbers as numbers

CODE, KEY = "teach_code", "teach_key"  # session_state only: never in the URL
LETTERS = summaries.LETTERS
POLL_S = 2
PUBLIC_URL_ENV = "SHRINKAGE_PUBLIC_URL"  # e.g. https://lab.example.org, when the server sits behind a proxy
BALANCE = {"Equal group sizes": "equal", "Unbalanced sizes": "unbalanced", "Dropout over time": "dropout"}


@st.cache_resource(show_spinner=False)
def _store_for(url: str) -> ClassStore:
    return ClassStore(db.engine(url))


def class_store() -> ClassStore:
    """The store of the configured database (read from the environment on every call)."""
    return _store_for(db.database_url())


@ui.shared_cache()
def facts(path: str) -> dict:
    return numbers.walkthrough_facts(path, datasets.load(lessons.PATHS[path].data))


@ui.shared_cache(max_entries=32)
def design(spec_json: str):
    return experiment.class_design(ExperimentSpec.from_json(spec_json))


def join_link(code: str) -> str:
    base = os.environ.get(PUBLIC_URL_ENV, "").strip()
    if not base:
        try:
            parts = urllib.parse.urlsplit(st.context.url or "")
            base = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
        except Exception:  # noqa: BLE001 (no browser context, e.g. in AppTest)
            base = ""
        base = base or "http://localhost:8501"
    return f"{base.rstrip('/')}/join?class={code}"


def questions() -> dict[str, tuple]:
    """label -> (path key, step index, question) for every walkthrough step with a question."""
    out = {}
    for path in lessons.PATHS.values():
        for i, step in enumerate(path.steps):
            if step.question is not None:
                out[f"{path.short} · step {i + 1}: {step.title}"] = (path.key, i, step.question)
    return out


def class_question(label: str) -> ClassQuestion:
    path, _index, q = questions()[label]
    filled = lessons.filled_question(q, facts(path))
    return ClassQuestion.build(filled.prompt, filled.options, filled.answer, filled.right, filled.wrong,
                               source=f"Walkthrough · {label}")


# -- no class yet -------------------------------------------------------------------------
def start_or_resume(store: ClassStore) -> None:
    st.markdown(
        "Start a class and project this page. Students open the link (or scan the QR code, or type the "
        "code on the *Join a class* page) on their phones or laptops, with no account and no name. You "
        "push a question from the walkthrough or a class experiment in the lab; their answers and "
        "estimates appear here as they come in.")
    if st.button("Start a class", type="primary", icon=":material/co_present:"):
        new = store.create_class()
        st.session_state[CODE], st.session_state[KEY] = new.code, new.key
        st.session_state["teach_key_fresh"] = True
        st.rerun()
    with st.expander("Resume a class (after a reload, or in another tab)"):
        with st.form("teach_resume"):
            code = st.text_input("Class code", max_chars=12)
            key = st.text_input("Instructor key", type="password", max_chars=100)
            if st.form_submit_button("Resume"):
                found = codes.normalise_code(code)
                if found is not None and store.is_instructor(found, key):
                    st.session_state[CODE], st.session_state[KEY] = found, key
                    st.rerun()
                st.warning("No open class with this code and key.")
    st.caption(f"Class data are stored in {_where()} and deleted 12 hours after the class started, or "
               "when you delete the class.")


def _where() -> str:
    url = db.database_url()
    return "a local SQLite file" if url.startswith("sqlite") else "the configured PostgreSQL database"


# -- the class header: how to join ------------------------------------------------------
def header(store: ClassStore, code: str, key: str) -> None:
    link = join_link(code)
    left, right = st.columns([2.2, 1], gap="large")
    with left:
        st.markdown("### Join at the link or with the code")
        st.code(link, language=None)
        st.title(codes.pretty_code(code), anchor=False)  # made from our alphabet: nothing typed
        participants()
        if st.session_state.pop("teach_key_fresh", False):
            st.info("Your instructor key is below. Keep it to resume this class in another tab or after a "
                    "reload; it is not stored anywhere readable, not even in the address bar.")
        with st.expander("Instructor key (for resuming; do not project)"):
            st.code(key, language=None)
    with right:
        st.image(class_charts.qr_png(link), caption="Scan to join", width=260)


@ui.fragment(run_every=POLL_S)
def participants() -> None:
    info = class_store().class_info(st.session_state.get(CODE))
    if info is None:
        st.rerun(scope="app")
    left = max(0, int(info.expires_at - time.time()))
    st.metric("Participants", info.participants,
              help=f"Browsers that joined. The class ends in {left // 3600} h {left % 3600 // 60} min.")


# -- what the instructor can push ---------------------------------------------------------
def push_question(store: ClassStore, code: str, key: str) -> None:
    labels = list(questions())
    label = st.selectbox("Question from the walkthrough", labels, key="teach_question")
    q = class_question(label)
    st.markdown(f"**{q.prompt}**")
    for i, option in enumerate(q.options):
        st.markdown(f"{LETTERS[i]}. {option}")
    with st.expander("The right answer (for you: do not open on the projector)"):
        st.markdown(f"{LETTERS[q.answer]}. {q.right}")
    if st.button("Ask the class", type="primary", icon=":material/send:", key="teach_push_q"):
        _try(lambda: store.push_question(code, key, q))


def push_experiment(store: ClassStore, code: str, key: str) -> None:
    st.markdown(
        "Everybody gets the same groups with the same true values; each student draws their own noise, fits "
        "the three ways, and their estimates arrive here: the class's own sampling distributions.")
    presets = experiment.PRESETS
    name = st.selectbox("Start from a setting of the lab", list(presets), index=3, key="teach_preset")
    base = presets[name]
    a, b = st.columns(2)
    n_groups = a.slider("Number of groups", 5, MAX_GROUPS, 30, key="teach_groups")
    per_group = b.slider("Observations per group", 2, 20, int(base.n_per_group), key=f"teach_per_{name}")
    balance = a.radio("Group sizes", list(BALANCE), key=f"teach_balance_{name}",
                      index=list(BALANCE.values()).index(base.balance))
    class_seed = b.number_input("Class seed (decides the groups)", 0, 2**31 - 1,
                                value=st.session_state.setdefault("teach_seed", secrets.randbelow(10_000)),
                                key="teach_seed_input")
    max_per = base.max_per_group if BALANCE[balance] == base.balance and per_group == base.n_per_group else None
    settings = replace(base, n_groups=int(n_groups), n_per_group=int(per_group), balance=BALANCE[balance],
                       max_per_group=max_per)
    if st.button("Start the class experiment", type="primary", icon=":material/science:", key="teach_push_e"):
        spec = experiment.spec_for(settings, int(class_seed), title=f"Class experiment: {name}")
        _try(lambda: store.push_experiment(code, key, spec))


def _try(action) -> None:
    try:
        action()
    except ClassError as error:
        st.warning(str(error))


# -- the projector --------------------------------------------------------------------------
@ui.fragment(run_every=POLL_S)
def projector() -> None:
    store = class_store()
    code, key = st.session_state.get(CODE), st.session_state.get(KEY)
    try:
        current = store.current_activity(code, key)
        shown = current or (store.activities(code, key) or [None])[-1]
    except ClassError:
        st.rerun(scope="app")
    if shown is None:
        st.info("Nothing pushed yet: choose a question or an experiment above. Students see a waiting screen.")
        return
    if current is None:
        st.caption("Stopped: students see a waiting screen. The last activity's results:")
    if shown.kind == QUESTION:
        question_results(store, code, key, shown.id)
    else:
        experiment_results(store, code, key, shown)
    if current is not None:
        st.button("Stop (students wait for the next one)", key="teach_stop", icon=":material/stop_circle:",
                  on_click=lambda: _try(lambda: store.stop_activity(code, key)))


def question_results(store: ClassStore, code: str, key: str, activity_id: int) -> None:
    results = store.question_results(code, key, activity_id)
    q = results.question
    st.markdown(f"### {q.prompt}")
    table = summaries.answer_shares(results.counts)
    left, right = st.columns([1.2, 1], gap="large")
    with left:
        for i, option in enumerate(q.options):
            tick = " ✓" if results.revealed and i == q.answer else ""
            st.markdown(f"**{LETTERS[i]}.** {option}{tick}")
    with right:
        fig = class_charts.answer_bars(table, results.revealed, q.answer, theme=ui.theme())
        ui.show(presenter.figure(fig), f"{results.total} answer{'' if results.total == 1 else 's'} so far (each participant counts once; "
                                       "a changed answer replaces the old one).", key="teach_bars")
    if not results.revealed:
        st.button("Reveal the answer", type="primary", key="teach_reveal", icon=":material/visibility:",
                  on_click=lambda: _try(lambda: store.reveal(code, key, activity_id)))
        return
    st.success(f"Right: {LETTERS[q.answer]}. {q.right}")
    for i, why in enumerate(q.explanations):
        if i != q.answer:
            st.markdown(f"**{LETTERS[i]}** ({results.counts[i]} chose it): {why}")


def _summaries(store: ClassStore, code: str, key: str, activity_id: int, d, group: str, population):
    """(samples, the chosen group's summary, errors by group size), fetched and computed again
    only when a new sample has arrived or another group is chosen (the poll itself is one
    small query)."""
    version = (activity_id, store.samples_version(code, key, activity_id))
    cached = st.session_state.get("teach_samples")
    if not cached or cached[0] != version:
        cached = (version, store.experiment_samples(code, key, activity_id), {})
        st.session_state["teach_samples"] = cached
    _version, samples, done = cached
    if samples and group not in done:
        done.clear()  # keep one group's figures
        done[group] = (summaries.sampling_summary(samples, d.truth, group),
                       summaries.by_group_size(samples, d.truth, experiment.group_sizes(d), population))
    return (samples, *done.get(group, (None, None)))


def experiment_results(store: ClassStore, code: str, key: str, activity) -> None:
    spec = activity.experiment
    d = design(spec.to_json())
    s = spec.settings
    population = (float(s["fixed_intercept"]), float(s["fixed_slope"]))
    sizes = experiment.group_sizes(d)
    count = store.samples_version(code, key, activity.id)[0]
    st.markdown(f"### {spec.title}: {count} samples so far")
    groups = [str(g) for g in d.truth.index]
    default = summaries.default_group(d.truth, sizes, population, (float(s["sd_intercept"]), float(s["sd_slope"])))
    truth = d.truth

    def label(g: str) -> str:
        return (f"Group {g}: {sizes[g]} observations, true intercept {truth.loc[g, 'intercept']:.2f}, "
                f"slope {truth.loc[g, 'slope']:.3f}")

    group = st.selectbox("Group on the projector", groups, index=groups.index(default), format_func=label,
                         key=f"teach_group_{activity.id}",
                         help="Suggested: a small group far from the average, where shrinkage shows most.")
    samples, summary, by_size = _summaries(store, code, key, activity.id, d, group, population)
    if not samples:
        st.info("Waiting for the students' samples…")
        return
    fig = class_charts.sampling_cloud(summary.points, summary.truth, population, theme=ui.theme())
    ui.show(presenter.figure(fig), f"Group {group} as estimated by each of {summary.n_students} students from "
                                   "their own sample: their own regression (blue circles), the mixed model (purple "
                                   "diamonds), the truth (green ring) and the population average (star). "
                                   + summaries.cloud_sentence(summary, population, (float(s["sd_intercept"]),
                                                                                     float(s["sd_slope"]))),
            key="teach_cloud")
    table = summary.table.assign(method=lambda t: t["method"].map({"none": "No pooling", "partial": "Partial pooling"}))
    st.dataframe(table[["method", "coefficient", "n", "truth", "mean", "bias", "spread", "rmse"]].rename(columns={
        "method": "Method", "coefficient": "Coefficient", "n": "Students", "truth": "Truth", "mean": "Class mean",
        "bias": "Bias", "spread": "Spread (SD)", "rmse": "RMSE"}), hide_index=True, width="stretch",
        column_config={c: st.column_config.NumberColumn(format="%.3f")
                       for c in ("Truth", "Class mean", "Bias", "Spread (SD)", "RMSE")})
    st.caption("Bias: class mean minus truth. Spread: SD of the class's estimates. RMSE: their typical distance "
               "from the truth (combines both).")
    if by_size["size"].nunique() > 1:
        ui.show(presenter.figure(class_charts.size_errors(by_size, theme=ui.theme())),
                "Error of the intercepts over all groups of each size and all students. "
                + summaries.size_sentence(by_size), key="teach_sizes")


def manage(store: ClassStore, code: str, key: str) -> None:
    with st.expander("End the class"):
        st.button("Close the class (no more answers; results stay)", key="teach_close",
                  on_click=lambda: _try(lambda: store.close_class(code, key)))
        sure = st.checkbox("Yes, delete this class and all its answers and samples now", key="teach_sure")
        if st.button("Delete the class and all its data", disabled=not sure, key="teach_delete",
                     icon=":material/delete:"):
            _try(lambda: store.delete_class(code, key))
            for k in (CODE, KEY, "teach_samples"):
                st.session_state.pop(k, None)
            st.rerun()
        st.caption("Otherwise the class and its data are deleted automatically 12 hours after it started.")


st.title("Teach a class")
store = class_store()
code, key = st.session_state.get(CODE), st.session_state.get(KEY)
if code is None or not store.is_instructor(code, key):
    for k in (CODE, KEY):
        st.session_state.pop(k, None)
    if code is not None:
        st.info("That class has ended (deleted, or older than 12 hours).")
    start_or_resume(store)
    st.stop()

header(store, code, key)
ask, lab_tab = st.tabs(["Ask a question", "Class experiment in the lab"])
with ask:
    push_question(store, code, key)
with lab_tab:
    push_experiment(store, code, key)
st.divider()
projector()
manage(store, code, key)
