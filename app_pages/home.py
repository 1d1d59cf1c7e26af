"""Start here: what the app teaches and which data sets it uses."""

from pathlib import Path

import pandas as pd
import streamlit as st

import datasets
from app_shell import ui

st.title("Shrinkage Lab")

st.markdown(
    """
Welcome! This app is a hands-on tour of **linear mixed models**: models for data
that come in groups, like several measurements of the same person.

With grouped data there are three ways to fit a line:

- **Complete pooling**: ignore the groups and fit one line for everyone.
- **No pooling**: give each group its own value of whatever the model lets vary
  (its own intercept, its own slope, or both), as if the groups had nothing in
  common; everything else is shared.
- **Partial pooling**: the mixed-model way. Each group gets its own line,
  but each line is pulled towards the overall line. Groups with little or noisy
  data are pulled more. This pull is called **shrinkage**.

Use the menu on the left to move through the pages in order. You can switch
data sets as you go and watch how the amount of shrinkage changes.
"""
)

st.subheader("The data sets")

rows = [
    {
        "Data set": meta.title,
        "Rows": meta.n_rows,
        "Grouped by": meta.group_label,
        "Groups": meta.n_groups,
        "Story": meta.story,
    }
    for meta in datasets.CATALOGUE.values()
]
st.table(pd.DataFrame(rows), hide_index=True)

readme = Path(__file__).resolve().parents[1] / "datasets" / "README.md"


def codebook_for_students(text: str) -> str:
    """The codebook's data-set sections only: the part on loading the data from Python is for
    developers, not for a student in a browser."""
    sections = text.split("\n## ")
    kept = [s for s in sections[1:] if not s.lower().startswith("how to load")]
    return "\n\n".join("## " + s for s in kept)


def codebook() -> None:
    if readme.is_file():
        st.markdown(codebook_for_students(readme.read_text(encoding="utf-8")))
    else:
        st.write("The data sets' description is not available in this installation.")


ui.section("Where the data come from, and what every column means", "home_codebook", codebook)
