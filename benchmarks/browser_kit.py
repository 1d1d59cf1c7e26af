"""Shared browser plumbing: start the app, find Chromium, wait for runs, time a redraw.

Used by the end-to-end tests (tests/e2e/), the latency benchmark (bench_browser.py) and the
load test (load_test.py), so all three start the server and decide "the page has finished"
in the same way.

"Finished" is read from the page itself, not guessed with sleeps: Streamlit publishes its
state on the root element (`data-test-connection-state`, `data-test-script-state`). A
probe script, installed before any page code runs, counts every start of a script run and
records each Plotly redraw (`plotly_afterplot`) and the last key press, all on the page's
own clock, so a latency is the difference of two browser timestamps.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only: nothing here is reachable from outside the machine

# Debian's Chromium in containers: no user namespaces (sandbox), no GPU, a small /dev/shm.
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
CHROMIUM_ENV = "SHRINKAGE_CHROMIUM"  # path to a Chromium binary, overrides the search
VIEWPORT = {"width": 1400, "height": 900}

RUN_TIMEOUT_MS = 90_000  # first runs fit models; a loaded CI machine is slow

APP = '[data-testid="stApp"]'
EXCEPTION = '[data-testid="stException"]'
ERROR_BOX = '[data-testid="stAlertContentError"]'


def free_port() -> int:
    """A TCP port that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def find_chromium() -> str | None:
    """The Chromium binary to drive, or None. `playwright install` is not used on purpose:
    machines here cannot download browsers, so we use the system package."""
    chosen = os.environ.get(CHROMIUM_ENV)
    # An explicit choice is final (setting it to a wrong path is how to test "no browser").
    candidates = [chosen] if chosen else ["/usr/bin/chromium", shutil.which("chromium"),
                                          shutil.which("chromium-browser"), shutil.which("google-chrome")]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def launch_options(headless: bool = True) -> dict:
    """Keyword arguments for `playwright.chromium.launch`."""
    path = find_chromium()
    if path is None:
        raise RuntimeError(f"No Chromium found: install Debian's `chromium` or set {CHROMIUM_ENV}.")
    return {"executable_path": path, "args": list(LAUNCH_ARGS), "headless": headless}


