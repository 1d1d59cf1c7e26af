"""Shrinkage Lab: the entry point. This file only sets up the pages.

Run it with `streamlit run app.py`. Each page lives in its own file in
`pages/`; to add one, create the file and list it below under a section.
"""

import streamlit as st

st.set_page_config(page_title="Shrinkage Lab", page_icon="🎯", layout="wide")

# Section name -> pages in that section, in the order students should see them.
SECTIONS = {
    "Welcome": [
        st.Page("pages/home.py", title="Start here", icon=":material/home:", default=True),
    ],
}

st.navigation(SECTIONS).run()
