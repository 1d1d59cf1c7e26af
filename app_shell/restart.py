"""Restart safety: an open tab keeps working after the server restarts.

After a restart, a browser tab reconnects to a *new* session, which has not run the page yet and
so knows none of its fragments. Streamlit drops a fragment's rerun request for a fragment it
does not know ("The fragment with id … does not exist anymore"): the lab's sliders then move
but its figure never follows. (Measured: the reconnecting tab does ask for a full run first,
but the fragment request that follows still finds no fragment.) ``install()`` makes a rerun
of an unknown fragment run the whole page instead, with the tab's widget values and page. The
whole page registers the fragments again, and the next slider move is an ordinary fragment
rerun. A stale fragment request in any other situation costs one full run, never a loop.

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
        if fragment_id and not self.has_fragment(fragment_id):
            # A tab from before a restart (or a rerun racing a full run): run the whole page with
            # the tab's widget values and page instead of dropping the request.
            LOG.info("Fragment %s unknown to this session (server restarted?): running the whole page", fragment_id)
            client_state.fragment_id = ""
        return original(self, client_state)

    setattr(request_rerun, _MARK, True)
    AppSession.request_rerun = request_rerun
    return True
