"""Sections (``ui.section``): expanders whose content is built and sent only while they are open.

A closed expander's content used to travel with the page and be laid out unseen, before the first
figure of a new tab (a data frame's 1.2 MB of code, KaTeX for a formula). Checked here: a closed
section sends nothing but its header; opened, it shows what the page put in it; it reruns on its
own (a fragment of its own, not the page's); and closing it again leaves the page as it was."""
from __future__ import annotations

import pytest

from test_pages import no_exception, open_page, open_sections

# page, URL parameters, section key, label, something the open section shows (element kind, text in it)
SECTIONS = [
    ("app_pages/three_ways.py", {"data": "sleepstudy"}, "three_ways_numbers",
     "The model's numbers (what lme4 would print)", ("text", "Linear mixed model fit by REML")),
    ("app_pages/home.py", {}, "home_codebook", "Where the data come from, and what every column means",
     ("markdown", "sleepstudy")),
    ("app_pages/lab.py", {}, "lab_why", "Why does shrinking make estimates better?", ("markdown", "\\lambda_j")),
    ("app_pages/thinning.py", {"data": "sleepstudy"}, "thin_why",
     "Why do thinned groups usually move more, and when do they not?", ("markdown", "\\lambda_j")),
    ("app_pages/thinning.py", {"data": "sleepstudy"}, "thin_expected",
     "The pull the model expects, whatever a group's own estimate", ("markdown", "Averaged over the thinned")),
    ("app_pages/fitting.py", {"data": "sleepstudy"}, "fitting_henderson",
     "The general form: Henderson's mixed-model equations", ("markdown", "equations**")),
    ("app_pages/walkthrough.py", {"path": "sleepstudy", "step": "3"}, "walkthrough_formula",
     "The model as a formula", ("latex", "Reaction")),
    ("app_pages/your_model.py", {"data": "sleepstudy"}, "your_model_formula_help", "How to write a formula",
     ("markdown", "Nothing you type is run as code")),
]


def expander(at, label: str):
    found = [e for e in at.expander if e.label == label]
    assert len(found) == 1, f"expected one expander {label!r}, found {[e.label for e in at.expander]}"
    return found[0]


def texts(node, kind: str) -> list[str]:
    """The values of every element of ``kind`` under ``node``."""
    out = []

    def walk(n):
        if getattr(n, "type", None) == kind:
            out.append(str(n.value))
        children = getattr(n, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)

    walk(node)
    return out


def fragment_of_key(at, key: str) -> str:
    state = getattr(at._session_state, "_state", at._session_state)
    metadata = state._new_widget_state.widget_metadata.get(state.get_widget_id_from_key(key))
    return getattr(metadata, "fragment_id", "") or ""


@pytest.mark.parametrize("page,params,key,label,shows", SECTIONS, ids=[s[2] for s in SECTIONS])
def test_a_closed_section_sends_only_its_header_and_an_open_one_its_content(page, params, key, label, shows):
    at = no_exception(open_page(page, **params))
    assert expander(at, label).children == {}, "a closed section's content was sent"
    kind, text = shows
    assert not any(text in t for t in texts(at, kind)), "the content is on the page while its section is closed"

    no_exception(open_sections(at, key))
    inside = texts(expander(at, label), kind)
    assert any(text in t for t in inside), f"open, {label!r} does not show {text!r}: {inside[:3]}"

    at.session_state[key] = False
    no_exception(at.run())
    assert expander(at, label).children == {}, "closed again, the section still sends its content"


@pytest.mark.parametrize("page,params,key,label,shows", SECTIONS[:3], ids=[s[2] for s in SECTIONS[:3]])
def test_a_section_reruns_on_its_own(page, params, key, label, shows):
    """Opening a section is a rerun of the section alone: it is a fragment, not part of another
    fragment or of the page (the page's own widgets stay outside it)."""
    at = no_exception(open_page(page, **params))
    own = fragment_of_key(at, key)
    assert own, f"{key} is not drawn in a fragment"
    others = {w.key: fragment_of_key(at, w.key) for w in list(at.selectbox) + list(at.slider) if w.key}
    assert others and own not in others.values(), f"{key} shares a fragment with {others}"


def test_the_three_ways_numbers_name_the_formula_as_inline_code():
    """The formula is shown as code, fenced so that a name with a backtick cannot end it."""
    at = no_exception(open_sections(open_page("app_pages/three_ways.py", data="sleepstudy"), "three_ways_numbers"))
    said = texts(expander(at, "The model's numbers (what lme4 would print)"), "markdown")
    assert "Model: `Reaction ~ Days + (1 | Subject)`, fitted by REML." in said
