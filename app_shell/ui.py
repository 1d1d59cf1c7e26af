"""Shared page plumbing: the data-set and model chooser, cached computations, figure display.

Pages import from here so that each page file is only layout and widgets. Every
control that changes what is shown is bound to the URL (``bind="query-params"``),
so a link reproduces the view.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import streamlit as st

import datasets
from app_shell import presenter
from datasets import upload

from . import budget, compute, guard, live_chart

# A page's cache of results shared by all sessions: st.cache_resource within the byte budget of
# app_shell.budget (an entry over its limit is not kept; the least recently used go first).
shared_cache = budget.shared
shared_dict = budget.shared_dict  # the same, for a result computed outside st.cache_resource
# st.fragment whose own reruns run within the limits of one request and show errors plainly (app_shell.guard).
fragment = guard.fragment

URL = "query-params"
USER_KEY = "user_data"  # session_state: the uploaded data (datasets.upload.UserData), this session only
MARKUP_KEY = "_user_markup"  # session_state: (upload, its names that Plotly would read as markup)
_PENDING = "_pending_data"  # session_state: a data set to select before the sidebar is drawn
LOST = "_lost_data"  # session_state: the name of uploaded data a link asked for that this session lacks


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
    _notice_lost_upload(names)
    _apply_pending(names)
    with st.sidebar:
        # The closed chooser is a one-line text field: its text a little smaller, so the longest model
        # label fits the sidebar's width (app.py). The sidebar takes that width at once, not in
        # Streamlit's 0.3 s transition of its min- and max-width: while it grew, the page's columns
        # narrowed under tables already drawn, and a data frame kept the width it had measured
        # mid-way (seen in CI: up to 2.6 px past its column when a tab opened its second page).
        # Collapsing still slides (the transform keeps its transition).
        st.html("<style>section[data-testid='stSidebar']{transition: transform 0.3s;}"
                "section[data-testid='stSidebar'] input[role='combobox']{font-size: 0.85rem;}"
                + PRINTOUT_CSS + "</style>")
        st.markdown("### Data and model")
        name = st.selectbox("Data set", names, key="data", bind=URL,
                            help="The same choice applies on every page.")
        info = _info(name)
        st.caption(plain(info.title))
        labels = [m.label for m in info.models]
        label = st.selectbox("Model", labels, key="model", bind=URL,
                             help="Which coefficients vary from group to group.")
        st.caption(code(_model_by_label(info, label).formula))
        if is_user(Choice(info, info.models[0])):
            st.caption("Your data exist only in this browser session.")


def _notice_lost_upload(names: list[str]) -> None:
    """A link or a reconnecting tab asks for uploaded data this session does not have (the server
    restarted, or the link was opened elsewhere): say so on the page instead of silently showing
    another data set."""
    asked = st.query_params.get("data")
    if upload.is_user_name(asked) and asked not in names and user_data() is None:
        st.session_state[LOST] = asked
    lost = st.session_state.get(LOST)
    if lost and user_data() is None:
        st.warning(
            f"**Your data ({plain(lost[len(upload.PREFIX):])}) are not on the server any more**: they were "
            "lost when the server restarted (or this link was opened in another browser session, where they "
            "never were). Uploaded data live only in the session that uploaded them. Upload the file again "
            "on the page *Your model*; until then the pages show the built-in data set chosen in the sidebar, "
            "and a formula you typed stays in its box.", icon=":material/cloud_off:")


# A printout (see printout()): st.text's element, set in a fixed-width font, each line as printed.
PRINTOUT_CSS = ("[class*='st-key-printout'] [data-testid='stText']{overflow-x: auto; padding: 0.75rem 1rem;"
                "border-radius: 0.5rem; background: rgba(128, 128, 128, 0.1);}"
                "[class*='st-key-printout'] [data-testid='stText'] > span{font-family: 'Source Code Pro', monospace;"
                "font-size: 0.8rem; white-space: pre;}")


def section(label: str, key: str, draw, *args, **kwargs) -> None:
    """An expander whose content is built, sent and laid out only while it is open: ``draw(*args,
    **kwargs)`` runs inside it then. Opening or closing it reruns the section alone (a fragment).

    Why: Streamlit sends a closed expander's content with the page, and the browser lays it out
    unseen. On a new tab that came before the first figure: the closed "model's numbers" of Three
    ways to pool made the browser load Streamlit's 1.2 MB data-frame code and lay out its tables
    (≈ 250 ms of a 2 s load), and a closed explanation with a formula loaded KaTeX. Only for
    content without widgets whose state must outlive a closed expander (a widget not drawn in a
    run loses its state)."""
    _section(label, key, draw, args, kwargs)


@fragment
def _section(label: str, key: str, draw, args: tuple, kwargs: dict) -> None:
    box = st.expander(label, key=key, on_change="rerun")
    if box.open:
        with box:
            draw(*args, **kwargs)


def printout(text: str, key: str) -> None:
    """Text as R prints it (an lme4 summary, a formula under a caret): fixed width, lines as they
    are, never read as Markdown or HTML. Not st.code: that makes a new tab load and run Streamlit's
    1.5 MB syntax highlighter, ~0.4 s of the browser's main thread on the landing page (a CPU profile
    of a new-tab load), for text that has nothing to highlight."""
    with st.container(key=f"printout_{key}"):
        st.text(text, width="stretch")


def table(data, hide_index: bool = True) -> None:
    """A small table that a student reads (a few rows of numbers): an HTML table, numbers right-aligned
    with four decimals, an empty cell where a value is missing. Not st.dataframe: its grid is drawn on
    a canvas by 1.2 MB of code that a new tab loads and runs before the page's figures (the lab's two
    small tables cost 0.2-0.3 s of its new-tab load, measured side by side), and text on a canvas cannot
    be found with the browser's search, selected, or printed as the page's text can."""
    st.table(data, hide_index=hide_index)


def code(text: str) -> str:
    """Inline code in Markdown, also for text with backticks (formulas with `odd names`): the
    fence is longer than any run of backticks in the text, so nothing in it can end the code."""
    text = " ".join(str(text).split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}" if longest else f"`{text}`"


# What can start markup inside a line of Markdown in Streamlit: links and images ([ ] ( ) !),
# emphasis (* _ ~), code (`), HTML and autolinks (< > & and "www."/"http:"), LaTeX ($), colour
# directives and icons (:red[...], :material/x:), and a backslash itself.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()<>~$:!&|#{}])|(\.)(?=\w)")
_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(?=://)|(?<=www)(?=\.)|(?=@)")
_LINE_START = re.compile(r"^(\s*)([-+=>]|\d+)([.)]?)")


def plain(text: object, limit: int = 200) -> str:
    """``text`` (a file, column, level or formula name, a URL value, an error message that
    quotes them) made safe to put inside Markdown: the marks that could start a link, an image,
    emphasis, HTML, a colour directive, an icon or LaTeX are escaped, so the text reads as it
    was written; line breaks become spaces and very long text is shortened."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    # GFM turns bare web and mail addresses into links even when escaped: an invisible word
    # joiner inside "https://", "www." and before "@" keeps them text.
    text = _AUTOLINK.sub("\u2060", text)
    text = _MARKDOWN_SPECIAL.sub(lambda m: "\\" + (m.group(1) or m.group(2)), text)
    def at_start(m):  # a list or heading marker at the start: "- x", "1. x", "> x"
        if m.group(2).isdigit():
            return m.group(1) + m.group(2) + ("\\" + m.group(3) if m.group(3) else "")
        return m.group(1) + "\\" + m.group(2) + m.group(3)

    return _LINE_START.sub(at_start, text)


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


