"""The app against hostile links and unlucky uploads (AppTest): caches keyed by the whole input,
uploaded data on every page, escaped echoes, limits on what a link may ask, lost uploads said."""
from __future__ import annotations

import json
import re
import time

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from test_pages import APP, figures, no_exception, values

from app_shell import compute, ui
from datasets import upload

MODELS = [m.label for m in upload.models_for("y", "g", "x1")]
PAGES = ["app_pages/home.py", "app_pages/walkthrough.py", "app_pages/three_ways.py", "app_pages/shrinkage_map.py",
         "app_pages/lab.py", "app_pages/thinning.py", "app_pages/fitting.py", "app_pages/predictions.py",
         "app_pages/your_model.py", "app_pages/exercises.py"]


def study(seed: int = 5, groups: int = 16, per: int = 8) -> bytes:
    """A small study with two covariates on different scales, so results differ by role."""
    rng = np.random.default_rng(seed)
    g = np.repeat([f"p{k:02d}" for k in range(groups)], per)
    x1 = np.tile(np.arange(per, dtype=float), groups)
    x2 = rng.uniform(100, 200, groups * per)
    a = rng.normal(0, 2, groups)[np.repeat(np.arange(groups), per)]
    y = 10 + a + 0.8 * x1 + 0.05 * x2 + rng.normal(0, 1, groups * per)
    return pd.DataFrame({"y": y, "g": g, "x1": x1, "x2": x2}).to_csv(index=False).encode()


def upload_as(raw: bytes, name: str, roles: tuple[str, str, str], model: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("app_pages/your_model.py").run()
    at.file_uploader(key="ym_file").set_value((name, raw, "text/csv")).run()
    at.selectbox(key="ym_response").set_value(roles[0])
    at.selectbox(key="ym_group").set_value(roles[1])
    at.selectbox(key="ym_covariate").set_value(roles[2])
    at.button(key="ym_use").click().run()
    no_exception(at)
    assert at.selectbox(key="data").value == upload.PREFIX + name
    if model:
        at.selectbox(key="model").set_value(model).run()
    return at


def figure_x(at: AppTest) -> list[float]:
    fig = figures(at)[0]
    xs = []
    for trace in fig["data"]:
        x = trace.get("x")
        if x is None:
            continue
        try:
            xs += [float(v) for v in values(x) if np.isfinite(v)]
        except (TypeError, ValueError):  # text or dates: not what this test reads
            continue
    return sorted(xs)


def unescaped(text: str) -> str:
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


def all_markdown(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "error", "warning", "info", "success")
             for e in getattr(at, kind)]
    return "\n".join(parts)


# -- caches: the whole input is the key ------------------------------------------------------------
def test_two_sessions_with_the_same_file_and_different_roles_see_their_own_results():
    raw = study()
    a = upload_as(raw, "same.csv", ("y", "g", "x1"))
    b = upload_as(raw, "same.csv", ("y", "g", "x2"))
    a.switch_page("app_pages/thinning.py").run()
    b.switch_page("app_pages/thinning.py").run()
    no_exception(a), no_exception(b)
    xa, xb = figure_x(a), figure_x(b)
    assert xa and xb
    # x1 is 0..7, x2 is 100..200: every point and line of a session is on its own covariate's scale
    assert max(xa) < 50, "session A shows values of x2"
    assert min(xb) > 50, "session B shows values of x1 (another session's cached result)"
    # and inside one session, new roles give new results
    a.switch_page("app_pages/your_model.py").run()
    a.file_uploader(key="ym_file").set_value(("same.csv", raw + b"\n", "text/csv")).run()
    a.selectbox(key="ym_covariate").set_value("x2")
    a.button(key="ym_use").click().run()
    a.switch_page("app_pages/thinning.py").run()
    assert min(figure_x(a)) > 50


def test_results_on_uploaded_data_stay_in_the_session_and_go_with_forget():
    at = upload_as(study(), "private.csv", ("y", "g", "x1"))
    at.switch_page("app_pages/three_ways.py").run()
    store = at.session_state[compute.PRIVATE]
    assert len(store) >= 1 and all(key[1][1].digest for key in store)  # (function, ("key", DataKey)), ...
    at.switch_page("app_pages/your_model.py").run()
    at.button(key="ym_forget").click().run()
    no_exception(at)
    assert compute.PRIVATE not in at.session_state or len(at.session_state[compute.PRIVATE]) == 0
    assert at.selectbox(key="data").value == "sleepstudy"


def test_formulas_differing_only_in_spacing_share_one_cache_entry():
    assert compute.formula_key("Reaction~Days+(1|Subject)") == compute.formula_key(" Reaction ~ Days + ( 1 | Subject ) ")
    key = compute.DataKey("Your data: a.csv", "abc", ("y", "g", "x"), ("y", "g", "x"))
    assert key.private and not compute.builtin_key("sleepstudy").private
    assert key != compute.DataKey("Your data: a.csv", "abc", ("y", "g", "x"), ("y", "g", "x2"))


