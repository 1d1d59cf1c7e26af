"""Presenter mode: large fonts, no sidebar and full-width content, for projecting the app.

Switched on by the URL (``?present=1``) or by the toggle at the foot of the sidebar, and off
by ``?present=0``, the "Leave presenter mode" button or the Esc key. It stays on while the
presenter moves between pages: the choice lives in session state and is written back to the
URL on every page, so the address in the browser can always be shared as it is.

``app.py`` calls ``apply()`` once per run, after the shared sidebar and before the page.
Pages can ask ``active()`` and pass figures through ``figure()`` for projector-sized text.
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
FIGURE_FONT = 21  # px, for projected figures (the normal look uses 17)
LEGEND_FONT = 16

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


def figure(fig):
    """In presenter mode, enlarge a figure's text for the back of the room; otherwise unchanged."""
    if not active():
        return fig
    # Legends keep their normal size: long horizontal legends would otherwise wrap into the plot.
    fig.update_layout(font={"size": FIGURE_FONT}, legend={"font": {"size": LEGEND_FONT}},
                      hoverlabel={"font_size": FIGURE_FONT - 1})
    for note in fig.layout.annotations or ():
        size = note.font.size if note.font is not None and note.font.size else None
        if size:
            note.font.size = size + (FIGURE_FONT - 17)
    return fig
