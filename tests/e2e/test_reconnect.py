"""The server restarts in the middle of a lecture: open tabs reconnect and keep their view."""
from benchmarks import browser_kit as kit


def partial_panels(page) -> int:
    names = page.evaluate("document.querySelectorAll('.js-plotly-plot')[0].data.map(t => t.name || '')")
    return sum("Partial pooling" in n for n in names)


def test_a_tab_reconnects_after_a_server_restart(fresh_app, server, tmp_path):
    # A server of its own: restarting the shared one would disturb the other tests.
    own = kit.StreamlitServer(log_path=tmp_path / "streamlit.log").start()
    try:
        page = fresh_app()
        kit.open_app(page, own.url("", data="gpa"))
        kit.press_and_time(page, "panels", "ArrowRight")
        assert partial_panels(page) == 13

        own.stop()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=stApp]')"
            ".getAttribute('data-test-connection-state') !== 'CONNECTED'", timeout=30_000)

        again = kit.StreamlitServer(port=own.port, log_path=tmp_path / "streamlit-again.log").start()
        try:
            # The tab finds the new server by itself and keeps what the student saw; the
            # next move runs on the new server with the tab's widget values.
            page.wait_for_selector("[data-testid=stApp][data-test-connection-state=CONNECTED]",
                                   state="attached", timeout=60_000)
            assert kit.slider(page, "panels").input_value() == "13"
            assert partial_panels(page) == 13
            kit.press_and_time(page, "panels", "ArrowRight")
            assert partial_panels(page) == 14
            assert kit.page_problems(page) == []
        finally:
            again.stop()
    finally:
        own.stop()