def user_markup() -> tuple[str, ...]:
    """The names from the student's upload (file, columns, text values) that Plotly would read as
    markup (they contain <, > or &); () without an upload or when none does. Worked out once per upload."""
    user = user_data()
    if user is None:
        return ()
    known = st.session_state.get(MARKUP_KEY)
    if isinstance(known, tuple) and len(known) == 2 and known[0] == (user.digest, user.name):
        return known[1]
    from charts.base import markup_strings

    frame = user.table.frame
    names = [user.name, user.table.file_name, *map(str, frame.columns)]
    for column in frame.columns:
        values = frame[column]
        if values.dtype.kind not in "fiub":
            text = values.dropna().astype(str)
            names += text[text.str.contains(r"[<>&]", regex=True)].unique().tolist()
    strings = markup_strings(names)
    st.session_state[MARKUP_KEY] = ((user.digest, user.name), strings)
    return strings


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
    compute.forget()  # results computed from the previous data go with them
    st.session_state.pop(LOST, None)
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


def show(fig, caption: str, key: str | None = None, *, screen: float = presenter.SCREEN_SHARE,
         on_click=None):
    """A figure at full width with its caption (also given as alt text for screen readers).
    Every figure of the app is drawn here, so presenter mode enlarges them all (its text, and its
    height to ``screen`` × the window's height: less for figures that share a screen).
    Drawn in the live chart (``app_shell.live_chart``: a slider's new figure updates the plot on
    the page), or in ``st.plotly_chart`` where the live chart has no Plotly to load.
    ``on_click``: the points can be clicked; a click calls it before the page reruns, and there
    ``clicked_group(st.session_state[key])`` is the group of the point clicked."""
    from charts.base import escape_user_text

    fig = escape_user_text(fig, user_markup())  # names from an upload show as typed, never as markup
    fig = presenter.figure(fig, theme(), screen=screen)
    if live_chart.available():
        out = live_chart.show(fig, caption, key, on_click=on_click)
    else:
        select = {"on_select": on_click, "selection_mode": "points"} if on_click is not None else {}
        out = st.plotly_chart(fig, width="stretch", theme=None, key=key, alt=caption, **select)
    st.caption(caption)
    return out


