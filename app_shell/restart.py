"""Restart safety: an open tab keeps working after the server restarts.

After a restart, a browser tab reconnects to a *new* session, which has not run the page yet and
so knows none of its fragments. Streamlit drops a fragment's rerun request for a fragment it
does not know ("The fragment with id … does not exist anymore"): the lab's sliders then move
but its figure never follows. ``install()`` makes such a request run the whole page instead,
but only in a session that has not run the page since it started (so the usual case, a
fragment removed by a full rerun, is left to Streamlit). The whole page registers the
fragments again, and the next slider move is an ordinary fragment rerun.

This reaches into ``AppSession.request_rerun`` (Streamlit 1.67); it is installed once per
process and checked by the browser test tests/e2e/test_reconnect.py.
"""
from __future__ import annotations

import logging

LOG = logging.getLogger("shrinkage_lab")
_MARK = "_shrinkage_lab_fresh_session_reruns"


def install() -> bool:
    """Patch Streamlit once; True when the patch is in place."""
    try:
        from streamlit.runtime.app_session import AppSession
    except ImportError:  # pragma: no cover - another Streamlit layout: nothing to do
        return False
    if getattr(AppSession.request_rerun, _MARK, False):
        return True
    original = AppSession.request_rerun

    def request_rerun(self, client_state=None):
        fragment_id = getattr(client_state, "fragment_id", "") if client_state is not None else ""
        if not fragment_id:
            self._shrinkage_lab_ran_page = True
        elif not getattr(self, "_shrinkage_lab_ran_page", False) and not self.has_fragment(fragment_id):
            # A tab from before a restart: run the whole page with the tab's widget values.
            LOG.info("Fragment %s unknown in a fresh session (server restarted?): running the whole page",
                     fragment_id)
            client_state.fragment_id = ""
            self._shrinkage_lab_ran_page = True
        return original(self, client_state)

    setattr(request_rerun, _MARK, True)
    AppSession.request_rerun = request_rerun
    return True
