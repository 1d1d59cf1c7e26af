"""Shared page plumbing: the data-set and model chooser, cached computations, figure display.

Pages import from here so that each page file is only layout and widgets. Every
control that changes what is shown is bound to the URL (``bind="query-params"``),
so a link reproduces the view.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

import datasets

URL = "query-params"


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
    with st.sidebar:
        st.markdown("### Data and model")
        name = st.selectbox("Data set", datasets.names(), key="data", bind=URL,
                            help="The same choice applies on every page.")
        info = datasets.info(name)
        st.caption(info.title)
        labels = [m.label for m in info.models]
        label = st.selectbox("Model", labels, key="model", bind=URL,
                             help="Which coefficients vary from group to group.")
        st.caption(f"`{_model_by_label(info, label).formula}`")


def _model_by_label(info: datasets.DatasetInfo, label: str | None) -> datasets.ModelChoice:
    for m in info.models:
        if m.label == label:
            return m
    return info.models[0]


def current() -> Choice:
    names = datasets.names()
    name = st.session_state.get("data")
    info = datasets.info(name if name in names else names[0])
    return Choice(info, _model_by_label(info, st.session_state.get("model")))


def theme() -> str:
    """'dark' when the app runs in a dark theme, so figures match it."""
    try:
        kind = st.context.theme.type
    except Exception:
        kind = None
    return "dark" if kind == "dark" else "light"


def show(fig, caption: str, key: str | None = None, **kwargs):
    """A figure at full width with its caption (also given as alt text for screen readers)."""
    out = st.plotly_chart(fig, width="stretch", theme=None, key=key, alt=caption, **kwargs)
    st.caption(caption)
    return out


# -- cached computations (shared by all sessions; results are read-only) --------------
@st.cache_resource(max_entries=64, show_spinner=False)
def pooling(data_name: str, model_key: str, reml: bool = True):
    from lmm_core.pooling import compare_pooling

    info = datasets.info(data_name)
    model = info.model(model_key)
    return compare_pooling(
        datasets.load(data_name), info.response, info.group, covariate=info.covariate,
        random=model.random, reml=reml, extra_covariates=info.extra_covariates,
    )


def pooling_for(choice: Choice):
    return pooling(choice.data.name, choice.model.key)


def frame(choice: Choice):
    """The chosen data set as a fresh DataFrame (every page reads data through here)."""
    return datasets.load(choice.data.name)


@st.cache_resource(max_entries=64, show_spinner=False)
def lmer_fit(data_name: str, formula: str, reml: bool = True):
    """An lme4-style fit of a formula to a named data set, shared by all sessions."""
    from lmm_core import lmer

    return lmer(formula, datasets.load(data_name), reml=reml)


def fit_for(choice: Choice, reml: bool = True):
    """The fit of the chosen model to the chosen data set."""
    return lmer_fit(choice.data.name, choice.model.formula, reml)


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
