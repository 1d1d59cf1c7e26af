"""Two replicas behind the real HAProxy (deploy/replicas.py, the template of deploy/haproxy.cfg):
a browser stays on one replica, uploads reach it, static scripts come gzipped, and a tab
survives the loss and restart of its replica.

Needs Debian's `haproxy` (apt-get install haproxy; .ci/run installs it) besides Chromium; without
it these tests skip with a message (fail under SHRINKAGE_E2E_REQUIRED=1, as CI sets).
"""
from __future__ import annotations

import gzip
import os
import urllib.request
from pathlib import Path

import pytest

from benchmarks import browser_kit as kit
from deploy import replicas as dep

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "proxy"
REQUIRED = os.environ.get("SHRINKAGE_E2E_REQUIRED") == "1"
STREAMLIT_JS = Path(__import__("streamlit").__file__).parent / "static" / "static" / "js"

# Records every change of the app's connection state, so a short disconnection is seen even
# when the tab reconnects (to the other replica) before a test could poll for it.
CONNECTION_LOG_JS = """
(() => {
  window.__connection = [];
  new MutationObserver(() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app && app.getAttribute('data-test-connection-state');
    if (state && window.__connection.at(-1) !== state) window.__connection.push(state);
  }).observe(document, {subtree: true, childList: true, attributes: true,
                        attributeFilter: ['data-test-connection-state']});
})();
"""


@pytest.fixture(scope="module")
def deployment(browser):
    if dep.haproxy_binary() is None:
        message = "haproxy is not installed, so the proxy tests are skipped (apt-get install haproxy)"
        if REQUIRED:
            pytest.fail(f"SHRINKAGE_E2E_REQUIRED=1 but {message}")
        pytest.skip(message)
    with dep.Deployment(replicas=2, log_dir=ARTIFACTS) as running:
        warm_up(browser, running)
        yield running


def warm_up(browser, deployment) -> None:
    """Open the first test's page once on each replica directly (not through HAProxy, whose counts
    the tests read): a replica's first run imports the app and fits the data, which on a busy CI
    machine took the first test's page past its time limit (it passed when re-run, warm)."""
    context = browser.new_context(viewport=kit.VIEWPORT)
    kit.prepare_context(context)
    try:
        for replica in deployment.replicas:
            page = context.new_page()
            kit.open_app(page, f"{replica.base_url}/your-model?data=sleepstudy")
            page.close()
    finally:
        context.close()


class Watched:
    """A tab in a browser context of its own, with every response's replica noted: HTTP
    responses from Playwright, the WebSocket handshake from Chromium's DevTools protocol."""

    def __init__(self, browser, deployment):
        self.context = browser.new_context(viewport=kit.VIEWPORT)
        kit.prepare_context(self.context)
        self.context.add_init_script(CONNECTION_LOG_JS)
        self.page = self.context.new_page()
        self.page.set_default_timeout(kit.RUN_TIMEOUT_MS)
        self.responses: list[tuple[str, str, int, dict]] = []  # (method, url, status, headers)
        self.sockets: list[dict] = []  # handshake response headers, lower-case names
        self.errors: list[str] = []
        base = deployment.url
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("response", lambda r: self.responses.append((r.request.method, r.url, r.status, r.headers))
                     if r.url.startswith(base) else None)
        cdp = self.context.new_cdp_session(self.page)
        cdp.send("Network.enable")
        cdp.on("Network.webSocketHandshakeResponseReceived",
               lambda event: self.sockets.append({k.lower(): v for k, v in event["response"]["headers"].items()}))

    def cookie(self) -> str | None:
        return next((c["value"] for c in self.context.cookies() if c["name"] == dep.COOKIE), None)

    def replicas_seen(self, since: int = 0) -> set[str | None]:
        return {headers.get("x-replica") for *_, headers in self.responses[since:]}

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser, deployment):
    made = []

    def make() -> Watched:
        made.append(Watched(browser, deployment))
        return made[-1]

    yield make
    for tab in made:
        tab.close()
    for tab in made:
        assert not tab.errors, f"JavaScript errors in the page: {tab.errors}"


def total_sessions(deployment) -> dict[str, int]:
    """HAProxy's count of requests/connections each replica has been given so far."""
    return {name: int(row["stot"]) for name, row in deployment.stats().items()}


