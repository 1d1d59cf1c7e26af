"""Shrinkage Lab: the entry point. This file only sets up the pages and the shared controls.

Run it with `streamlit run app.py`. Each page lives in its own file in `app_pages/`;
to add one, create the file and list it below under a section.
"""

import pandas as pd
import streamlit as st

from app_shell import closed_tabs, guard, presenter, restart
from app_shell import ui
from lmm_core import limits

restart.install()  # after a server restart, a fragment's rerun from an open tab runs the whole page
closed_tabs.install()  # a closed tab's session (and its uploaded data) is shut down soon after its TTL

SIDEBAR_PX = 370
# A number for the sidebar's state is its width in px: wide enough for the longest model label in
# the closed chooser, "Random intercept and slope (uncorrelated)" (ui.shared_controls). Streamlit
# then also slides all of it away when it is collapsed (a CSS min-width left a 70 px strip).
st.set_page_config(page_title="Shrinkage Lab", page_icon="🎯", layout="wide", initial_sidebar_state=SIDEBAR_PX)
# Text columns held as Python strings, not Arrow: the app's frames are small, and there pandas'
# Arrow strings cost a quarter of a lab slider move's CPU (same "str" dtype and behaviour).
pd.set_option("mode.string_storage", "python")

LANDING = st.Page("app_pages/three_ways.py", title="Three ways to pool", icon=":material/stacked_line_chart:",
                  default=True)  # served at the app's root: Streamlit gives the default page the path ""
# The same page under its own name, /three-ways (hidden from the sidebar, which lists it once): Streamlit
# serves the default page only at "/", and a link to /three-ways showed "Page not found". Not a switch
# to "/": the link's parameters are bound to widgets, and a switch drops them from the address.
LANDING_BY_NAME = st.Page("app_pages/three_ways.py", title="Three ways to pool", url_path="three-ways",
                          visibility="hidden")

# The folder is app_pages/, not pages/: Streamlit treats a folder named pages/ as the old
# multipage layout and, on a direct link to a page, runs that file without this router.
# Section name -> pages in that section, in the order students should see them.
SECTIONS = {
    "Start here": [
        st.Page("app_pages/home.py", title="Welcome", icon=":material/home:", url_path="welcome"),
        st.Page("app_pages/walkthrough.py", title="Guided walkthrough", icon=":material/school:",
                url_path="walkthrough"),
    ],
    "See it": [
        LANDING,
        LANDING_BY_NAME,
        st.Page("app_pages/shrinkage_map.py", title="The shrinkage map", icon=":material/scatter_plot:",
                url_path="shrinkage-map"),
        st.Page("app_pages/lab.py", title="Shrinkage lab", icon=":material/tune:", url_path="lab"),
        st.Page("app_pages/thinning.py", title="Less data, more shrinkage", icon=":material/content_cut:",
                url_path="less-data"),
    ],
    "Understand it": [
        st.Page("app_pages/fitting.py", title="How the model is fitted", icon=":material/functions:",
                url_path="how-it-is-fitted"),
        st.Page("app_pages/predictions.py", title="Predictions", icon=":material/trending_up:",
                url_path="predictions"),
    ],
    "Try it": [
        st.Page("app_pages/your_model.py", title="Your model", icon=":material/edit_note:", url_path="your-model"),
        st.Page("app_pages/exercises.py", title="Exercises", icon=":material/assignment:", url_path="exercises"),
    ],
    "Class mode": [
        st.Page("app_pages/teach.py", title="Teach a class", icon=":material/co_present:", url_path="teach"),
        st.Page("app_pages/join.py", title="Join a class", icon=":material/how_to_reg:", url_path="join"),
    ],
}

page = st.navigation(SECTIONS)
# Everything a link, a typed formula or an upload asks for runs within the limits of one web
# request (lmm_core.limits.APP: design sizes, dense matrices, a wall clock for each fit); an
# unexpected error is logged and shown as a plain message. Fragments (guard.fragment instead of
# st.fragment) get the same on their own reruns, which do not pass through here.
with limits.use(limits.APP):
    ui.shared_controls()
    presenter.apply()  # presenter mode (?present=1): big text, no sidebar, on every page
    guard.guarded(page.run, where=f"page {page.title}")
