"""Legibility, measured in the browser: on every page × data set, in normal mode at 1366×800 (a
student's laptop) and in presenter mode at 1920×1080 (a projector), no text in any figure overlaps
another text or a neighbouring legend entry, none is cut off by its figure or legend box, a legend
above panel titles sits at most 24 px over them, x tick labels of neighbouring panels keep 3 px
apart, no table runs past its column, and in presenter mode every text is at least 20 px and every
figure fills most of the screen's height. Class mode is included: a class on the server's own
database, with its question answered, revealed, and an experiment with every student's sample, seen
from Teach a class (the projector) and Join a class (a student).

One tab per mode, reused for every page (the app's scripts load once), on the session's server and
browser. The walkthrough is stepped with its Next button (a rerun, not a page load), and its paths
bring their own data, so they are walked once per mode rather than once per data set.
"""
from __future__ import annotations

from dataclasses import replace

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from benchmarks import browser_kit as kit
from classroom import ClassQuestion, ClassStore, db, experiment

from e2e_setup import DATASETS, PAGES
from legibility_probe import MIN_PRESENTER_PX, figure_problems, measure, table_problems

MODES = {
    "normal": {"viewport": {"width": 1366, "height": 800}, "params": {}},
    "presenter": {"viewport": {"width": 1920, "height": 1080}, "params": {"present": "1"}},
}
WALKTHROUGH_PATHS = {"sleepstudy": 10, "gpa": 4, "iris": 3}
FILL_SHARE = 0.6  # presenter mode: a figure is at least this share of the window's height