def test_a_browser_stays_on_one_replica_and_its_upload_reaches_it(watched, deployment, tmp_path):
    before = total_sessions(deployment)
    tab = watched()
    page = tab.page
    kit.open_app(page, f"{deployment.url}/your-model?data=sleepstudy")
    mine = tab.cookie()
    assert mine in {"app1", "app2"}, f"no {dep.COOKIE} cookie from HAProxy: {tab.context.cookies()}"
    other = ({"app1", "app2"} - {mine}).pop()

    # Upload a small CSV with the page's uploader (a PUT to /_stcore/upload_file/<session>/...,
    # which only the replica holding the session accepts).
    csv = tmp_path / "pupils.csv"
    rows = ["score,week,pupil"] + [f"{10 + p + 0.5 * w + (p * w) % 3 * 0.1:.2f},{w},P{p}"
                                   for p in range(6) for w in range(4)]
    csv.write_text("\n".join(rows) + "\n")

    def read_as_expected(page) -> None:
        page.get_by_text("pupils.csv").first.wait_for()
        assert "24 rows, 3 columns" in page.locator("[data-testid=stMain]").inner_text()

    kit.upload_csv(page, csv, before_use=read_as_expected)
    assert "pupils" in page.get_by_text("In use:").inner_text()
    assert kit.page_problems(page) == []
    page.screenshot(path=str(ARTIFACTS / "your-model-after-upload.png"))

    uploads = [(url, status, h.get("x-replica")) for method, url, status, h in tab.responses
               if method == "PUT" and "/_stcore/upload_file/" in url]
    assert uploads and all(200 <= status < 300 for _, status, _ in uploads), uploads
    assert {replica for *_, replica in uploads} == {mine}
    # The same upload sent straight to the other replica (with the browser's XSRF cookie and
    # token) is refused: it does not know the session. Stickiness is what makes uploads work.
    xsrf = next(c["value"] for c in tab.context.cookies() if c["name"] == "_streamlit_xsrf")
    elsewhere = uploads[0][0].replace(deployment.url, deployment.replica(other).base_url)
    refused = tab.context.request.put(elsewhere, headers={"X-Xsrftoken": xsrf}, multipart={
        "file": {"name": csv.name, "mimeType": "text/csv", "buffer": csv.read_bytes()}})
    assert refused.status == 400 and "Invalid session_id" in refused.text(), (refused.status, refused.text())
    # Every HTTP response and the WebSocket came from the replica the cookie names, and the
    # other replica was given nothing while this browser worked.
    assert tab.replicas_seen() == {mine}, [(m, u, h.get("x-replica")) for m, u, _, h in tab.responses]
    assert tab.sockets and {s.get("x-replica") for s in tab.sockets} == {mine}
    assert total_sessions(deployment)[other] == before[other]

    # The browser asked for compressed scripts and got the app's 1.6 MB Plotly bundle gzipped.
    plotly = [h for _, url, _, h in tab.responses if url.endswith("/app/static/plotly-shrinkage.min.js")]
    assert plotly and plotly[0].get("content-encoding") == "gzip", plotly[:1]


def test_static_scripts_are_gzipped_by_the_proxy(deployment):
    bundle = next(STREAMLIT_JS.glob("PlotlyChart.*.js"))
    path = f"/static/js/{bundle.name}"
    direct = deployment.replicas[0].base_url + path

    def get(url: str, encoding: str | None):
        request = urllib.request.Request(url, headers={"Accept-Encoding": encoding} if encoding else {})
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.headers, reply.read()

    headers, body = get(deployment.url + path, "gzip, deflate, br")
    assert headers.get("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in headers.get("Vary", "")
    assert gzip.decompress(body) == bundle.read_bytes()
    assert len(body) < 0.6 * bundle.stat().st_size
    # Only to browsers that ask for it; Streamlit itself sends the bundle uncompressed.
    headers, body = get(deployment.url + path, None)
    assert headers.get("Content-Encoding") is None and body == bundle.read_bytes()
    headers, _ = get(direct, "gzip")
    assert headers.get("Content-Encoding") is None


def test_every_replica_runs_with_the_deployment_secret(deployment):
    def environment(pid: int) -> dict[str, str]:
        raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        return dict(item.decode(errors="replace").split("=", 1) for item in raw if b"=" in item)

    secrets = {environment(r.process.pid).get(dep.SECRET_ENV) for r in deployment.replicas}
    assert secrets == {deployment.secret}
    assert deployment.secret not in deployment.config_path.read_text()


def partial_panels(page) -> int:
    names = page.evaluate("document.querySelectorAll('.js-plotly-plot')[0].data.map(t => t.name || '')")
    return sum("Partial pooling" in n for n in names)


def test_a_tab_survives_the_loss_and_restart_of_its_replica(watched, deployment):
    tab = watched()
    page = tab.page
    kit.open_app(page, f"{deployment.url}/?data=gpa")
    kit.press_and_time(page, "panels", "ArrowRight")
    assert partial_panels(page) == 13
    url = page.url
    lost = tab.cookie()
    survivor = ({r.name for r in deployment.replicas} - {lost}).pop()
    seen = len(tab.responses)

    states = page.evaluate("window.__connection.length")
    deployment.replica(lost).stop()
    # The tab notices, reconnects by itself, and HAProxy gives it to the other replica
    # (option redispatch), with a new cookie; the tab keeps its view and its URL.
    page.wait_for_function("(n) => window.__connection.slice(n).some(s => s !== 'CONNECTED')",
                           arg=states, timeout=30_000)
    page.wait_for_selector("[data-testid=stApp][data-test-connection-state=CONNECTED]",
                           state="attached", timeout=60_000)
    assert page.url == url
    assert kit.slider(page, "panels").input_value() == "13"
    assert partial_panels(page) == 13
    kit.press_and_time(page, "panels", "ArrowRight")  # a move runs on the survivor
    assert partial_panels(page) == 14
    assert tab.cookie() == survivor
    assert tab.sockets[-1].get("x-replica") == survivor
    assert kit.page_problems(page) == []

    # The lost replica comes back on its port; once its health check passes, HAProxy sends
    # it new students again, while the tab stays where its cookie says.
    deployment.restart_replica(lost)
    kit.press_and_time(page, "panels", "ArrowLeft")
    assert partial_panels(page) == 13
    # Since the loss, only the survivor answered this tab (None: HAProxy's own error replies).
    assert tab.cookie() == survivor and tab.replicas_seen(seen) - {None} == {survivor}
    # A new student's first request (leastconn: the survivor holds the tab's WebSocket, the
    # restarted replica none) goes to the restarted replica, and the cookie keeps them there.
    with urllib.request.urlopen(f"{deployment.url}/?data=gpa", timeout=30) as reply:
        assert reply.headers.get(dep.REPLICA_HEADER) == lost
        assert f"{dep.COOKIE}={lost};" in reply.headers.get("Set-Cookie", "")
