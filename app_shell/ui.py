"""Shared page plumbing: the data-set and model chooser, cached computations, figure display.

Pages import from here so that each page file is only layout and widgets. Every
control that changes what is shown is bound to the URL (``bind="query-params"``),
so a link reproduces the view.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

import datasets
from app_shell import presenter
from datasets import upload

URL = "query-params"
USER_KEY = "user_data"  # session_state: the uploaded data (datasets.upload.UserData), this session only
_PENDING = "_pending_data"  # session_state: a data set to select before the sidebar is drawn


@dataclass(frozen=True)
class Choice:
    """What the shared chooser currently selects."""

    data: datasets.DatasetInfo
    model: datasets.ModelChoice

    @property
    def random(self) -> str:
        return self.model.random


def shared_controls() -> None:
    """The data-set and model chooser in the sidebar, rendered on every page by app.py.

    Bound widgets put their displayed option in the URL, so the options are the words a
    student reads (data set names as in R, model labels), not internal keys.
    """
    names = data_names()
    _apply_pending(names)
    with st.sidebar:
        # The closed chooser is a one-line text field: make the sidebar wide enough (and the text a
        # little smaller) for the longest model label, "Random intercept and slope (uncorrelated)".
        st.html("<style>section[data-testid='stSidebar']{min-width: 370px;}"
                "section[data-testid='stSidebar'] input[role='combobox']{font-size: 0.85rem;}</style>")
        st.markdown("### Data and model")
        name = st.selectbox("Data set", names, key="data", bind=URL,
                            help="The same choice applies on every page.")
        info = _info(name)
        st.caption(info.title)
        labels = [m.label for m in info.models]
        label = st.selectbox("Model", labels, key="model", bind=URL,
                             help="Which coefficients vary from group to group.")
        st.caption(code(_model_by_label(info, label).formula))
        if is_user(Choice(info, info.models[0])):
            st.caption("Your data exist only in this browser session.")


def code(text: str) -> str:
    """Inline code in Markdown, also for text with backticks (formulas with `odd names`)."""
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _model_by_label(info: datasets.DatasetInfo, label: str | None) -> datasets.ModelChoice:
    for m in info.models:
        if m.label == label:
            return m
    return info.models[0]


def current() -> Choice:
    names = data_names()
    name = st.session_state.get("data")
    info = _info(name if name in names else names[0])
    return Choice(info, _model_by_label(info, st.session_state.get("model")))


# -- the student's own data (uploaded or pasted; lives in this browser session only) --------
def user_data() -> upload.UserData | None:
    """The data set the student brought, if any."""
    value = st.session_state.get(USER_KEY)
    return value if isinstance(value, upload.UserData) else None


def data_names() -> list[str]:
    """The chooser's options: the built-in data sets, then the student's own, if any."""
    user = user_data()
    return datasets.names() + ([user.name] if user else [])


def _info(name: str) -> datasets.DatasetInfo:
    user = user_data()
    if user is not None and name == user.name:
        return user.info
    return datasets.info(name)


def is_user(choice: Choice) -> bool:
    user = user_data()
    return user is not None and choice.data.name == user.name


def select_data(name: str, model_label: str | None = None) -> None:
    """Switch the sidebar chooser to ``name`` on the next run (call st.rerun() after it): the
    sidebar is drawn before the page, so its widgets cannot be changed while the page runs."""
    st.session_state[_PENDING] = (name, model_label)


def set_user_data(user: upload.UserData | None, select: bool = True) -> None:
    """Keep (or with None, forget) the student's data; select it in the chooser on the next run."""
    if user is None:
        st.session_state.pop(USER_KEY, None)
        select_data(datasets.names()[0])
        return
    st.session_state[USER_KEY] = user
    if select:
        select_data(user.name, user.info.models[0].label)


def _apply_pending(names: list[str]) -> None:
    pending = st.session_state.pop(_PENDING, None)
    if pending and pending[0] in names:
        st.session_state["data"] = pending[0]
        labels = [m.label for m in _info(pending[0]).models]
        st.session_state["model"] = pending[1] if pending[1] in labels else labels[0]
    elif st.session_state.get("data") is not None and st.session_state.get("data") not in names:
        # e.g. a link to 'Your data: ...' opened in a new session, where that data does not exist
        st.session_state["data"] = names[0]


