"""The server restarts in the middle of a lecture: open tabs reconnect and keep their view."""
from benchmarks import browser_kit as kit


def partial_panels(page) -> int:
    names = page.evaluate("document.querySelectorAll('.js-plotly-plot')[0].data.map(t => t.name || '')")
    return sum("Partial pooling" in n for n in names)


def restart_under(page, server, log_path):
    """Stop ``server`` under the open tab, wait until the tab has noticed, start a new server on the
    same port and wait until the tab has reconnected to it by itself; returns the new server."""
    server.stop()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stApp]')"
        ".getAttribute('data-test-connection-state') !== 'CONNECTED'", timeout=30_000)
    again = kit.StreamlitServer(port=server.port, log_path=log_path).start()
    try:
        page.wait_for_selector("[data-testid=stApp][data-test-connection-state=CONNECTED]",
                               state="attached", timeout=60_000)
    except BaseException:
        again.stop()
        raise
    return again


def test_a_tab_reconnects_after_a_server_restart(fresh_app, server, tmp_path):
    # A server of its own: restarting the shared one would disturb the other tests.
    own = kit.StreamlitServer(log_path=tmp_path / "streamlit.log").start()
    try:
        page = fresh_app()
        kit.open_app(page, own.url("", data="gpa"))
        kit.press_and_time(page, "panels", "ArrowRight")
        assert partial_panels(page) == 13

        again = restart_under(page, own, tmp_path / "streamlit-again.log")
        try:
            # The tab found the new server by itself and kept what the student saw; the
            # next move runs on the new server with the tab's widget values.
            assert kit.slider(page, "panels").input_value() == "13"
            assert partial_panels(page) == 13
            kit.press_and_time(page, "panels", "ArrowRight")
            assert partial_panels(page) == 14
            assert kit.page_problems(page) == []
        finally:
            again.stop()
    finally:
        own.stop()


def first_figure(page) -> str:
    return page.evaluate("JSON.stringify(document.querySelectorAll('.js-plotly-plot')[0].data.map(t => [t.x, t.y]))")


def move_and_wait(page, before: str, key: str = "ArrowRight", timeout_ms: int = 60_000) -> str:
    """Move the lab's per-group slider one step; wait until the first figure shows other data."""
    kit.slider(page, "per_group").focus()
    page.keyboard.press(key)
    page.wait_for_function(
        "(before) => { const f = document.querySelectorAll('.js-plotly-plot')[0];"
        " return !!f && !!f.data && JSON.stringify(f.data.map(t => [t.x, t.y])) !== before; }",
        arg=before, timeout=timeout_ms, polling=100)
    return first_figure(page)


def test_the_lab_fragment_keeps_working_after_a_server_restart(fresh_app, tmp_path):
    """The lab's controls and figures are a fragment. A tab from before a restart sends fragment
    reruns the new session does not know (Streamlit drops them: "The fragment with id ... does not
    exist anymore"); app_shell.restart runs the whole page instead, so the figure follows."""
    own = kit.StreamlitServer(log_path=tmp_path / "lab.log").start()
    try:
        page = fresh_app()
        kit.open_app(page, own.url("lab"))
        kit.press_and_time(page, "per_group", "ArrowRight")
        before = first_figure(page)

        again = restart_under(page, own, tmp_path / "lab-again.log")
        try:
            after = move_and_wait(page, before)  # times out if the rerun is dropped
            assert after != before, "the figure did not follow the slider after the restart"
            move_and_wait(page, after, "ArrowLeft")  # and the next move is an ordinary fragment run
            assert kit.page_problems(page) == []
            assert "does not exist anymore" not in again.log_tail(20_000)
        finally:
            again.stop()
    finally:
        own.stop()


def test_lost_uploaded_data_are_announced_after_a_restart(fresh_app, server):
    """A tab whose URL names uploaded data that the server no longer has says so plainly."""
    page = fresh_app()
    kit.open_app(page, server.url("three-ways", data="Your data: mine.csv"))
    text = page.locator('[data-testid="stAlert"]').all_inner_texts()
    assert any("not on the server any more" in t and "Upload the file again" in t for t in text), text


def test_a_closed_tabs_upload_leaves_the_server(browser, tmp_path):
    """A closed tab's session, its uploaded file and the data in its state are gone from the server
    soon after server.disconnectedSessionTTL (app_shell.closed_tabs), without another tab coming by.
    Here with a TTL of 5 s and reaping every 2 s; the probe inside the server (benchmarks/closed_tab.py)
    counts the uploads still alive. The time it took is printed (run with -s), not asserted."""
    import time

    from benchmarks import closed_tab

    csv = closed_tab.write_csv(tmp_path / "pupils.csv", 2_000)
    with closed_tab.ProbedServer(tmp_path, ttl=5, env={"SHRINKAGE_LAB_REAP_SECONDS": "2"}) as server:
        context = browser.new_context(viewport=kit.VIEWPORT)
        kit.prepare_context(context)
        page = context.new_page()
        page.set_default_timeout(kit.RUN_TIMEOUT_MS)
        closed_tab.upload_and_use(page, server.url, csv)
        deadline = time.monotonic() + 30
        while server.last().get("uploads_alive") != 1 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert server.last().get("uploads_alive") == 1 and server.last().get("files_kb", 0) > 0, server.last()
        context.close()
        closed, deadline = time.monotonic(), time.monotonic() + 120
        while time.monotonic() < deadline:
            now = server.last()
            if now.get("uploads_alive") == 0 and now.get("files_kb") == 0 and now.get("stored") == 0:
                break
            time.sleep(0.5)
        print(f"\n{time.monotonic() - closed:.1f} s after the tab closed (TTL 5 s, reaping every 2 s): "
              f"{server.last()}")
        assert now.get("uploads_alive") == 0 and now.get("files_kb") == 0, now
        assert now.get("active") == 0 and now.get("stored") == 0, now