# -- every page with uploaded data, for every model type --------------------------------------------
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("page", PAGES)
def test_every_page_works_with_uploaded_data(page, model):
    at = upload_as(study(), "mine.csv", ("y", "g", "x1"), model=model)
    at.switch_page(page).run()
    no_exception(at)
    text = all_markdown(at)
    assert "UnknownDatasetError" not in text and "Traceback" not in text
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="data").value == upload.PREFIX + "mine.csv"


# -- links that ask for too much ---------------------------------------------------------------------
def open_link(page: str, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page).run()
    return no_exception(at)


@pytest.mark.parametrize("formula,limit_words", [
    ("Reaction ~ (Days)^30000000 + (1|Subject)", ["power", "^2"]),
    ("Reaction ~ " + "(" * 900 + "Days" + ")" * 900 + " + (1|Subject)", ["nested"]),
    ("Reaction ~ Days + (1|Subject)" + " + Days" * 700, ["characters"]),
])
def test_a_hostile_formula_link_is_refused_with_a_plain_message(formula, limit_words):
    start = time.perf_counter()
    at = open_link("app_pages/your_model.py", ym_formula=formula)
    print(f"\nlink answered in {time.perf_counter() - start:.2f} s")
    message = unescaped("\n".join(e.value for e in at.error))
    assert message, "expected an error box"
    for word in limit_words:
        assert word in message, message
    assert "Traceback" not in message and "RecursionError" not in message


def test_markdown_in_a_formula_link_is_shown_as_text_not_a_link():
    hostile = "[Your session expired: click here](https://evil.example/login) ![t](https://evil.example/t.png)"
    at = open_link("app_pages/your_model.py", ym_formula=hostile)
    for element in list(at.error) + list(at.info) + list(at.markdown) + list(at.warning):
        value = element.value
        assert "](https://evil" not in value and "](http" not in value, value


@pytest.mark.parametrize("params", [
    {"path": "[click](https://evil.example)", "step": "1"},
    {"path": "sleepstudy", "step": "![t](https://evil.example/t.png)"},
])
def test_walkthrough_url_values_are_escaped(params):
    at = open_link("app_pages/walkthrough.py", **params)
    notes = [i.value for i in at.info]
    assert notes, "the page should say that the URL asked for something that does not exist"
    for value in notes:
        assert "](https://evil" not in value and "![" not in value.replace("\\!\\[", ""), value


def test_plain_escapes_every_markup_and_reads_the_same():
    hostile = "*bold* _it_ `code` [a](b) ![i](j) <b>html</b> :red[x] :material/home: $x^2$ ~~s~~ # h"
    safe = ui.plain(hostile)
    for raw in ("](", "![", "<b>", ":red[", "$x", "~~", "*b", "_i", "`c"):
        assert not re.search(r"(?<!\\)" + re.escape(raw), safe), raw
    assert unescaped(safe).replace("\u2060", "") == hostile
    assert ui.plain("- item").startswith("\\-") and ui.plain("1. item").startswith("1\\.")
    assert ui.plain("x" * 500).endswith("…") and len(ui.plain("x" * 500)) == 200
    assert ui.code("a ``` b").startswith("````")


# -- names from an upload inside figures ---------------------------------------------------------------
LINK = '<a href="http://x">y</a>'
BOLD = "<b>z</b>"


def hostile_study() -> bytes:
    """The study with a response called LINK, a group column called BOLD, groups named with markup."""
    frame = pd.read_csv(pd.io.common.BytesIO(study()))
    frame["g"] = frame["g"].map(lambda g: f"<b>{g}</b>" if g.endswith(("0", "2", "4")) else f'<a href="http://x">{g}</a>')
    return frame.rename(columns={"y": LINK, "g": BOLD, "x1": "x & <i>1</i>"}).to_csv(index=False).encode()


