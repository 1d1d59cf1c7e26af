"""Every page with every data set opens in a real browser without an exception or error box."""
import pytest

from benchmarks import browser_kit as kit

from e2e_setup import DATASETS, PAGES


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize("path", list(PAGES))
def test_page_opens_cleanly(app, server, screenshot, path, data):
    kit.open_app(app, server.url(path, data=data))
    screenshot(app, f"{path or 'three-ways'}__{data}")
    assert kit.page_problems(app) == []
    # The page has a title, and the sidebar chooser kept the data set from the URL.
    assert app.locator('[data-testid="stMain"] h1').count() >= 1
    assert app.locator(".st-key-data input").input_value() == data
    for chart in app.locator('[data-testid="stPlotlyChart"]').all():
        if chart.is_visible():
            assert chart.locator(".js-plotly-plot .main-svg").count() >= 1, "a figure was not drawn"


def test_the_landing_page_opens_under_its_own_name_too(app, server):
    """/three-ways, the landing page's name, shows it with every parameter of the link (Streamlit
    serves its default page only at "/"; this link showed "Page not found")."""
    kit.open_app(app, server.url("three-ways", data="gpa", centred="true"))
    app.get_by_role("heading", name="Three ways to pool").first.wait_for()
    assert app.get_by_text("Page not found").count() == 0
    assert kit.page_problems(app) == []
    assert app.locator(".st-key-data input").input_value() == "gpa"
    assert app.locator(".st-key-centred input").is_checked()
    assert "data=gpa" in app.evaluate("location.search") and "centred=true" in app.evaluate("location.search")
