"""Presenter mode: large fonts, no sidebar and full-width content, for projecting the app.

Switched on by the URL (``?present=1``) or by the toggle at the foot of the sidebar, and off
by ``?present=0``, the "Leave presenter mode" button or the Esc key. It stays on while the
presenter moves between pages: the choice lives in session state and is written back to the
URL on every page, so the address in the browser can always be shared as it is.

``app.py`` calls ``apply()`` once per run, after the shared sidebar and before the page.
One mechanism enlarges every page, so no page needs a special case:

- figures: ``ui.show`` (the one place figures are drawn) passes each through ``figure()``, which
  switches it to the presenter template of ``charts.base`` (every text at least 20 px) and gives it
  a height taken from the browser window (read once by a tiny component, ``viewport_height()``);
- facet grids: pages ask ``panels()`` which groups to draw; in presenter mode it shows a chooser
  of pages of at most ``PANELS`` panels instead of the whole grid;
- text, tables and metrics: the CSS below (root font size, metric sizes, data frames zoomed).

Keyboard navigation through the walkthrough's steps uses Streamlit's button shortcuts
(← and → on its Back and Next buttons), which work in both modes.
"""
from __future__ import annotations

import streamlit as st

PARAM = "present"
STATE = "presenter_on"  # not a widget key, so it survives page switches
TOGGLE = "presenter_toggle"
ON_WORDS = {"1", "true", "yes", "on"}
OFF_WORDS = {"0", "false", "no", "off"}
VIEWPORT = "presenter_viewport_h"  # session_state: the browser window's inner height in px
DEFAULT_VIEWPORT = 1080  # until the browser has told us (a 1920×1080 projector)
SCREEN_SHARE = 0.78  # a figure fills this share of the window's height
PANELS = 6  # facet panels per screen in presenter mode (2 rows of 3)

# Streamlit's own test ids name the parts to hide or widen. Root font size scales every
# rem-based size of Streamlit's text; clamp keeps it readable from 1280 to 1920+ pixels wide.
CSS = """
<style>
html { font-size: clamp(18px, 1.2vw, 26px); }
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"] { display: none !important; }
[data-testid="stMainBlockContainer"] { max-width: 100% !important;
  padding: 2.6rem 1.6rem 1.5rem 1.6rem !important; }
[data-testid="stHeader"] { background: transparent; }
.st-key-presenter_bar { position: fixed; top: 0.35rem; right: 4.5rem; z-index: 1000002; width: auto !important; }
.st-key-presenter_bar button { font-size: 0.8rem; }
.stCaption, [data-testid="stCaptionContainer"] { font-size: 0.85rem; }
[data-testid="stMetricValue"] { font-size: 2.6rem !important; }
[data-testid="stMetricLabel"] p { font-size: 1rem !important; }
[data-testid="stMetricDelta"] { font-size: 0.95rem !important; }
/* Data frames are drawn on a canvas with a fixed font: zoom the whole grid instead. Zoom multiplies
   the px width Streamlit writes on the grid's frame (a "stretch" table gets its column's width), so
   both are capped at their column: percentages are not zoomed, and the table stays inside the page. */
[data-testid="stDataFrame"] { zoom: 1.35; max-width: 100% !important; }
[data-testid="stDataFrame"] [data-testid="stDataFrameResizable"] { max-width: 100% !important; }
[data-testid="stTable"] table { font-size: 1rem; }
[class*="st-key-printout"] [data-testid="stText"] > span { font-size: 1rem !important; }  /* ui.printout */
.st-key-presenter_viewport { position: absolute; width: 0; height: 0; overflow: hidden; }
</style>
"""


def active() -> bool:
    """Whether presenter mode is on for this session."""
    return bool(st.session_state.get(STATE, False))


def url_choice() -> bool | None:
    """True/False when the URL says ``present=...`` with a word we understand, else None."""
    raw = st.query_params.get(PARAM)
    if raw is None:
        return None
    word = str(raw).strip().lower()
    if word in ON_WORDS:
        return True
    if word in OFF_WORDS:
        return False
    return None


def set_mode(on: bool) -> None:
    st.session_state[STATE] = bool(on)
    if on:
        st.query_params[PARAM] = "1"
    elif PARAM in st.query_params:
        del st.query_params[PARAM]


def _toggled() -> None:
    set_mode(bool(st.session_state.get(TOGGLE)))


def apply() -> None:
    """Read the URL, keep it in step with the session, and draw the switch or the presenter look."""
    wanted = url_choice()
    if wanted is not None:
        st.session_state[STATE] = wanted
    elif PARAM in st.query_params:  # a word we do not understand: drop it rather than guess
        del st.query_params[PARAM]
    if active():
        st.query_params[PARAM] = "1"  # page switches clear the URL; put it back so it can be shared
        st.html(CSS)
        with st.container(key="presenter_viewport"):
            _measure_viewport()
        with st.container(key="presenter_bar"):
            st.button("Leave presenter mode", key="presenter_exit", on_click=set_mode, args=(False,),
                      shortcut="Esc", icon=":material/close_fullscreen:", type="secondary")
    else:
        st.session_state[TOGGLE] = False
        with st.sidebar:
            st.divider()
            st.toggle("Presenter mode", key=TOGGLE, on_change=_toggled,
                      help="Large text, no sidebar, full-width figures: for projecting in a lecture. "
                           "Same as adding ?present=1 to the address. Leave it with the button at the top "
                           "or the Esc key.")


