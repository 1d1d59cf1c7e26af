"""End-to-end fixtures: one `streamlit run` of the app and one Chromium for the whole session.

The browser is Debian's `chromium` package (Playwright's own download is not used). Without
it these tests skip with a message; with SHRINKAGE_E2E_REQUIRED=1 (set by .ci/run) a missing
browser is a failure instead, so CI cannot pass without running them.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks import browser_kit as kit

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"  # screenshots and the server log; gitignored
REQUIRED = os.environ.get("SHRINKAGE_E2E_REQUIRED") == "1"
HOW_TO_ENABLE = (
    "no Chromium found, so the end-to-end tests are skipped. To run them, install Debian's "
    f"`chromium` package (apt-get install chromium) or set {kit.CHROMIUM_ENV}=/path/to/chromium. "
    ".ci/run installs it and sets SHRINKAGE_E2E_REQUIRED=1, which turns this skip into a failure."
)


# A browser test whose wait runs out (Playwright's TimeoutError: the page did not reach the
# awaited state in time) is run once more, from a fresh page: on the 2-core CI machine, with the
# whole suite running, a wait very rarely misses its moment (a click falling into a rerun, a
# key press landing on a closing menu). Only that error is re-run; a failed assertion, an
# exception on the page or any other error fails at once. pytest prints each re-run as "R" and
# lists it under "rerun" in the summary, so a test that needs it is visible, not hidden.
try:
    from playwright.sync_api import TimeoutError as RERUN_ONLY_ON
except ImportError:  # no Playwright: the tests skip anyway
    RERUN_ONLY_ON = None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            if RERUN_ONLY_ON is not None and item.get_closest_marker("flaky") is None:
                item.add_marker(pytest.mark.flaky(reruns=1, only_rerun=[RERUN_ONLY_ON]))


def pytest_runtest_logreport(report):
    # A re-run test's first failure would leave no trace in the log (the summary names it only):
    # print where its wait ran out, so a wait that often needs its re-run can be found and fixed.
    if report.outcome != "rerun" or report.longrepr is None:
        return
    lines = [line for line in report.longreprtext.splitlines() if line.strip()]
    where = [line for line in lines if line.startswith(("tests/", "benchmarks/")) or line.startswith("E ")]
    print(f"\nre-run after a time-out: {report.nodeid}\n  " + "\n  ".join((where or lines)[-12:]))


def _need_browser() -> str:
    path = kit.find_chromium()
    if path is None:
        if REQUIRED:
            pytest.fail(f"SHRINKAGE_E2E_REQUIRED=1 but no Chromium was found at the usual places or "
                        f"in {kit.CHROMIUM_ENV}: install Debian's `chromium` package.")
        pytest.skip(HOW_TO_ENABLE)
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch options, pointed at the system Chromium."""
    path = _need_browser()
    return {**browser_type_launch_args, "executable_path": path,
            "args": [*browser_type_launch_args.get("args", []), *kit.LAUNCH_ARGS]}


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The app, served once for the whole session on a free loopback port. Its class-mode
    database is a SQLite file of its own (``server.class_db``), never the user's."""
    _need_browser()
    ARTIFACTS.mkdir(exist_ok=True)
    data = tmp_path_factory.mktemp("server-data")
    with pytest.MonkeyPatch.context() as env:  # the server process inherits these at start
        env.setenv("SHRINKAGE_DATA_DIR", str(data))
        env.delenv("SHRINKAGE_DATABASE_URL", raising=False)
        env.delenv("SHRINKAGE_CLASS_DB", raising=False)
        running = kit.StreamlitServer(log_path=ARTIFACTS / "streamlit.log").start()
    running.class_db = f"sqlite:///{data / 'classroom.sqlite3'}"
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def shared_context(browser):
    """One browser context for the plain page tests, so the app's scripts are downloaded once
    (HTTP cache), as for a student who clicks through the pages. Tests that change
    browser-side state (theme, colour scheme) make their own context."""
    context = browser.new_context(viewport=kit.VIEWPORT)
    kit.prepare_context(context)
    yield context
    context.close()


@pytest.fixture
def app(shared_context, server):
    """A fresh tab with the run/redraw probe installed; fails the test on an uncaught
    JavaScript error in the page."""
    page = shared_context.new_page()
    page.set_default_timeout(kit.RUN_TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    page.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture
def fresh_app(browser, server):
    """factory(**context_options) -> a tab in a new browser context of its own."""
    contexts = []

    def make(**options):
        context = browser.new_context(viewport=kit.VIEWPORT, **options)
        kit.prepare_context(context)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(kit.RUN_TIMEOUT_MS)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    """save(page, name): a full-page screenshot kept as a test artefact."""
    def save(page, name: str) -> Path:
        path = ARTIFACTS / "screenshots" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        # Streamlit scrolls inside its main container, not the document, so a "full page"
        # screenshot is only the window: make the window as tall as the content instead.
        size = page.viewport_size
        height = page.evaluate("Math.max(...Array.from(document.querySelectorAll("
                               "'[data-testid=stMain], [data-testid=stSidebarContent]'), e => e.scrollHeight), 0)")
        page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 12_000)})
        kit.wait_for_figures(page)
        page.screenshot(path=str(path))
        page.set_viewport_size(size)
        return path
    return save
