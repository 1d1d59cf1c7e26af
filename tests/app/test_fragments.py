"""The sliders a student moves most rerun only their part of the page (an ``st.fragment``), so a move
does not rebuild the router, the sidebar and the rest of the page. Checked on the widgets' own
records: every widget drawn inside a fragment carries that fragment's id."""
from __future__ import annotations

import pytest

from test_pages import no_exception, open_page


def fragment_of(at, kind: str, key: str) -> str:
    """The id of the fragment widget ``key`` was drawn in ('' when it is not in one)."""
    widget = getattr(at, kind)(key=key)
    state = getattr(at._session_state, "_state", at._session_state)
    metadata = state._new_widget_state.widget_metadata.get(widget.id)
    return getattr(metadata, "fragment_id", "") or ""


# page, URL parameters, widgets that must share one fragment, widgets that must stay outside it
CASES = [
    ("app_pages/fitting.py", {"data": "sleepstudy", "model": "Random intercept and slope (correlated)"},
     [("select_slider", "sd1"), ("select_slider", "sd2"), ("radio", "corr")],
     [("selectbox", "group"), ("segmented_control", "screen")]),
    ("app_pages/thinning.py", {"data": "sleepstudy"},
     [("slider", "keep"), ("radio", "thin_mode")], []),
    ("app_pages/predictions.py", {"data": "sleepstudy"},
     [("slider", "observed"), ("selectbox", "group"), ("checkbox", "fixed_unc")], [("select_slider", "holdout")]),
    ("app_pages/predictions.py", {"data": "sleepstudy"}, [("select_slider", "holdout")],
     [("slider", "observed")]),
    ("app_pages/lab.py", {}, [("slider", "groups"), ("slider", "per_group"), ("select_slider", "sd_int")], []),
]


@pytest.mark.parametrize("page,params,inside,outside", CASES, ids=[f"{c[0].split('/')[-1]}:{c[2][0][1]}" for c in CASES])
def test_a_move_reruns_only_its_fragment(page, params, inside, outside):
    at = no_exception(open_page(page, **params))
    ids = {fragment_of(at, kind, key) for kind, key in inside}
    assert len(ids) == 1 and ids != {""}, f"{inside} are not all in one fragment: {ids}"
    (fragment,) = ids
    for kind, key in outside:
        assert fragment_of(at, kind, key) != fragment, f"{key} should rerun the page, not this fragment"


def test_the_thinned_page_still_answers_a_move_of_its_slider():
    """Whole-page reruns (what AppTest does) and the fragment give the same page: a move changes
    what is kept, and the caption says so."""
    at = no_exception(open_page("app_pages/thinning.py", data="sleepstudy"))
    at.slider(key="keep").set_value(5).run()
    no_exception(at)
    assert any("observations kept" in c.value and c.value.startswith("90 of 180") for c in at.caption)
