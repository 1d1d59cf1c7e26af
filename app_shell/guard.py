"""Every run of app code within the limits of one web request, with a plain message on an error.

    guarded(page.run, where=page.title)      # app.py, around the whole page

    @guard.fragment                          # instead of @st.fragment (also run_every=…)
    def lab_fragment(): ...

A fragment's rerun (a slider inside ``st.fragment``) runs only the fragment's function, not
app.py, so app.py's ``with limits.use(limits.APP)`` and its error handler are not around it.
``fragment`` puts the same two around the function itself: the engine's limits of one request
(``lmm_core.limits.APP``) and, for an unexpected error, a line in the server's log and a plain
message in place of the fragment (never a traceback). ``st.stop()``/``st.rerun()`` are not
``Exception``s and pass through. With ``SHRINKAGE_LAB_RAISE`` set (the tests) the error is raised.
"""
from __future__ import annotations

import functools
import logging
import os

import streamlit as st

from lmm_core import limits

LOG = logging.getLogger("shrinkage_lab")
RAISE_ENV = "SHRINKAGE_LAB_RAISE"
MESSAGE = ("Something went wrong on this page, and it has been written to the server's log. Choose "
           "another data set or model in the sidebar, or reload the page; if it keeps happening, "
           "please tell your teacher which page and which choices it was.")


def guarded(run, *args, where: str = "", **kwargs):
    """``run(*args, **kwargs)`` within the APP limits; an unexpected error is logged and shown plainly."""
    with limits.use(limits.APP):
        try:
            return run(*args, **kwargs)
        except Exception:  # st.stop()/st.rerun() are not Exceptions, so they pass through
            if os.environ.get(RAISE_ENV):  # the tests see the error itself
                raise
            LOG.exception("Unexpected error in %s", where or getattr(run, "__qualname__", run))
            st.error(MESSAGE, icon=":material/error:")
            return None


def fragment(func=None, *, run_every=None):
    """``st.fragment`` whose every run (the first, inside the page, and each rerun of its own) is
    ``guarded``. Use as ``@fragment`` or ``@fragment(run_every=…)``."""

    def decorate(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            return guarded(fn, *args, where=f"fragment {fn.__qualname__}", **kwargs)

        return st.fragment(run, run_every=run_every)

    return decorate(func) if func is not None else decorate
