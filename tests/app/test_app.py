"""Smoke tests for the Streamlit app (no browser needed)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

import datasets

# AppTest resolves a relative path against the calling file (tests/), so give
# it the full path of app.py at the repository root.
APP = Path(__file__).resolve().parents[2] / "app.py"


def _run_app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    return at


def test_app_starts_without_exception():
    at = _run_app()
    assert not at.exception


def test_app_opens_on_three_ways_to_pool_with_sleepstudy():
    at = _run_app()
    assert at.title[0].value == "Three ways to pool"
    assert at.selectbox(key="data").value == "sleepstudy"


def test_home_page_lists_the_three_data_sets():
    at = _run_app()
    at.switch_page("app_pages/home.py")
    at.run()
    shown = " ".join(str(v) for v in at.table[0].value.to_numpy().ravel())
    for meta in datasets.CATALOGUE.values():
        assert meta.title in shown
