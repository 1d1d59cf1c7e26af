"""Long pages as a series of screens an instructor can project one at a time.

A page calls ``Screens(titles)`` once near its top (it draws the chooser: numbered screens, Back and
Next, keys PageUp/PageDown and ←/→ when nothing has focus), then ``mark(n)`` where screen n
begins. Only the chosen screen's part of the page is shown; "All" shows the whole page as one long
read. The screen is in the URL (``?screen=3``), so a link opens the same screen.

Marking instead of wrapping: the page's sections stay at the top level of the page file (no
re-indentation, no change to what they compute); the chooser writes a few CSS rules that hide
everything between the first mark and the chosen one, and everything from the next mark on.
"""
from __future__ import annotations

import streamlit as st

ALL = "All"
_MAIN = '[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"]'


class Screens:
    """The chooser and the marks of one page's screens."""

    def __init__(self, titles: list[str], key: str = "screen", label: str = "Screen"):
        self.key = key
        self.titles = list(titles)
        options = [str(i) for i in range(1, len(self.titles) + 1)] + [ALL]
        raw = st.query_params.get(key)
        if raw not in options:
            raw = st.session_state.get(key) if st.session_state.get(key) in options else "1"
        st.session_state[key] = raw
        self._options = options
        nav, back, forward = st.columns([6, 1.4, 1.4], vertical_alignment="center")
        with nav:
            st.segmented_control(label, options, key=key, on_change=self._keep,
                                 format_func=self._label, help="One screen at a time for projecting; "
                                 "'All' shows the whole page. Keys: PageUp/PageDown (or ← → before clicking).")
        number = self.current
        with nav:
            st.markdown(f"**{number} of {len(self.titles)} · {self.titles[number - 1]}**" if number
                        else "**The whole page** (every screen, one after the other)")
        back.button("Back", key=f"{key}_back", on_click=self._go, args=(-1,), disabled=number in (None, 1),
                    width="stretch")
        forward.button("Next", key=f"{key}_next", on_click=self._go, args=(1,), type="primary",
                       disabled=number in (None, len(self.titles)), width="stretch")
        st.query_params[key] = st.session_state.get(key) or "1"
        self._hide_others()

    def _label(self, option: str) -> str:
        return option  # numbers only, so nine screens fit on one row at 1366 px; the title is below

    @property
    def current(self) -> int | None:
        """The screen shown (1-based), or None when the whole page is shown."""
        value = st.session_state.get(self.key) or "1"
        return None if value == ALL else int(value)

    def _keep(self) -> None:
        if not st.session_state.get(self.key):  # a click on the chosen option clears it: keep it
            st.session_state[self.key] = st.query_params.get(self.key, "1")
        st.query_params[self.key] = st.session_state[self.key]

    def _go(self, step: int) -> None:
        number = (self.current or 1) + step
        number = min(max(number, 1), len(self.titles))
        st.session_state[self.key] = str(number)
        st.query_params[self.key] = str(number)

    def mark(self, number: int) -> None:
        """Screen ``number`` starts here (call in order: 1, 2, ...)."""
        st.html(f'<span class="screen-mark" id="{self.key}-mark-{number}"></span>')

    def _hide_others(self) -> None:
        number = self.current
        if number is None:
            return
        first = f'{_MAIN} > *:has(#{self.key}-mark-1)'
        rules = []
        if number > 1:  # everything from the first mark up to the chosen one
            chosen = f'{_MAIN} > *:has(#{self.key}-mark-{number})'
            rules.append(f'{first} ~ *:not({chosen}, {chosen} ~ *)')  # (:has cannot nest)
            rules.append(first)
        if number < len(self.titles):  # everything from the next mark on
            nxt = f'{_MAIN} > *:has(#{self.key}-mark-{number + 1})'
            rules.append(nxt)
            rules.append(f'{nxt} ~ *')
        if rules:
            st.html("<style>" + ",\n".join(rules) + " { display: none !important; }</style>")


# PageUp/PageDown (a presentation clicker) and ←/→ before anything has focus click Back/Next.
KEYS_SCRIPT = """
<script>
(function () {
  if (window.__shrinkageLabScreenKeys) return;
  window.__shrinkageLabScreenKeys = true;
  document.addEventListener("keydown", function (event) {
    const onBody = !document.activeElement || document.activeElement === document.body;
    const paging = event.key === "PageDown" || event.key === "PageUp";
    if ((!onBody && !paging) || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const forward = event.key === "PageDown" || event.key === "ArrowRight";
    const back = event.key === "PageUp" || event.key === "ArrowLeft";
    if (!forward && !back) return;
    const button = document.querySelector(forward ? ".st-key-screen_next button" : ".st-key-screen_back button");
    if (button && !button.disabled) { event.preventDefault(); button.click(); }
  });
})();
</script>
"""


def keyboard_ready() -> None:
    st.html(KEYS_SCRIPT, unsafe_allow_javascript=True)