def figure_texts(value, skip=("template",)):
    """Every string in a figure's JSON (outside its template), base64 arrays left out."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        if "bdata" in value:
            return
        for key, item in value.items():
            if key not in skip:
                yield from figure_texts(item, skip)
    elif isinstance(value, list):
        for item in value:
            yield from figure_texts(item, skip)


def test_figures_show_uploaded_names_as_text_never_as_markup():
    at = upload_as(hostile_study(), "<b>f</b>.csv", (LINK, BOLD, "x & <i>1</i>"))
    figures_seen, names_seen = 0, 0
    for page in PAGES:
        at.switch_page(page).run()
        no_exception(at)
        for fig in figures(at):
            figures_seen += 1
            for text in figure_texts(fig):
                assert not re.search(r"<a[\s>]", text, re.I), (page, text)  # the app draws no links
                for raw in ("<b>z</b>", "<b>p0", "<i>1</i>", "<b>f</b>", "x & "):
                    assert raw not in text, (page, raw, text)
                names_seen += ("&lt;b&gt;" in text) + ("&lt;a href" in text)
    assert figures_seen >= 10 and names_seen > 0  # the names are there, escaped


def test_escaping_leaves_the_app_markup_and_the_cached_figure_alone():
    from charts.base import escape_user_text, fast_figure, unescape_user_text

    fig = fast_figure([{"type": "scatter", "x": [1.0, 2.0], "y": [1.0, 2.0], "name": f"group {BOLD}",
                        "customdata": np.array([[BOLD], ["p1"]], dtype=object),
                        "hovertemplate": "<b>%{customdata[0]}</b><br>y = %{y}<extra></extra>"}],
                      {"title": {"text": f"Response: {LINK}<br>per group"}})
    assert escape_user_text(fig, ["plain", "names"]) is fig  # nothing to escape: the same figure
    safe = escape_user_text(fig, [LINK, BOLD, "p1"]).to_dict()
    assert safe["layout"]["title"]["text"] == "Response: &lt;a href=\"http://x\"&gt;y&lt;/a&gt;<br>per group"
    trace = safe["data"][0]
    assert trace["name"] == "group &lt;b&gt;z&lt;/b&gt;" and trace["customdata"][0] == ["&lt;b&gt;z&lt;/b&gt;"]
    assert trace["hovertemplate"].startswith("<b>%{customdata[0]}</b><br>")  # the app's own markup
    assert fig.to_dict()["data"][0]["name"] == f"group {BOLD}"  # the original is unchanged
    assert unescape_user_text("&lt;b&gt;z&lt;/b&gt;", [BOLD]) == BOLD
    rd = fast_figure([], {"title": {"text": "R&D <br>x"}})
    assert escape_user_text(rd, ["&"]).to_dict()["layout"]["title"]["text"] == "R&amp;D <br>x"


# -- lost uploads ---------------------------------------------------------------------------------------
def test_a_lost_upload_is_announced_and_the_typed_formula_kept():
    at = open_link("app_pages/your_model.py", data="Your data: [mine](https://evil.example).csv",
                   ym_formula="y ~ x1 + (1 | g)")
    warning = " ".join(w.value for w in at.warning)
    assert "not on the server any more" in warning and "Upload the file again" in warning
    assert "](https://evil" not in warning
    assert at.text_input(key="ym_formula").value == "y ~ x1 + (1 | g)"
    assert at.selectbox(key="data").value == "sleepstudy"


def test_an_unexpected_error_is_a_plain_message_when_not_testing(monkeypatch):
    monkeypatch.delenv("SHRINKAGE_LAB_RAISE", raising=False)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    monkeypatch.setattr(ui, "pooling_for", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("/secret/path")))
    at.switch_page("app_pages/three_ways.py").run()
    assert not at.exception
    text = " ".join(e.value for e in at.error)
    assert "Something went wrong" in text and "/secret/path" not in text


# -- fragments: their own reruns within the limits of one request ---------------------------------------
FRAGMENT_SCRIPT = """
import streamlit as st
from app_shell import guard
from lmm_core import limits

@guard.fragment
def inside():
    st.write(f"limits: {'APP' if limits.current() == limits.APP else 'DEFAULT'}")
    if st.session_state.get("fail"):
        raise RuntimeError("/secret/path")

inside()  # called outside any limits.use, as Streamlit calls a fragment on its own rerun
"""


def test_a_fragment_runs_within_the_app_limits_and_fails_plainly(monkeypatch):
    at = AppTest.from_string(FRAGMENT_SCRIPT).run()
    assert at.markdown[0].value == "limits: APP"
    monkeypatch.delenv("SHRINKAGE_LAB_RAISE", raising=False)
    at.session_state["fail"] = True
    at.run()
    assert not at.exception
    text = " ".join(e.value for e in at.error)
    assert "Something went wrong" in text and "/secret/path" not in text
    monkeypatch.setenv("SHRINKAGE_LAB_RAISE", "1")  # the tests see the error itself
    at.run()
    assert at.exception


def test_every_fragment_of_the_pages_is_guarded():
    from pathlib import Path

    pages = Path(APP).parent / "app_pages"
    bare = [f"{p.name}:{n}" for p in sorted(pages.glob("*.py"))
            for n, line in enumerate(p.read_text().splitlines(), 1) if "st.fragment" in line]
    assert not bare, f"use ui.fragment (app_shell.guard) instead of st.fragment: {bare}"