# Streamlit's button shortcuts listen inside the app, so on a freshly loaded page (focus still on
# <body>) the arrow keys do nothing until the user clicks somewhere. This listener covers exactly
# that case by clicking the Back/Next button itself; once focus is inside the app, Streamlit's
# own shortcut handles the key and this one stays out of the way. Installed once per tab.
KEYS_SCRIPT = """
<script>
(function () {
  if (window.__shrinkageLabKeys) return;
  window.__shrinkageLabKeys = true;
  const targets = {ArrowRight: ".st-key-wt_next button", ArrowLeft: ".st-key-wt_back button",
                   PageDown: ".st-key-wt_next button", PageUp: ".st-key-wt_back button"};
  document.addEventListener("keydown", function (event) {
    const onBody = !document.activeElement || document.activeElement === document.body;
    const paging = event.key === "PageDown" || event.key === "PageUp";  // presentation clickers send these
    if ((!onBody && !paging) || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const button = document.querySelector(targets[event.key] || "none");
    if (button && !button.disabled) { event.preventDefault(); button.click(); }
  });
})();
</script>
"""


def keyboard_ready() -> None:
    """Arrow keys (and a clicker's Page Up/Down) step through the walkthrough straight after loading."""
    st.html(KEYS_SCRIPT, unsafe_allow_javascript=True)


# The window's inner height, reported once by the browser (and again only when it changes by
# more than 8%, e.g. moving to the projector): figures are sized from it in Python.
_VIEWPORT_JS = """
export default function (component) {
  const { data, setStateValue } = component;
  const h = window.innerHeight;
  if (!data || Math.abs(h - data) > 0.08 * data) setStateValue("height", h);
}
"""
_viewport_component = None


def _measure_viewport() -> None:
    global _viewport_component
    if _viewport_component is None:
        _viewport_component = st.components.v2.component("shrinkage_lab_viewport", js=_VIEWPORT_JS)
    result = _viewport_component(key="presenter_window", data=viewport_height(), on_height_change=_noop)
    height = getattr(result, "height", None)
    if isinstance(height, (int, float)) and 300 <= height <= 5000:
        st.session_state[VIEWPORT] = int(height)


def _noop() -> None:
    pass


def viewport_height() -> int:
    """The browser window's inner height in px (DEFAULT_VIEWPORT until the browser has said)."""
    return int(st.session_state.get(VIEWPORT, DEFAULT_VIEWPORT))


def figure(fig, theme: str | None = None, *, screen: float = SCREEN_SHARE):
    """In presenter mode, the figure for the back of the room: a copy (figures may be cached and
    shared with other sessions) with the presenter template, every text at least 20 px, and a
    height of ``screen`` × the window's height (a grid taller than the window keeps its own
    proportions, scaled like its text). Otherwise the figure itself, unchanged.

    ``ui.show`` calls this for every figure with the page's theme; pages need not. Called without
    a theme (as older page code does before ``ui.show``) it leaves the figure to ``ui.show``."""
    if theme is None or not active() or getattr(fig, "_presented", False):
        return fig
    from charts.base import PRESENTER_FONT, FONT_SIZE, present
    import plotly.graph_objects as go

    # A checked copy (also of plain-dict figures): presenter mode is one session, so its cost is fine.
    copy = go.Figure(fig.to_dict())
    own = copy.layout.height or 450
    window = viewport_height()
    # The larger of: its share of the screen, and its own height scaled like its text (a long grid
    # or a matrix with a row per observation keeps room for every row).
    height = max(360, round(screen * window), round(own * PRESENTER_FONT / FONT_SIZE))
    present(copy, theme, height=height)
    copy._presented = True
    return copy


def facet_columns(normal: int, panels_shown: int) -> int:
    """Columns of a facet grid: ``normal`` in normal mode, 3 in presenter mode (2 rows of 3 panels)."""
    if not active():
        return normal
    return max(1, min(3, panels_shown, normal))


def panels(groups, key: str, label: str = "Panels") -> list:
    """The groups a facet grid should draw. In presenter mode at most PANELS of them, chosen with
    a row of buttons (e.g. '1–6', '7–12', '13–18'; in the URL as ``key``); otherwise all of them."""
    groups = list(groups)
    if not active() or len(groups) <= PANELS:
        return groups
    pages = [groups[i:i + PANELS] for i in range(0, len(groups), PANELS)]
    names = [f"{i * PANELS + 1}–{i * PANELS + len(page)}" for i, page in enumerate(pages)]
    choice = st.segmented_control(f"{label} (of {len(groups)})", names, default=names[0], key=key,
                                  bind="query-params")
    return pages[names.index(choice)] if choice in names else pages[0]