# -- the server -----------------------------------------------------------------------
class StreamlitServer:
    """`streamlit run app.py` on a loopback port, as its own process group.

    Use as a context manager; the log goes to `log_path` (read it when a test fails).
    """

    def __init__(self, port: int | None = None, log_path: Path | None = None,
                 extra_args: tuple[str, ...] = ()):
        self.port = port or free_port()
        self.log_path = log_path or Path(f"/tmp/shrinkage-lab-streamlit-{self.port}.log")
        self.extra_args = extra_args
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def url(self, path: str = "", **params) -> str:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        return f"{self.base_url}/{path.lstrip('/')}" + (f"?{query}" if query else "")

    def start(self, timeout_s: float = 60) -> "StreamlitServer":
        # app_shell.serve is `streamlit run app.py` with the restart patch installed first.
        command = [sys.executable, "-m", "app_shell.serve",
                   "--server.port", str(self.port), "--server.address", HOST,
                   "--server.headless", "true", "--browser.gatherUsageStats", "false",
                   *self.extra_args]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")
        # A session of its own, so stop() ends streamlit and anything it started, and
        # nothing else.
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.wait_healthy(timeout_s)
        return self

    def wait_healthy(self, timeout_s: float = 60) -> None:
        """Poll Streamlit's health endpoint until it answers 'ok'."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.process.returncode}:\n{self.log_tail()}")
            if self.healthy():
                return
            time.sleep(0.2)
        raise TimeoutError(f"streamlit did not become healthy in {timeout_s:.0f} s:\n{self.log_tail()}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/_stcore/health", timeout=2) as reply:
                return reply.status == 200 and reply.read().strip() == b"ok"
        except (urllib.error.URLError, OSError):
            return False

    def rss_mb(self) -> float:
        """Resident memory of the server process in MiB (Linux /proc), 0 when unknown."""
        if self.process is None:
            return 0.0
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout_s: float = 10) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout_s)

    def __enter__(self) -> "StreamlitServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# -- the page probe -------------------------------------------------------------------
# Installed with context.add_init_script, so it is in place before Streamlit's own code.
PROBE_JS = """
(() => {
  if (window.__probe) return;
  const probe = window.__probe = {runs: 0, keydown: 0, redraws: [], finished: 0, lastRunEnd: 0, lastInput: 0};
  document.addEventListener('keydown', () => { probe.keydown = probe.lastInput = performance.now(); }, true);
  document.addEventListener('click', () => { probe.lastInput = performance.now(); }, true);
  // A cheap fingerprint of what a figure shows: per trace its size and a few values. Plotly
  // sometimes draws the same data twice (a resize after the update); the redraw that counts
  // is the first one that shows the final data.
  // Arrays may be plain or Plotly's base64 typed arrays ({bdata, dtype}): sample either.
  const sample = (a) => {
    const v = a && a.bdata !== undefined ? a.bdata : a;
    if (!v || !v.length) return '';
    const at = (f) => String(v[Math.floor(f * (v.length - 1))]);
    return [v.length, at(0), at(0.13), at(0.37), at(0.61), at(0.89), at(1)].join(':');
  };
  const signature = (gd) => (gd.data || []).map((t) => [t.visible, sample(t.x), sample(t.y)].join(',')).join(';');
  const watchFigures = () => {
    document.querySelectorAll('.js-plotly-plot').forEach((gd) => {
      if (gd.__probed || typeof gd.on !== 'function') return;
      gd.__probed = true;
      gd.on('plotly_afterplot', () => {
        const index = Array.from(document.querySelectorAll('.js-plotly-plot')).indexOf(gd);
        // Streamlit 1.67 draws a new chart once hidden (before it knows the column's width) and
        // again, visible, at that width: only a visible redraw is one the student sees.
        const visible = getComputedStyle(gd).visibility !== 'hidden';
        probe.redraws.push([performance.now(), index, signature(gd), visible]);
      });
    });
  };
  new MutationObserver((mutations) => {
    for (const m of mutations) {
      if (m.type === 'attributes' && m.target.getAttribute('data-test-script-state') === 'notRunning') {
        probe.finished = performance.now();  // the last run's end, on the page's clock
      }
    }
    watchFigures();
  }).observe(document, {subtree: true, childList: true, attributes: true,
                        attributeFilter: ['data-test-script-state']});
  // Runs are counted from the server's messages, not from the page's "running" attribute: a short
  // run whose start and end arrive together never shows "running" (React draws once), and a wait
  // for it would wait forever (seen in CI). A ForwardMsg with field 6 (script_finished) ends a run;
  // status 2 (FINISHED_EARLY_FOR_RERUN) is a run cut short by the next one, which is not counted.
  const finishedStatus = (bytes) => {
    let i = 0;
    const varint = () => {
      let value = 0, scale = 1, b;
      do { b = bytes[i++]; value += (b & 0x7f) * scale; scale *= 128; } while ((b & 0x80) && i < bytes.length);
      return value;
    };
    while (i < bytes.length) {
      const tag = varint(), field = Math.floor(tag / 8), wire = tag % 8;
      if (wire === 0) { const v = varint(); if (field === 6) return v; }
      else if (wire === 2) { const length = varint(); i += length; }  // (not i += varint(): i is read first)
      else if (wire === 1) { i += 8; } else if (wire === 5) { i += 4; } else { return -1; }
    }
    return -1;
  };
  const NativeWebSocket = window.WebSocket;
  class ProbedWebSocket extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        if (!(event.data instanceof ArrayBuffer)) return;
        const status = finishedStatus(new Uint8Array(event.data));
        if (status >= 0 && status !== 2) { probe.runs += 1; probe.finished = probe.lastRunEnd = performance.now(); }
      });
    }
  }
  window.WebSocket = ProbedWebSocket;
})();
"""

# A run ended after `since` runs and after the last click or key press (so a run that was still
# finishing when the test clicked is not taken for the click's run), the socket is up, and no
# element is still a loading placeholder.
_SETTLED_JS = """
(since) => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && !!window.__probe && window.__probe.runs > since
    && window.__probe.lastRunEnd >= window.__probe.lastInput
    && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && app.getAttribute('data-test-script-state') === 'notRunning'
    && document.querySelectorAll('[data-testid="stSkeleton"]').length === 0;
}
"""


def prepare_context(context) -> None:
    """Install the probe in every page of a browser context."""
    context.add_init_script(PROBE_JS)


def runs(page) -> int:
    """How many script runs (whole page or fragment) this page has seen finish so far."""
    return page.evaluate("window.__probe ? window.__probe.runs : 0")


def wait_for_run(page, since: int, timeout_ms: float = RUN_TIMEOUT_MS) -> None:
    """Wait until more than `since` runs have finished and the page has settled."""
    page.wait_for_function(_SETTLED_JS, arg=since, timeout=timeout_ms, polling=50)


def wait_for_figures(page, settle_ms: int = 300, timeout_ms: float = 30_000) -> None:
    """Wait until every Plotly figure on the page has drawn and no redraw happened for
    `settle_ms` (Plotly may draw twice: the figure, then a resize to the column)."""
    page.wait_for_function(
        """(settle) => {
          // Every visible chart element holds a drawn Plotly figure (Plotly itself loads lazily).
          const charts = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'))
            .filter((el) => el.offsetParent !== null);
          const drawn = charts.every((el) => el.querySelector('.js-plotly-plot .main-svg'));
          const last = window.__probe.redraws.length ? window.__probe.redraws.at(-1)[0] : 0;
          return drawn && performance.now() - last > settle;
        }""", arg=settle_ms, timeout=timeout_ms, polling=50)


def open_app(page, url: str, timeout_ms: float = RUN_TIMEOUT_MS) -> None:
    """Go to a URL of the app and wait for its first run and its figures."""
    page.goto(url, timeout=timeout_ms)
    wait_for_run(page, since=0, timeout_ms=timeout_ms)
    wait_for_figures(page)


def upload_csv(page, path, before_use=None) -> None:
    """On an open "Your model" page: upload the CSV at ``path`` and use its columns (waits for each run).
    ``before_use(page)``, if given, runs between the upload and the click on "Use these columns"."""
    page.locator("[data-testid=stExpander] summary", has_text="Bring your own data").click()
    since = runs(page)
    page.locator(".st-key-ym_file input[type=file]").set_input_files(str(path))
    wait_for_run(page, since)
    if before_use is not None:
        before_use(page)
    since = runs(page)
    page.locator(".st-key-ym_use button").click()
    wait_for_run(page, since)
    page.get_by_text("In use:").wait_for()


def slider(page, key: str):
    """The keyboard-focusable input of the st.slider with this key."""
    return page.locator(f".st-key-{key} input[type='range']")


def step_direction(page, key: str) -> str:
    """ArrowRight unless the slider is at its maximum (then ArrowLeft), so moves never stall."""
    box = slider(page, key)
    value, top = float(box.input_value()), float(box.get_attribute("max"))
    return "ArrowLeft" if value >= top else "ArrowRight"


# Seen in CI: a key press right after a menu closed went to the menu's button (the popover
# hands focus back to it a moment later), so the slider never moved and the test waited 30 s
# for a run that nothing had asked for. A press that did not move the slider is made again.
_KEY_TOOK_JS = """
([since, selector, before]) => {
  const box = document.querySelector(selector);
  return window.__probe.runs > since || (box !== null && box.value !== before);
}
"""


def press_until_it_takes(page, key: str, direction: str, since: int,
                         tries: int = 3, wait_ms: float = 4_000) -> None:
    """Focus slider `key` and press `direction` until its value changes or a run starts
    (at most `tries` presses; the page's keydown time is that of the press that took)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = slider(page, key)
    selector = f".st-key-{key} input[type='range']"
    before = box.input_value()
    for attempt in range(tries):
        box.focus()
        page.keyboard.press(direction)
        try:
            page.wait_for_function(_KEY_TOOK_JS, arg=[since, selector, before],
                                   timeout=wait_ms, polling=25)
            return
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise


def press_and_time(page, key: str, direction: str | None = None, figure: int = 0,
                   settle_ms: int = 250, timeout_ms: float = 30_000) -> float:
    """Move slider `key` one step with the keyboard; return ms from the key press to the
    redraw of figure number `figure` that first showed its final data on screen (visible: Streamlit
    1.67 first draws a remounted chart hidden, then again at its column's width; read once the
    rerun the key caused has finished and the figure has been quiet for `settle_ms`)."""
    direction = direction or step_direction(page, key)
    before_runs = runs(page)
    before_redraws = page.evaluate("window.__probe.redraws.length")
    press_until_it_takes(page, key, direction, before_runs)
    wait_for_run(page, since=before_runs, timeout_ms=timeout_ms)
    page.wait_for_function(
        """([start, fig, settle]) => {
          const mine = window.__probe.redraws.slice(start).filter((r) => r[1] === fig);
          return mine.length > 0 && performance.now() - mine.at(-1)[0] > settle;
        }""", arg=[before_redraws, figure, settle_ms], timeout=timeout_ms, polling=25)
    return page.evaluate(
        """([start, fig]) => {
          const mine = window.__probe.redraws.slice(start).filter((r) => r[1] === fig);
          const final = mine.at(-1)[2];
          const seen = mine.find((r) => r[2] === final && r[3]) || mine.at(-1);
          return seen[0] - window.__probe.keydown;
        }""", [before_redraws, figure])


def time_page_load(page, url: str, timeout_ms: float = RUN_TIMEOUT_MS) -> float:
    """Open `url` in `page`; return ms from the start of the navigation to the page fully drawn:
    the later of the run's end and the last Plotly redraw (waited for until all figures have been
    quiet for 300 ms). On the page's own clock, which starts at the navigation."""
    open_app(page, url, timeout_ms=timeout_ms)
    return page.evaluate("""() => {
      const last = window.__probe.redraws.length ? window.__probe.redraws.at(-1)[0] : 0;
      return Math.max(last, window.__probe.finished);
    }""")


def page_problems(page) -> list[str]:
    """Exception boxes and error alerts on the page, as text."""
    found = [f"exception: {t.strip()[:500]}" for t in page.locator(EXCEPTION).all_inner_texts()]
    found += [f"error box: {t.strip()[:500]}" for t in page.locator(ERROR_BOX).all_inner_texts()]
    found += [f"dialog: {t.strip()[:300]}" for t in page.locator('[role="dialog"]').all_inner_texts()]
    return found


# -- numbers --------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100), linear between order statistics; nan when empty."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[min(98, max(0, round(q) - 1))]


def summary(values: list[float]) -> tuple[float, float]:
    """(median, 95th percentile)."""
    return (statistics.median(values) if values else float("nan")), percentile(values, 95)


def machine() -> str:
    """One line about the machine, for result tables."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{mem_kb / 1024 ** 2:.0f} GiB"
    except (OSError, ValueError, IndexError):
        mem = "?"
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (f"{os.cpu_count()} CPUs ({cpu}), {mem} RAM, Python {sys.version.split()[0]}, "
            f"load average {load}")


@contextmanager
def chromium_browser(headless: bool = True):
    """A Playwright Chromium browser from the system package, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(**launch_options(headless))
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def browser_profile(browser, headless: bool = True):
    """A browser context with a profile of its own on disk, as a student's everyday browser has (kept
    between visits: its HTTP cache and the compiled code of the scripts it ran before), unlike
    ``browser.new_context()``, which is a private window that keeps both in memory only. Started from
    ``browser``'s Playwright (a second Chromium process); the profile is deleted afterwards."""
    import tempfile

    folder = tempfile.mkdtemp(prefix="shrinkage-lab-profile-")
    context = browser.browser_type.launch_persistent_context(folder, viewport=VIEWPORT, **launch_options(headless))
    try:
        yield context
    finally:
        context.close()
        shutil.rmtree(folder, ignore_errors=True)