# -- cached computations (app_shell.compute: keys are the whole input) -----------------------
@compute.cached(max_entries=64)
def _pooling(key: compute.DataKey, model: tuple, reml: bool = True, *, _frame, _info):
    from teaching.pooling import compare_pooling

    info = _info
    return compare_pooling(_frame, info.response, info.group, covariate=info.covariate, random=model[2],
                           reml=reml, extra_covariates=info.extra_covariates)


def pooling(data_name: str, model_key: str, reml: bool = True):
    """Complete, no and partial pooling of a built-in data set's model (shared by all sessions)."""
    info = datasets.info(data_name)
    return _pooling(compute.builtin_key(info.name), compute.model_key(info.model(model_key)), reml,
                    _frame=datasets.load(data_name), _info=info)


def pooling_for(choice: Choice, reml: bool = True):
    """The three ways to pool for the chosen data set and model (built-in or the student's own)."""
    return _pooling(compute.data_key(choice), compute.model_key(choice.model), reml, _frame=frame(choice),
                    _info=choice.data)


def frame(choice: Choice):
    """The chosen data set as a fresh DataFrame (every page reads data through here)."""
    user = user_data()
    if user is not None and choice.data.name == user.name:
        return user.frame()
    return datasets.load(choice.data.name)


@compute.cached(max_entries=64)
def _fit(key: compute.DataKey, formula: str, reml: bool = True, checked: bool = False, *, _frame):
    from lmm_core import lmer
    from lmm_core.comparison import checked_lmer

    return checked_lmer(formula, _frame, reml=reml) if checked else lmer(formula, _frame, reml=reml)


def lmer_fit(data_name: str, formula: str, reml: bool = True):
    """An lme4-style fit of a formula to a built-in data set, shared by all sessions."""
    return _fit(compute.builtin_key(datasets.info(data_name).name), compute.formula_key(formula), reml,
                _frame=datasets.load(data_name))


def fit_for(choice: Choice, reml: bool = True):
    """The fit of the chosen model to the chosen data set."""
    return _fit(compute.data_key(choice), compute.formula_key(choice.model.formula), reml, _frame=frame(choice))


def fit_formula(choice: Choice, formula: str, reml: bool = True):
    """Any formula fitted to the chosen data set (built-in or the student's), cached; the fit is
    made with the limits of one web request (lmm_core.limits.APP, applied by app.py).
    Raises the engine's LmmError (FormulaError, DataError, FitError, LimitError) for bad input."""
    from lmm_core import parse_formula

    data = frame(choice)
    parse_formula(formula, [str(c) for c in data.columns])  # errors point into the formula as typed
    return _fit(compute.data_key(choice), compute.formula_key(formula), reml, True, _frame=data)


def clicked_group(event) -> str | None:
    """The group of the first clicked point of a chart whose points carry the group as customdata
    (``event``: the session state of a chart shown with ``on_click``, a live chart's or st.plotly_chart's)."""
    try:
        points = event.selection.points  # st.plotly_chart's selection
    except AttributeError:
        points = live_chart.clicked_points(event)
    for point in points or []:
        data = point.get("customdata")
        if data is not None:
            from charts.base import unescape_user_text

            return unescape_user_text(str(data[0] if isinstance(data, (list, tuple)) else data), user_markup())
    return None


def plural(word: str) -> str:
    """'subject' -> 'subjects'; 'species' stays 'species'."""
    return word if word.endswith("s") else word + "s"