@pytest.fixture(scope="module")
def tabs(browser, server):
    """mode -> a tab of its own size, kept for the whole module."""
    contexts, pages = [], {}
    for mode, spec in MODES.items():
        context = browser.new_context(viewport=spec["viewport"])
        kit.prepare_context(context)
        page = context.new_page()
        page.set_default_timeout(kit.RUN_TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        page.errors = errors
        contexts.append(context)
        pages[mode] = page
    yield pages
    for context in contexts:
        context.close()


def check(page, mode: str, where: str) -> list[str]:
    """Problems with the figures on screen now, and in every other tab of the page (tabs hide figures)."""
    found = _check_visible(page, mode, where)
    tabs = page.locator('[data-testid="stMain"] [role="tab"]')
    for i in range(tabs.count()):
        tab = tabs.nth(i)
        if tab.get_attribute("aria-selected") == "true":
            continue
        tab.click()
        kit.wait_for_figures(page)
        found += _check_visible(page, mode, f"{where} (tab {tab.inner_text().strip()})")
    return found


def _check_visible(page, mode: str, where: str) -> list[str]:
    figures = measure(page)
    found = [f"{where}: {p}" for p in figure_problems(figures, presenter=mode == "presenter")]
    if mode == "presenter":
        window = MODES[mode]["viewport"]["height"]
        for fig in figures:
            tall = fig["frame"]["b"] - fig["frame"]["t"]
            if tall < FILL_SHARE * window:
                found.append(f"{where}: figure {fig['index']} is {tall:.0f} px high, under "
                             f"{FILL_SHARE:.0%} of the {window} px window")
    found += [f"{where}: {p}" for p in table_problems(page)]
    found += [f"{where}: {p}" for p in kit.page_problems(page)]
    return found


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("path", [p for p in PAGES if p != "walkthrough"])
def test_figure_text_is_legible(tabs, server, path, mode):
    page = tabs[mode]
    found = []
    for data in DATASETS if path != "welcome" else DATASETS[:1]:  # the welcome page shows all three
        # Long pages made of screens: all of them at once, so every figure is measured.
        screens = {"screen": "All"} if path == "how-it-is-fitted" else {}
        kit.open_app(page, server.url(path, data=data, **screens, **MODES[mode]["params"]))
        found += check(page, mode, f"{path or 'three-ways'} · {data}")
    assert not page.errors, f"JavaScript errors: {page.errors}"
    assert not found, "\n".join(found)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("walk", list(WALKTHROUGH_PATHS))
def test_walkthrough_figure_text_is_legible(tabs, server, walk, mode):
    page = tabs[mode]
    extra = "".join(f"&{k}={v}" for k, v in MODES[mode]["params"].items())
    kit.open_app(page, f"{server.url('walkthrough')}?path={walk}&step=1{extra}")
    found = check(page, mode, f"walkthrough {walk} step 1")
    for step in range(2, WALKTHROUGH_PATHS[walk] + 1):
        next_step(page, step)
        kit.wait_for_figures(page)
        assert heading(page).startswith(f"Step {step} of")
        found += check(page, mode, f"walkthrough {walk} step {step}")
    assert not page.errors, f"JavaScript errors: {page.errors}"
    assert not found, "\n".join(found)


STUDENTS = 14  # a seminar's worth: enough answers and samples for every figure of class mode
LIVE_MS = 30_000  # the projector's fragment redraws every 2 s; a loaded machine may need longer


def a_class(server):
    """A class on the server's database with a question that every student has answered (not yet
    revealed); returns (store, code, key, participant ids, the question's activity id)."""
    store = ClassStore(db.engine(server.class_db))
    new = store.create_class()
    options = ["The group's own line", "Between its own line and the average", "The average line",
               "Further from the average than its own line"]
    question = ClassQuestion.build("Where does the mixed model put a small group's line?", options, options[1],
                                   "It is pulled towards the average.", {o: "Not so." for o in options})
    activity = store.push_question(new.code, new.key, question)
    people = [store.join(new.code) for _ in range(STUDENTS)]
    for i, pid in enumerate(people):
        store.submit_answer(new.code, pid, activity, options[[1, 1, 0, 1, 2, 1, 3][i % 7]])
    return store, new.code, new.key, people, activity


def start_experiment(store, code, key, people) -> None:
    """The Teach page's default experiment (3–4 observations per group, unequal sizes), with a
    sample from every student, so the projector shows the sampling cloud and the error by size."""
    settings = replace(experiment.PRESETS["Only 3-4 observations"], n_groups=30)
    spec = experiment.spec_for(settings, class_seed=7, title="Class experiment: Only 3-4 observations")
    activity = store.push_experiment(code, key, spec)
    design = experiment.class_design(spec)
    for i, pid in enumerate(people):
        fit = experiment.fit_own_sample(design, seed=500 + i)
        store.submit_sample(code, pid, activity, fit.seed, fit.random, fit.estimates)


def resume(page, url: str, code: str, key: str) -> None:
    """Open the Teach page and resume the class with its code and key (as an instructor would
    in a new tab): the key never travels in a URL."""
    kit.open_app(page, url)
    page.get_by_text("Resume a class").click()
    page.get_by_label("Class code").fill(code)
    page.get_by_label("Instructor key").fill(key)
    before = kit.runs(page)
    page.get_by_role("button", name="Resume").click()
    kit.wait_for_run(page, since=before)
    page.get_by_text("Join at the link or with the code").wait_for()


@pytest.mark.parametrize("mode", list(MODES))
def test_class_mode_figure_text_is_legible(tabs, server, mode, screenshot):
    """Teach a class (the projector) and Join a class (a student), with a question being answered,
    the same question revealed, and a class experiment with every student's sample in."""
    page = tabs[mode]
    params = MODES[mode]["params"]
    store, code, key, people, _question = a_class(server)
    found = []

    resume(page, server.url("teach", **params), code, key)
    page.get_by_text(f"{STUDENTS} answers so far").wait_for(timeout=LIVE_MS)
    kit.wait_for_figures(page)
    found += check(page, mode, "teach · question")
    screenshot(page, f"legibility__teach-question__{mode}")
    page.get_by_role("button", name="Reveal the answer").click()
    page.get_by_text("Right: B.").wait_for(timeout=LIVE_MS)
    kit.wait_for_figures(page)
    found += check(page, mode, "teach · revealed")

    kit.open_app(page, server.url("join", **{"class": code}, **params))
    page.get_by_text("Right: B.").or_(page.get_by_text("The right answer is B")).first.wait_for()
    found += check(page, mode, "join · revealed")

    start_experiment(store, code, key, people)
    kit.open_app(page, server.url("join", **{"class": code}, **params))
    page.get_by_text("Your sample (seed").wait_for()
    kit.wait_for_figures(page)
    found += check(page, mode, "join · experiment")
    screenshot(page, f"legibility__join-experiment__{mode}")

    resume(page, server.url("teach", **params), code, key)
    page.get_by_text(f"{STUDENTS + 1} samples so far").wait_for(timeout=LIVE_MS)
    page.get_by_text("Error of the intercepts over").wait_for(timeout=LIVE_MS)
    kit.wait_for_figures(page)
    found += check(page, mode, "teach · experiment")
    screenshot(page, f"legibility__teach-experiment__{mode}")
    assert not page.errors, f"JavaScript errors: {page.errors}"
    assert not found, "\n".join(found)


def heading(page) -> str:
    return page.locator('[data-testid="stMain"] h3').first.inner_text()


def next_step(page, step: int) -> None:
    """Click Next and wait for its run. A click that lands while the page is still settling can be
    lost (no run starts): then, and only if the step did not change, click again."""
    for attempt in range(3):
        before = kit.runs(page)
        page.locator(".st-key-wt_next button").click()
        try:
            kit.wait_for_run(page, since=before, timeout_ms=kit.RUN_TIMEOUT_MS if attempt == 2 else 20_000)
            return
        except PlaywrightTimeout:
            if heading(page).startswith(f"Step {step} of"):
                return


def test_the_probe_sees_small_and_overlapping_text():
    """The checks themselves, on made-up boxes: an overlap, a cut-off label, a small one, panel titles
    far under their legend, touching tick labels of neighbouring panels."""
    frame = {"l": 0, "t": 0, "r": 400, "b": 300}
    texts = [
        {"text": "a", "kind": "tick", "size": 22, "l": 10, "t": 10, "r": 60, "b": 30},
        {"text": "b", "kind": "annotation", "size": 22, "l": 50, "t": 20, "r": 90, "b": 40},  # overlaps a
        {"text": "c", "kind": "axis title", "size": 22, "l": -8, "t": 100, "r": 20, "b": 200},  # cut off
        {"text": "d", "kind": "legend", "size": MIN_PRESENTER_PX - 3, "l": 200, "t": 250, "r": 240, "b": 270},
        # x tick labels of two neighbouring panels, 1 px apart (touching), and of one panel, far apart
        {"text": "10", "kind": "tick", "axis": "x", "size": 22, "l": 100, "t": 280, "r": 120, "b": 298},
        {"text": "0", "kind": "tick", "axis": "x2", "size": 22, "l": 121, "t": 280, "r": 130, "b": 298},
        {"text": "5", "kind": "tick", "axis": "x2", "size": 22, "l": 160, "t": 280, "r": 170, "b": 298},
    ]
    found = figure_problems([{"index": 0, "frame": frame, "legend": None, "texts": texts, "entries": [],
                              "titleGap": 45.0}], presenter=True)
    assert any("'a' overlaps annotation 'b'" in f for f in found)
    assert any("'c' is cut off" in f for f in found)
    assert any("'d' is 17.0 px" in f for f in found)
    assert any("titles start 45 px under the legend" in f for f in found)
    assert any("'10' (x) and '0' (x2) of neighbouring panels are 1.0 px apart" in f for f in found)
    assert len(found) == 5
