"""Join a class: a student's screen in class mode.

Students arrive by the projected link or QR code (``/join?class=CODE``) or type the code.
No accounts, no names: each browser gets an anonymous participant id, kept in the address
bar (``&me=...``) so that a reload, a phone that went to sleep or a lost connection comes
back as the same participant (its answer is replaced, not counted twice). The screen
follows the instructor: a small fragment polls every 2 s and redraws the page when the
instructor pushes, reveals or stops something.
"""
from __future__ import annotations

import secrets

import streamlit as st

import charts
from app_shell import presenter, ui
from classroom import ClassError, ClassStore, NotAllowed, codes, db, experiment
from classroom.store import EXPERIMENT, QUESTION
from teaching.pooling import singular_message

PIDS = "class_participant_ids"  # session_state: join code -> participant id
POLL_S = 2


@st.cache_resource(show_spinner=False)
def _store_for(url: str) -> ClassStore:
    return ClassStore(db.engine(url))


def class_store() -> ClassStore:
    """The store of the configured database (read from the environment on every call)."""
    return _store_for(db.database_url())


@ui.shared_cache(max_entries=32)
def design(spec_json: str):
    from classroom.store import ExperimentSpec

    return experiment.class_design(ExperimentSpec.from_json(spec_json))


@ui.shared_cache(max_entries=512)
def own_fit(spec_json: str, seed: int):
    return experiment.fit_own_sample(design(spec_json), seed)


def _participant(store: ClassStore, code: str) -> str:
    """This browser's participant id in the class (from the session, the URL, or new)."""
    known = st.session_state.setdefault(PIDS, {})
    pid = known.get(code)  # checked by every store call that uses it
    if pid is None:
        pid = store.join(code, st.query_params.get("me"))
        known[code] = pid
    st.query_params["class"] = code
    st.query_params["me"] = pid
    return pid


def _signature(view) -> tuple:
    return (None,) if view is None else (view.activity_id, view.revealed, view.closed)


def _answer(store: ClassStore, code: str, pid: str, activity_id: int, options: tuple[str, ...]) -> None:
    choice = st.session_state.get(f"class_answer_{activity_id}")
    if choice is None:
        return
    try:
        store.submit_answer(code, pid, activity_id, options[choice])
    except ClassError as error:
        st.session_state["class_message"] = str(error)


def question(store: ClassStore, code: str, pid: str, view) -> None:
    letters = "ABCDEFGH"
    st.subheader("Question")
    st.markdown(view.prompt)  # the walkthrough's own text, never anything typed by anybody
    key = f"class_answer_{view.activity_id}"
    # The stored answer is the default: after a reload the radio shows what the database holds.
    st.radio("Your answer", list(range(len(view.options))), index=view.my_choice, key=key,
             format_func=lambda i: f"{letters[i]}.  {view.options[i]}", disabled=view.closed,
             on_change=_answer, args=(store, code, pid, view.activity_id, view.options))
    message = st.session_state.pop("class_message", None)
    if message:
        st.warning(message)
    mine = st.session_state.get(key, view.my_choice)
    if view.revealed:
        right = view.answer
        if mine == right:
            st.success(f"Right: {letters[right]}. {view.right}")
        else:
            if mine is not None:
                st.warning(f"You answered {letters[mine]}. {view.explanations[mine]}")
            st.info(f"The right answer is {letters[right]}: {view.options[right]} {view.right}")
        with st.expander("Why each other option is wrong"):
            for i, why in enumerate(view.explanations):
                if i != right:
                    st.markdown(f"**{letters[i]}.** {why}")
    elif mine is not None:
        st.caption(f"Your answer {letters[mine]} is in. You can change it until the instructor reveals "
                   "the right one; only your last answer counts.")
    elif view.closed:
        st.caption("Answers are closed.")