def theme() -> str:
    """'dark' when the app runs in a dark theme, so figures match it."""
    try:
        kind = st.context.theme.type
    except Exception:
        kind = None
    return "dark" if kind == "dark" else "light"


def show(fig, caption: str, key: str | None = None, *, screen: float = presenter.SCREEN_SHARE, **kwargs):
    """A figure at full width with its caption (also given as alt text for screen readers).
    Every figure of the app is drawn here, so presenter mode enlarges them all (its text, and its
    height to ``screen`` × the window's height: less for figures that share a screen)."""
    fig = presenter.figure(fig, theme(), screen=screen)
    out = st.plotly_chart(fig, width="stretch", theme=None, key=key, alt=caption, **kwargs)
    st.caption(caption)
    return out


# -- cached computations (shared by all sessions; results are read-only) --------------
@st.cache_resource(max_entries=64, show_spinner=False)
def pooling(data_name: str, model_key: str, reml: bool = True):
    from teaching.pooling import compare_pooling

    info = datasets.info(data_name)
    model = info.model(model_key)
    return compare_pooling(
        datasets.load(data_name), info.response, info.group, covariate=info.covariate,
        random=model.random, reml=reml, extra_covariates=info.extra_covariates,
    )


def pooling_for(choice: Choice):
    user = user_data()
    if user is not None and choice.data.name == user.name:
        info = user.info
        return _user_pooling(user.digest, info.response, info.group, info.covariate, choice.model.random,
                             _frame=user.table.frame)
    return pooling(choice.data.name, choice.model.key)


# Uploaded data: cache keys are the content hash and the roles (never just the file name);
# the frame itself is passed unhashed (leading underscore).
@st.cache_resource(max_entries=16, show_spinner=False)
def _user_pooling(digest: str, response: str, group: str, covariate: str, random: str, reml: bool = True,
                  *, _frame):
    from teaching.pooling import compare_pooling

    return compare_pooling(_frame, response, group, covariate=covariate, random=random, reml=reml)


@st.cache_resource(max_entries=64, show_spinner=False)
def _user_lmer(digest: str, formula: str, reml: bool = True, *, _frame):
    from lmm_core.comparison import checked_lmer

    return checked_lmer(formula, _frame, reml=reml)


def frame(choice: Choice):
    """The chosen data set as a fresh DataFrame (every page reads data through here)."""
    user = user_data()
    if user is not None and choice.data.name == user.name:
        return user.frame()
    return datasets.load(choice.data.name)


@st.cache_resource(max_entries=64, show_spinner=False)
def lmer_fit(data_name: str, formula: str, reml: bool = True):
    """An lme4-style fit of a formula to a named data set, shared by all sessions."""
    from lmm_core import lmer

    return lmer(formula, datasets.load(data_name), reml=reml)


def fit_for(choice: Choice, reml: bool = True):
    """The fit of the chosen model to the chosen data set."""
    if is_user(choice):
        return fit_formula(choice, choice.model.formula, reml)
    return lmer_fit(choice.data.name, choice.model.formula, reml)


def fit_formula(choice: Choice, formula: str, reml: bool = True):
    """Any formula fitted to the chosen data set (built-in or the student's), cached.
    Raises the engine's LmmError (FormulaError, DataError, FitError) for bad input."""
    user = user_data()
    if user is not None and choice.data.name == user.name:
        return _user_lmer(user.digest, formula, reml, _frame=user.table.frame)
    return checked_lmer_fit(choice.data.name, formula, reml)


@st.cache_resource(max_entries=64, show_spinner=False)
def checked_lmer_fit(data_name: str, formula: str, reml: bool = True):
    """lmer_fit after the formula-and-data checks of lmm_core.comparison (for typed formulas)."""
    from lmm_core.comparison import checked_lmer

    return checked_lmer(formula, datasets.load(data_name), reml=reml)


def clicked_group(event) -> str | None:
    """The group of the first clicked point of a chart whose points carry the group as customdata."""
    try:
        points = event.selection.points
    except AttributeError:
        return None
    for point in points or []:
        data = point.get("customdata")
        if data is not None:
            return str(data[0] if isinstance(data, (list, tuple)) else data)
    return None


def plural(word: str) -> str:
    """'subject' -> 'subjects'; 'species' stays 'species'."""
    return word if word.endswith("s") else word + "s"
