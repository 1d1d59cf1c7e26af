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
    """The data-set and model chooser in the sidebar, rendered on every page by app.py."""
    names = datasets.names()
    with st.sidebar:
        st.markdown("### Data and model")
        name = st.selectbox(
            "Data set", names, key="data", bind=URL,
            format_func=lambda n: datasets.info(n).title,
            help="The same choice applies on every page.",
        )
        info = datasets.info(name)
        keys = [m.key for m in info.models]
        if st.session_state.get("model") not in keys:
            st.session_state["model"] = keys[0]
        st.selectbox(
            "Model", keys, key="model", bind=URL,
            format_func=lambda k: info.model(k).label,
            help="Which coefficients vary from group to group.",
        )
        st.caption(f"`{info.model(st.session_state['model']).formula}`")


def current() -> Choice:
    info = datasets.info(st.session_state.get("data") or datasets.names()[0])
    key = st.session_state.get("model") or info.models[0].key
    try:
        model = info.model(key)
    except Exception:
        model = info.models[0]
    return Choice(info, model)


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


@st.cache_resource(max_entries=64, show_spinner=False)
def lmer_fit(data_name: str, formula: str, reml: bool = True):
    from lmm_core import lmer

    return lmer(formula, datasets.load(data_name), reml=reml)


def pooling_for(choice: Choice):
    return pooling(choice.data.name, choice.model.key)


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