def lab_experiment(store: ClassStore, code: str, pid: str, view) -> None:
    spec = view.experiment
    spec_json = spec.to_json()
    st.subheader(spec.title)
    st.markdown(
        "Everybody in the room has **the same groups**, with the same true intercepts and slopes (green). "
        "You measure them with **your own noise**: your sample is yours alone. Your fit was sent to the "
        "projector, which puts everybody's estimates of one group side by side.")
    seeds = st.session_state.setdefault("class_seeds", {})
    mine = store.my_sample(code, pid, view.activity_id)
    seed = mine.seed if mine is not None else seeds.get(view.activity_id)
    if seed is None:
        seed = secrets.randbelow(2**31)
    fit = own_fit(spec_json, seed)
    if mine is None or mine.seed != seed:
        if view.closed:
            st.info("The experiment is closed: your sample was not sent.")
        else:
            try:
                store.submit_sample(code, pid, view.activity_id, fit.seed, fit.random, fit.estimates)
            except ClassError as error:
                st.warning(str(error))
    seeds[view.activity_id] = seed

    def new_sample() -> None:
        seeds[view.activity_id] = secrets.randbelow(2**31)
        try:
            other = own_fit(spec_json, seeds[view.activity_id])
            store.submit_sample(code, pid, view.activity_id, other.seed, other.random, other.estimates)
        except ClassError as error:
            st.session_state["class_message"] = str(error)

    st.button("Draw a new sample of my own", on_click=new_sample, disabled=view.closed,
              icon=":material/casino:", help="Replaces your sample on the projector (you count once).")
    message = st.session_state.pop("class_message", None)
    if message:
        st.warning(message)
    result = fit.result
    d = design(spec_json)
    truth = d.truth.reset_index().rename(columns={"index": "group"})
    pop = result.population
    fig = charts.shrinkage_map(result.table, population=(pop["intercept"], pop["slope"]), truth=truth,
                               theme=ui.theme(), x_label="Intercept", y_label="Slope", height=520)
    ui.show(presenter.figure(fig), f"Your sample (seed {seed}): each group's own regression (blue), the mixed "
                                   "model (purple) and the truth (green circles).", key="class_own_map")
    if fit.random == "intercept":
        st.caption("Your sample could not support a random slope, so a random intercept was fitted.")
    singular = singular_message(result, "group")
    if singular:
        st.caption(singular)


@ui.fragment(run_every=POLL_S)
def follow(store: ClassStore, code: str, pid: str, shown: tuple) -> None:
    """Redraw the page when the instructor changes what the class sees."""
    try:
        now = store.student_view(code, pid)
    except ClassError:
        now = "gone"
    if now == "gone" or _signature(now) != shown:
        st.rerun(scope="app")


st.title("Join a class")
store = class_store()
typed = st.query_params.get("class")
code = codes.normalise_code(typed)
if code is None or store.class_info(code) is None:
    if typed:
        st.warning("No open class has that code. Check the code on the projector: a class ends when the "
                   "instructor deletes it, and 12 hours after it started.")
    with st.form("join_form", border=True):
        entered = st.text_input("Class code", max_chars=12, placeholder="e.g. ACDE-FGHJ",
                                help="The code on the projector; case and dashes do not matter.")
        if st.form_submit_button("Join", type="primary"):
            found = codes.normalise_code(entered)
            if found is not None and store.class_info(found) is not None:
                st.query_params["class"] = found
                if "me" in st.query_params:
                    del st.query_params["me"]
                st.rerun()
            st.warning("No open class has that code.")
    st.caption("No account and no name: your answers are anonymous. The instructor sees only how many "
               "people chose each answer.")
    st.stop()

try:
    pid = _participant(store, code)
    try:
        view = store.student_view(code, pid)
    except NotAllowed:  # this session's id is unknown to the database (e.g. another database): join anew
        st.session_state[PIDS].pop(code, None)
        pid = _participant(store, code)
        view = store.student_view(code, pid)
except ClassError as error:
    st.warning(str(error))
    st.stop()

info = store.class_info(code)
st.caption(f"Class {codes.pretty_code(code)} · anonymous participant · keep this page open. Reloading it keeps "
           "you as the same participant; to let a neighbour join, give them the class code, not your "
           "address (it identifies you).")
if info is not None and info.closed:
    st.info("The instructor has closed this class: thank you for taking part.")
if view is None:
    st.info("Waiting for the instructor… The next question or experiment appears here by itself.")
elif view.kind == QUESTION:
    question(store, code, pid, view)
elif view.kind == EXPERIMENT:
    lab_experiment(store, code, pid, view)
follow(store, code, pid, _signature(view))
